package io.pgfleet.bench;

import io.pgfleet.bench.PgfleetClient.Node;
import io.pgfleet.bench.PgfleetClient.Spec;
import io.pgfleet.bench.PgfleetClient.User;
import io.pgfleet.testkit.PgfleetProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Wall time of {@code pgfleet db list} against a local server, each run a cold JVM: from starting the
 * process until it exited, output read. Three columns, interleaved run by run so a drift of the
 * machine weighs on all: the launcher as shipped ({@code bin/pgfleet}: C1 only, serial GC, a
 * class-data-sharing archive), the same jar under a plain {@code java -jar}, a bare {@code java -version}
 * (the floor any JVM tool pays on this machine), and the HTTP call alone from a warm client (the
 * server's share).
 */
public final class CliLatencyBench {
    private static final String OS_USER = "postgres";

    static final String USAGE = """
            Usage: java -Dloader.main=io.pgfleet.bench.CliLatencyBench -jar bench/target/pgfleet-bench.jar [RUNS] [options]
              RUNS                 measured runs per column (default 10); the table shows their median
              --warmup N           runs first and not counted (default 2; the first writes the CDS archive)
              --databases N        databases created before measuring, so the list has rows (default 3)
              --api-port N         API port of the pgfleet server started here (default 3296)
              --port-range A-B     ports for the instances (default 7260-7279)
              --pgfleet PATH       the bin/pgfleet launcher (default: found from the current directory up)""";

    record Options(int runs, int warmup, int databases, int apiPort, String portRange, Path launcher) {}

    public static void main(String[] args) {
        Options options;
        try {
            options = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("bench: " + e.getMessage() + "\n" + USAGE);
            System.exit(2);
            return;
        }
        if (options == null) {
            System.out.println(USAGE);
            return;
        }
        Path top = LifecycleBench.createOpenDirectory(
                Path.of("/tmp", "pgfleet-bench-cli-" + Long.toString(System.currentTimeMillis(), 36)));
        PgfleetProcess server = null;
        int exit = 0;
        try {
            PgfleetClient client = new PgfleetClient(options.apiPort());
            server = LifecycleBench.startServer(
                    options.launcher(),
                    LifecycleBench.createOpenDirectory(top.resolve("home")),
                    options.apiPort(),
                    options.portRange(),
                    top.resolve("pgfleet-server.log"));
            client.useKey(LifecycleBench.readAdminKey(top.resolve("home")));
            home = top.resolve("home");
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < options.databases(); i++) {
                String id = "list-" + i;
                client.create(
                        id,
                        new Spec(
                                "app",
                                List.of(new Node("n1")),
                                List.of(new User("owner", "pw-" + id + "-x7Kq9", true))));
                ids.add(id);
            }
            System.out.print(measure(options, ids));
            for (String id : ids) {
                client.delete(id);
            }
        } catch (RuntimeException e) {
            System.err.println("bench: failed: " + e.getMessage());
            exit = 1;
        } finally {
            if (server != null) {
                server.close();
            }
            boolean clean = PostmasterSweep.stopAllUnder(top, OS_USER);
            if (exit == 0 && clean) {
                RawPostgres.deleteTree(top);
            } else {
                System.err.println("bench: kept " + top);
                exit = 1;
            }
        }
        System.exit(exit);
    }

    private static String measure(Options options, List<String> ids) {
        Path root = options.launcher().getParent().getParent();
        String url = "http://127.0.0.1:" + options.apiPort();
        Map<String, List<String>> commands = new LinkedHashMap<>();
        String java17 = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path java25 = java25();
        commands.put(
                java25 == null ? "bin/pgfleet db list" : "bin/pgfleet db list (Java 25, AOT cache)",
                List.of(options.launcher().toString(), "db", "list"));
        if (java25 != null) {
            // The launcher on the JDK that runs this bench (17): what a machine without Java 25 gets.
            commands.put(
                    "bin/pgfleet db list (JDK 17, CDS)",
                    List.of(
                            "env",
                            "PGFLEET_CLI_JAVA=" + java17,
                            options.launcher().toString(),
                            "db",
                            "list"));
        }
        commands.put(
                "java -jar pgfleet-cli.jar db list",
                List.of(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-jar",
                        root.resolve("cli/target/pgfleet-cli.jar").toString(),
                        "db",
                        "list"));
        // The floor: a JVM that starts and exits, no application; on a busy machine this moves too.
        commands.put(
                "java -version (JVM floor)",
                List.of(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-Xshare:auto",
                        "-version"));
        if (java25 != null) {
            commands.put("java 25 -version (JVM floor)", List.of(java25.toString(), "-Xshare:auto", "-version"));
            // The floor of the launcher's own JVM: the flags bin/pgfleet gives the client, no application.
            commands.put(
                    "java 25 -version, launcher's flags",
                    List.of(
                            java25.toString(),
                            "-XX:TieredStopAtLevel=1",
                            "-XX:+UseSerialGC",
                            "-XX:-UsePerfData",
                            "-Xshare:auto",
                            "-version"));
        }
        String loadAverage = loadAverage();
        Map<String, List<Long>> samples = new LinkedHashMap<>();
        commands.keySet().forEach(k -> samples.put(k, new ArrayList<>()));
        samples.put("GET /v1/databases (warm HttpClient)", new ArrayList<>());
        HttpClient http =
                HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        for (int i = 0; i < options.warmup() + options.runs(); i++) {
            boolean counted = i >= options.warmup();
            StringBuilder line = new StringBuilder();
            for (Map.Entry<String, List<String>> c : commands.entrySet()) {
                long nanos = run(c.getValue(), url, c.getKey().contains("-version") ? List.of() : ids);
                line.append(String.format(Locale.ROOT, "  %s %.0f ms", c.getKey(), nanos / 1e6));
                if (counted) {
                    samples.get(c.getKey()).add(nanos);
                }
            }
            long http0 = System.nanoTime();
            get(http, url + "/v1/databases");
            long httpNanos = System.nanoTime() - http0;
            if (counted) {
                samples.get("GET /v1/databases (warm HttpClient)").add(httpNanos);
            }
            System.err.printf(
                    "bench: run %d/%d%s%s%n",
                    i + 1, options.warmup() + options.runs(), counted ? "" : " (warm-up)", line);
        }
        StringBuilder out = new StringBuilder(String.format(
                Locale.ROOT,
                "%n`pgfleet db list` with %d databases, cold JVM per run, %d runs per row (%d warm-up not counted);"
                        + " wall time in ms;%nload average %s at the start, %s at the end%n%n%-40s %8s %8s %8s%n",
                ids.size(),
                options.runs(),
                options.warmup(),
                loadAverage,
                loadAverage(),
                "command",
                "median",
                "min",
                "max"));
        for (Map.Entry<String, List<Long>> s : samples.entrySet()) {
            List<Long> sorted = new ArrayList<>(s.getValue());
            sorted.sort(null);
            out.append(String.format(
                    Locale.ROOT,
                    "%-40s %8.0f %8.0f %8.0f%n",
                    s.getKey(),
                    median(sorted) / 1e6,
                    sorted.get(0) / 1e6,
                    sorted.get(sorted.size() - 1) / 1e6));
        }
        return out.toString();
    }

    private static Path home;

    /** The 1, 5 and 15 minute load averages: start-up is CPU-bound, so every row moves with them. */
    private static String loadAverage() {
        try {
            String[] fields =
                    java.nio.file.Files.readString(Path.of("/proc/loadavg")).split(" ");
            return fields[0] + " " + fields[1] + " " + fields[2];
        } catch (IOException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }

    /** A JDK 25 or newer under /usr/lib/jvm, as bin/pgfleet looks for one; null when there is none. */
    private static Path java25() {
        try (var dirs = java.nio.file.Files.list(Path.of("/usr/lib/jvm"))) {
            for (Path dir : dirs.sorted().toList()) {
                Path release = dir.resolve("release");
                Path binary = dir.resolve("bin/java");
                if (java.nio.file.Files.isRegularFile(release)
                        && java.nio.file.Files.isExecutable(binary)
                        && java.nio.file.Files.readString(release)
                                .matches("(?s).*\\nJAVA_VERSION=\"(2[5-9]|[3-9][0-9]).*")) {
                    return binary;
                }
            }
        } catch (IOException e) {
            return null; // no /usr/lib/jvm: the rows for Java 25 are left out
        }
        return null;
    }

    /** Runs one command to its end and returns its wall time; a wrong exit or output fails the bench. */
    private static long run(List<String> command, String url, List<String> ids) {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("PGFLEET_SERVER", url);
        // The CLI finds the local server's admin key there, as it does for a user on this machine.
        builder.environment().put("PGFLEET_HOME", home.toString());
        long started = System.nanoTime();
        try {
            Process p = builder.start();
            p.getOutputStream().close();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", command) + " did not end within 60 s");
            }
            long nanos = System.nanoTime() - started;
            if (p.exitValue() != 0 || !ids.stream().allMatch(output::contains)) {
                throw new IllegalStateException(
                        String.join(" ", command) + " exited with " + p.exitValue() + " and printed:\n" + output);
            }
            return nanos;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command.get(0), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static void get(HttpClient http, String url) {
        try {
            HttpResponse<String> r = http.send(
                    HttpRequest.newBuilder(URI.create(url))
                            .header("Authorization", "Bearer " + LifecycleBench.readAdminKey(home))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new IllegalStateException("GET " + url + " answered " + r.statusCode());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static double median(List<Long> sorted) {
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2.0;
    }

    private static Options parse(String[] args) {
        int runs = 10;
        int warmup = 2;
        int databases = 3;
        int apiPort = 3296;
        String portRange = "7260-7279";
        Path launcher = null;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            switch (arg) {
                case "--warmup" -> warmup = LifecycleBench.number(arg, LifecycleBench.value(args, ++i, arg), 0);
                case "--databases" -> databases = LifecycleBench.number(arg, LifecycleBench.value(args, ++i, arg), 0);
                case "--api-port" -> apiPort = LifecycleBench.number(arg, LifecycleBench.value(args, ++i, arg), 1);
                case "--port-range" -> portRange = LifecycleBench.value(args, ++i, arg);
                case "--pgfleet" ->
                    launcher = Path.of(LifecycleBench.value(args, ++i, arg)).toAbsolutePath();
                case "-h", "--help" -> {
                    return null;
                }
                default -> {
                    if (arg.startsWith("-")) {
                        throw new IllegalArgumentException("unknown option " + arg);
                    }
                    runs = LifecycleBench.number("RUNS", arg, 1);
                }
            }
        }
        if (launcher == null) {
            launcher = LifecycleBench.findLauncher();
        }
        return new Options(runs, warmup, databases, apiPort, portRange, launcher);
    }
}
