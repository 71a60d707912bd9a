package io.pgfleet.bench;

import io.pgfleet.testkit.PgfleetProcess;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * What clients see of a restart, directly and through the pooler (errors, longest stall between two
 * answers), and how long a users-only update of a three-node database takes. Run from the repository
 * root: {@code java -cp bench/target/pgfleet-bench.jar -Dloader.main=io.pgfleet.bench.RestartBench
 * org.springframework.boot.loader.launch.PropertiesLauncher [restarts] [updates]}.
 */
public final class RestartBench {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static String base;

    public static void main(String[] args) throws Exception {
        int restarts = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        int updates = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "pgfleet-rbench-");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        try (PgfleetProcess server = LifecycleBench.startServer(
                Path.of("bin/pgfleet").toAbsolutePath(),
                dir.resolve("home"),
                3298,
                "7200-7299",
                dir.resolve("server.log"))) {
            base = "http://127.0.0.1:3298";
            adminKey = LifecycleBench.readAdminKey(dir.resolve("home"));
            await(post("/v1/databases", """
                    {"id": "rb", "spec": {"database_name": "web", "nodes": [{"name": "n1"}],
                     "database_users": [{"username": "web", "password": "web-pw-1", "db_owner": true}],
                     "pooler": {"enabled": true}}}"""), "rb");
            JsonNode instance = get("/v1/databases/rb").path("instances").get(0);
            System.out.println("| path | restarts | queries | errors | longest stall (ms) |");
            System.out.println("|---|---|---|---|---|");
            for (boolean pooled : new boolean[] {false, true}) {
                int port = instance.path(pooled ? "pooler_port" : "port").asInt();
                long[] r = restartsUnderLoad(port, restarts);
                System.out.printf(
                        "| %s | %d | %d | %d | %d |%n", pooled ? "pooled" : "direct", restarts, r[0], r[1], r[2]);
            }

            StringBuilder users =
                    new StringBuilder("{\"username\": \"owner\", \"password\": \"pw-owner-1\", \"db_owner\": true}");
            for (int i = 0; i < 8; i++) {
                users.append(", {\"username\": \"u").append(i).append("\"}");
            }
            String spec =
                    "{\"database_name\": \"three\", \"nodes\": [{\"name\": \"n1\"}, {\"name\": \"n2\"}, {\"name\": \"n3\"}],"
                            + " \"database_users\": [%s]}";
            await(post("/v1/databases", "{\"id\": \"u3\", \"spec\": " + spec.formatted(users) + "}"), "u3");
            List<Long> times = new ArrayList<>();
            for (int i = 0; i < updates; i++) {
                String changed = users + ", {\"username\": \"extra\", \"attributes\": [\""
                        + (i % 2 == 0 ? "CREATEDB" : "NOCREATEDB") + "\"]}";
                long start = System.nanoTime();
                await(post("/v1/databases/u3", "{\"spec\": " + spec.formatted(changed) + "}"), "u3");
                times.add((System.nanoTime() - start) / 1_000_000);
            }
            Collections.sort(times);
            System.out.printf(
                    "%nusers-only update of a 3-node database (9-10 users), %d runs: p50 %d ms, max %d ms%n",
                    updates, times.get(times.size() / 2), times.get(times.size() - 1));
            await(delete("/v1/databases/rb"), "rb");
            await(delete("/v1/databases/u3"), "u3");
        } finally {
            new ProcessBuilder("rm", "-rf", "--", dir.toString())
                    .inheritIO()
                    .start()
                    .waitFor();
        }
    }

    /** A client loops SELECT 1 (reconnecting after an error) while the instance restarts. */
    private static long[] restartsUnderLoad(int port, int restarts) throws Exception {
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong ok = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        AtomicLong longest = new AtomicLong();
        Thread client = new Thread(() -> {
            long lastOk = System.nanoTime();
            Connection c = null;
            while (running.get()) {
                try {
                    if (c == null) {
                        c = connect(port);
                    }
                    try (Statement st = c.createStatement()) {
                        st.execute("SELECT 1");
                    }
                    ok.incrementAndGet();
                    long now = System.nanoTime();
                    longest.accumulateAndGet(now - lastOk, Math::max);
                    lastOk = now;
                } catch (SQLException e) {
                    errors.incrementAndGet();
                    c = null;
                }
            }
        });
        client.start();
        Thread.sleep(500);
        for (int i = 0; i < restarts; i++) {
            await(post("/v1/databases/rb/instances/n1/restart", "{}"), "rb");
            Thread.sleep(300);
        }
        running.set(false);
        client.join();
        return new long[] {ok.get(), errors.get(), longest.get() / 1_000_000};
    }

    private static Connection connect(int port) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "web");
        p.setProperty("password", "web-pw-1");
        p.setProperty("prepareThreshold", "0");
        p.setProperty("connectTimeout", "2");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/web", p);
    }

    private static String adminKey;

    private static JsonNode send(HttpRequest.Builder request) throws Exception {
        request.header("Authorization", "Bearer " + adminKey);
        HttpResponse<String> response = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() >= 300) {
            throw new IllegalStateException(response.statusCode() + " " + response.body());
        }
        return JSON.readTree(response.body());
    }

    private static JsonNode get(String path) throws Exception {
        return send(HttpRequest.newBuilder(URI.create(base + path)));
    }

    private static JsonNode post(String path, String body) throws Exception {
        return send(HttpRequest.newBuilder(URI.create(base + path))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    private static JsonNode delete(String path) throws Exception {
        return send(HttpRequest.newBuilder(URI.create(base + path)).DELETE());
    }

    private static void await(JsonNode accepted, String db) throws Exception {
        String task = accepted.path("task").path("task_id").asString();
        long deadline = System.nanoTime() + java.time.Duration.ofMinutes(5).toNanos();
        while (true) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("task " + task + " of " + db + " not finished after 5 min");
            }
            JsonNode t = get("/v1/databases/" + db + "/tasks/" + task);
            String status = t.path("status").asString();
            if (status.equals("completed")) {
                return;
            }
            if (status.equals("failed") || status.equals("canceled")) {
                throw new IllegalStateException(
                        "task " + task + " " + status + ": " + t.path("error").asString());
            }
            Thread.sleep(5);
        }
    }
}
