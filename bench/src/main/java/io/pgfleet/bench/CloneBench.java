package io.pgfleet.bench;

import io.pgfleet.bench.BenchFleet.Host;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;

/**
 * The copy of a database of about 1 GB three ways, on two pgfleet hosts of one machine (the fleet of
 * {@link FleetBench}, PostgreSQL 15 from Debian): a plain {@code cp -a} of the primary's data directory,
 * {@code pg_basebackup -X stream -c fast} (what pgfleet runs where the distribution has it), and
 * pgfleet's own low-level base backup streamed host to host (what it runs for the bundled versions),
 * timed through a node added with {@code source_node}. Run with
 * {@code -Dloader.main=io.pgfleet.bench.CloneBench}.
 */
public final class CloneBench {
    private static final String PW = "clone-bench-pw-0123456789";
    private static final Pattern COPIED = Pattern.compile("copied node n1 (.*?) in (\\d+) ms");

    public static void main(String[] args) throws Exception {
        long rows = 9_000_000;
        int portBase = 8200;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--rows" -> rows = LifecycleBench.number("--rows", LifecycleBench.value(args, ++i, "--rows"), 1);
                case "--port-base" ->
                    portBase =
                            LifecycleBench.number("--port-base", LifecycleBench.value(args, ++i, "--port-base"), 1024);
                default ->
                    throw new IllegalArgumentException("unknown option " + args[i] + "; use --rows N --port-base N");
            }
        }
        Path launcher = LifecycleBench.findLauncher();
        Path dir = LifecycleBench.createOpenDirectory(
                Path.of("/tmp/pgfcb-" + Long.toString(System.nanoTime() % 1_000_000, 36)));
        List<Host> hosts = new ArrayList<>();
        int catalogPort = portBase + 399;
        try {
            BenchFleet.startCatalog(dir, catalogPort);
            hosts.add(BenchFleet.startHost(launcher, null, dir, 1, portBase, catalogPort, List.of()));
            BenchFleet.shareSecrets(dir.resolve("h1"), dir.resolve("h2"));
            hosts.add(BenchFleet.startHost(launcher, null, dir, 2, portBase, catalogPort, List.of()));
            String key = LifecycleBench.readAdminKey(dir.resolve("h1"));
            Host h1 = hosts.get(0);
            String users = "\"database_users\": [{\"username\": \"owner\", \"password\": \"" + PW
                    + "\", \"db_owner\": true}, {\"username\": \"bench\", \"password\": \"" + PW
                    + "\", \"attributes\": [\"SUPERUSER\", \"LOGIN\"]}]";
            String n1 = "{\"name\": \"n1\", \"host_ids\": [\"host-1\", \"host-2\"]}";
            BenchFleet.awaitTask(
                    h1,
                    key,
                    "big",
                    BenchFleet.call(
                            h1,
                            key,
                            "POST",
                            "/v1/databases",
                            "{\"id\": \"big\", \"spec\": {\"database_name\": \"app\", \"postgres_version\": \"15\", "
                                    + users + ", \"nodes\": [" + n1 + "]}}"));
            JsonNode primary = null;
            for (JsonNode i :
                    BenchFleet.call(h1, key, "GET", "/v1/databases/big", null).path("instances")) {
                if (i.path("role").asString().equals("primary")) {
                    primary = i;
                }
            }
            int port = primary.path("port").asInt();
            Path data = dir.resolve("h1/instances")
                    .resolve(primary.path("id").asString())
                    .resolve("data");
            System.err.printf("clone-bench: loading %d rows into node n1 (port %d)%n", rows, port);
            try (Connection c = connect(port);
                    Statement st = c.createStatement()) {
                st.execute("CREATE TABLE big AS SELECT g AS id, md5(g::text) AS a, md5((g + 1)::text) AS b"
                        + " FROM generate_series(1, " + rows + ") g");
                st.execute("CHECKPOINT");
            }
            long dataBytes = sizeOf(data);
            long walBytes = sizeOf(data.resolve("pg_wal"));
            System.err.printf(
                    "clone-bench: data directory %d MiB, %d MiB of it WAL%n", dataBytes >> 20, walBytes >> 20);

            Path cpCopy = dir.resolve("cp-copy");
            long cpMs = timed(List.of("cp", "-a", data.toString(), cpCopy.toString()), null);
            RawPostgres.deleteTree(cpCopy);
            System.err.printf("clone-bench: cp -a %d ms%n", cpMs);

            // pg_basebackup connects as the reserved replication role, whose password only the catalog
            // holds: the bench sets one of its own (the node's replica stops streaming; it is a bench).
            try (Connection c = connect(port);
                    Statement st = c.createStatement()) {
                st.execute("ALTER ROLE pgfleet_replication PASSWORD '" + PW + "'");
            }
            Path basebackup = dir.resolve("pg_basebackup-copy");
            long pgbbMs = timed(
                    List.of(
                            "/usr/lib/postgresql/15/bin/pg_basebackup",
                            "-h",
                            "127.0.0.1",
                            "-p",
                            Integer.toString(port),
                            "-U",
                            "pgfleet_replication",
                            "-D",
                            basebackup.toString(),
                            "-X",
                            "stream",
                            "-c",
                            "fast",
                            "-w"),
                    PW);
            RawPostgres.deleteTree(basebackup);
            System.err.printf("clone-bench: pg_basebackup %d ms%n", pgbbMs);

            long started = System.nanoTime();
            JsonNode accepted = BenchFleet.call(
                    h1,
                    key,
                    "POST",
                    "/v1/databases/big",
                    "{\"spec\": {\"database_name\": \"app\", \"postgres_version\": \"15\", " + users + ", \"nodes\": ["
                            + n1 + ", {\"name\": \"n2\", \"host_ids\": [\"host-2\"], \"source_node\": \"n1\"}]}}");
            BenchFleet.awaitTask(h1, key, "big", accepted);
            long seedMs = (System.nanoTime() - started) / 1_000_000;
            String log = BenchFleet.call(
                            h1,
                            key,
                            "GET",
                            "/v1/databases/big/tasks/"
                                    + accepted.path("task").path("task_id").asString() + "/log",
                            null)
                    .toString();
            Matcher copied = COPIED.matcher(log);
            if (!copied.find()) {
                throw new IllegalStateException("the update's log names no copy: " + log);
            }
            long lowLevelMs = Long.parseLong(copied.group(2));

            System.out.printf(
                    "pgfleet clone bench: a %d MiB data directory (%d MiB without pg_wal; %d rows), PostgreSQL 15,"
                            + " 2 hosts on one machine (%d cores)%n",
                    dataBytes >> 20,
                    (dataBytes - walBytes) >> 20,
                    rows,
                    Runtime.getRuntime().availableProcessors());
            System.out.printf(
                    "  cp -a of the data directory, pg_wal included (hot, not a usable backup):  %6d ms%n", cpMs);
            System.out.printf("  pg_basebackup -X stream -c fast (local TCP):            %6d ms%n", pgbbMs);
            System.out.printf("  pgfleet low-level backup, host-1 -> host-2 over HTTP:   %6d ms%n", lowLevelMs);
            System.out.printf("    (%s)%n", copied.group(1));
            System.out.printf("  the whole source_node update (copy, replay, promote):   %6d ms%n", seedMs);
        } finally {
            for (Host host : hosts) {
                host.process().destroy();
                if (!host.process().waitFor(60, TimeUnit.SECONDS)) {
                    host.process().destroyForcibly();
                }
            }
            for (int i = 1; i <= 2; i++) {
                stopPostmasters(dir.resolve("h" + i).resolve("instances"));
            }
            BenchFleet.stopCatalog(dir);
            System.err.println("clone-bench: left " + dir + " (logs, homes); remove it when done");
        }
    }

    /**
     * SIGINT (fast shutdown) to each postmaster left in the homes, by the PID in its postmaster.pid: the
     * instances run as their tenant's OS user, whose directories only it (and root) may enter.
     */
    private static void stopPostmasters(Path instances) throws Exception {
        if (!Files.isDirectory(instances)) {
            return;
        }
        try (var dirs = Files.list(instances)) {
            for (Path pidFile : dirs.map(d -> d.resolve("data/postmaster.pid")).toList()) {
                if (Files.exists(pidFile)) {
                    long pid = Long.parseLong(Files.readAllLines(pidFile).get(0).trim());
                    ProcessHandle.of(pid).ifPresent(p -> {
                        try {
                            new ProcessBuilder("kill", "-INT", Long.toString(pid))
                                    .inheritIO()
                                    .start()
                                    .waitFor(10, TimeUnit.SECONDS);
                            p.onExit().get(60, TimeUnit.SECONDS);
                        } catch (Exception e) {
                            throw new IllegalStateException("stopping postmaster " + pid + ": " + e.getMessage(), e);
                        }
                    });
                }
            }
        }
    }

    private static Connection connect(int port) throws Exception {
        Properties props = new Properties();
        props.setProperty("user", "bench");
        props.setProperty("password", PW);
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/app", props);
    }

    private static long sizeOf(Path dir) throws Exception {
        try (var files = Files.walk(dir)) {
            long total = 0;
            for (Path p : files.filter(Files::isRegularFile).toList()) {
                total += Files.size(p);
            }
            return total;
        }
    }

    private static long timed(List<String> command, String password) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        if (password != null) {
            builder.environment().put("PGPASSWORD", password);
        }
        long started = System.nanoTime();
        Process p = builder.start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
        }
        return (System.nanoTime() - started) / 1_000_000;
    }
}
