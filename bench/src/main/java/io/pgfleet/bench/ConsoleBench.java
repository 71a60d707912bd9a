package io.pgfleet.bench;

import io.pgfleet.testkit.PgfleetProcess;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The web console with 1,000 databases in the catalog: what its first load transfers (the page and
 * every script and style it pulls in, followed through the ES module imports), and how fast the
 * requests of its fleet page and of a database page are answered, called with a session cookie as the
 * browser calls them. Each request p50/p99, and each page's requests one after the other (the browser
 * sends them in parallel, so that sum is an upper bound).
 *
 * <p>Run: {@code java -jar bench/target/pgfleet-bench.jar console [rounds]} (default 500).
 */
public final class ConsoleBench {
    private static final int DATABASES = 1000;
    private static final int API_PORT = 3291;
    private static final Pattern ASSET =
            Pattern.compile("(?:src|href)=\"([^\":]+\\.(?:js|css))\"|from '(\\./[^']+\\.js)'");

    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String base = "http://127.0.0.1:" + API_PORT;
    private String cookie;

    private ConsoleBench() {}

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 500;
        Path top = LifecycleBench.createOpenDirectory(
                Path.of("/tmp", "pgfleet-consolebench-" + Long.toString(System.currentTimeMillis(), 36)));
        Path home = LifecycleBench.createOpenDirectory(top.resolve("home"));
        try (PgfleetProcess server = LifecycleBench.startServer(
                LifecycleBench.findLauncher(), home, API_PORT, "7310-7319", top.resolve("server.log"))) {
            ApiLatencyBench.insertDatabases(home, DATABASES);
            new ConsoleBench().run(LifecycleBench.readAdminKey(home), rounds);
        } finally {
            RawPostgres.deleteTree(top);
        }
    }

    private void run(String key, int rounds) throws Exception {
        HttpResponse<String> login = http.send(
                HttpRequest.newBuilder(URI.create(base + "/v1/session"))
                        .header("Authorization", "Bearer " + key)
                        .POST(HttpRequest.BodyPublishers.noBody())
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        if (login.statusCode() != 201) {
            throw new IllegalStateException("login answered " + login.statusCode() + ": " + login.body());
        }
        cookie = login.headers().firstValue("Set-Cookie").orElseThrow().split(";", 2)[0];

        Map<String, Integer> assets = firstLoad();
        long totalBytes = assets.values().stream().mapToLong(Integer::longValue).sum();
        System.out.printf("first load of the console: %d files, %,d bytes (limit 300 KB)%n", assets.size(), totalBytes);
        assets.forEach((path, bytes) -> System.out.printf("  %-24s %,8d bytes%n", path, bytes));

        String db = "/v1/databases/db-0500";
        Map<String, List<String>> pages = new LinkedHashMap<>();
        pages.put("fleet page", List.of("/", "/v1/session", "/v1/hosts", "/v1/databases?limit=100"));
        pages.put(
                "database page",
                List.of(
                        "/v1/session",
                        db,
                        db + "/tasks?limit=20",
                        "/v1/events?limit=500&database_id=db-0500",
                        db + "/connection"));
        for (List<String> paths : pages.values()) { // warm-up
            for (int i = 0; i < Math.max(100, rounds / 5); i++) {
                for (String p : paths) {
                    get(p);
                }
            }
        }
        System.out.printf(
                "%n%d databases in the catalog, %d rounds, one client, sequential, with a session cookie%n",
                DATABASES, rounds);
        System.out.printf("%-52s %9s %9s%n", "request", "p50 ms", "p99 ms");
        for (Map.Entry<String, List<String>> page : pages.entrySet()) {
            List<String> paths = page.getValue();
            long[][] each = new long[paths.size()][rounds];
            long[] sum = new long[rounds];
            for (int r = 0; r < rounds; r++) {
                for (int i = 0; i < paths.size(); i++) {
                    each[i][r] = get(paths.get(i));
                    sum[r] += each[i][r];
                }
            }
            for (int i = 0; i < paths.size(); i++) {
                print("  GET " + paths.get(i), each[i]);
            }
            print(page.getKey() + ": all its requests, one after the other", sum);
        }
    }

    /** The page and what it loads, followed through {@code <script src>}, {@code <link href>} and imports. */
    private Map<String, Integer> firstLoad() throws Exception {
        Map<String, Integer> sizes = new LinkedHashMap<>();
        Deque<String> todo = new ArrayDeque<>(List.of("/"));
        while (!todo.isEmpty()) {
            String path = todo.removeFirst();
            if (sizes.containsKey(path)) {
                continue;
            }
            HttpResponse<byte[]> r = http.send(
                    HttpRequest.newBuilder(URI.create(base + path)).GET().build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            if (r.statusCode() != 200) {
                throw new IllegalStateException("GET " + path + " answered " + r.statusCode());
            }
            sizes.put(path, r.body().length);
            Matcher m = ASSET.matcher(new String(r.body(), java.nio.charset.StandardCharsets.UTF_8));
            String dir = path.substring(0, path.lastIndexOf('/') + 1);
            while (m.find()) {
                String ref = m.group(1) != null ? m.group(1) : m.group(2);
                todo.add(URI.create(dir).resolve(ref).getPath());
            }
        }
        return sizes;
    }

    private long get(String path) throws Exception {
        long start = System.nanoTime();
        HttpResponse<Void> r = http.send(
                HttpRequest.newBuilder(URI.create(base + path))
                        .header("Cookie", cookie)
                        .GET()
                        .build(),
                HttpResponse.BodyHandlers.discarding());
        long nanos = System.nanoTime() - start;
        if (r.statusCode() != 200) {
            throw new IllegalStateException("GET " + path + " answered " + r.statusCode());
        }
        return nanos;
    }

    private static void print(String name, long[] nanos) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        System.out.printf("%-52s %9.2f %9.2f%n", name, percentile(sorted, 50) / 1e6, percentile(sorted, 99) / 1e6);
    }

    private static double percentile(long[] sorted, double percent) {
        int rank = (int) Math.ceil(percent / 100.0 * sorted.length);
        return sorted[Math.max(0, rank - 1)];
    }
}
