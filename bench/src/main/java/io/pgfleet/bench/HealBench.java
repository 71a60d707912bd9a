package io.pgfleet.bench;

import io.pgfleet.testkit.PgfleetProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * Self-healing, timed from outside through the REST API (polled every 5 ms):
 * <ul>
 *   <li>SIGKILL of a postmaster → its instance {@code failed} → {@code available} again (restart
 *       policy {@code always}, first backoff 1 s), over {@code kills} databases;
 *   <li>SIGKILL of pgfleet with 50 available instances, 5 of whose postmasters are also killed while
 *       it is down → pgfleet answers again → every database {@code available} with no task left
 *       pending or running (a converged catalog).
 * </ul>
 *
 * <p>Run: {@code java -jar bench/target/pgfleet-bench.jar heal [kills]} (default 5).
 */
public final class HealBench {
    private static final int API_PORT = 3296;
    private static final int DATABASES = 50;
    private static final int KILLED_WHILE_DOWN = 5;

    private HealBench() {}

    public static void main(String[] args) {
        int kills = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        Path top = LifecycleBench.createOpenDirectory(
                Path.of("/tmp", "pgfleet-healbench-" + Long.toString(System.currentTimeMillis(), 36)));
        Path home = LifecycleBench.createOpenDirectory(top.resolve("home"));
        PgfleetClient client = new PgfleetClient(API_PORT);
        PgfleetProcess server = null;
        try {
            server = LifecycleBench.startServer(
                    LifecycleBench.findLauncher(), home, API_PORT, "7200-7299", top.resolve("server.log"));
            client.useKey(LifecycleBench.readAdminKey(home));
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < DATABASES; i++) {
                String id = "heal-%02d".formatted(i);
                client.postJson("/v1/databases", """
                        {"id": "%s", "spec": {"database_name": "app", "nodes": [{"name": "n1"}],
                         "database_users": [{"username": "owner", "db_owner": true}]}}""".formatted(id), 202);
                ids.add(id);
            }
            long createStart = System.nanoTime();
            awaitAll(client, ids, "available", 600);
            System.err.printf(
                    "bench: %d databases available after %d ms%n",
                    DATABASES, (System.nanoTime() - createStart) / 1_000_000);

            long[] toFailed = new long[kills];
            long[] toAvailable = new long[kills];
            for (int i = 0; i < kills; i++) {
                String id = ids.get(i);
                killPostmaster(home, instanceId(client, id));
                long killed = System.nanoTime();
                awaitState(client, id, s -> !s.equals("available"), 30);
                toFailed[i] = System.nanoTime() - killed;
                awaitState(client, id, s -> s.equals("available"), 120);
                toAvailable[i] = System.nanoTime() - killed;
                System.err.printf(
                        "bench: %s: failed after %d ms, available after %d ms%n",
                        id, toFailed[i] / 1_000_000, toAvailable[i] / 1_000_000);
            }

            // SIGKILL pgfleet (bin/pgfleet execs java, so the PID is the JVM's), then kill 5 postmasters.
            List<String> instances = new ArrayList<>();
            for (String id : ids) {
                instances.add(instanceId(client, id));
            }
            long pgfleetKilled = System.nanoTime();
            ProcessHandle.of(server.pid()).ifPresent(ProcessHandle::destroyForcibly);
            ProcessHandle.of(server.pid()).ifPresent(p -> p.onExit().join());
            for (int i = kills; i < kills + KILLED_WHILE_DOWN; i++) {
                killPostmaster(home, instances.get(i));
            }
            server = LifecycleBench.startServer(
                    LifecycleBench.findLauncher(), home, API_PORT, "7200-7299", top.resolve("server.log"));
            long healthy = System.nanoTime() - pgfleetKilled;
            awaitAll(client, ids, "available", 600);
            awaitNoActiveTasks(client);
            long converged = System.nanoTime() - pgfleetKilled;

            Arrays.sort(toFailed);
            Arrays.sort(toAvailable);
            System.out.printf("SIGKILL of a postmaster (%d databases, restart_policy always, ms):%n", kills);
            System.out.printf("%-34s %8s %8s%n", "", "p50", "max");
            System.out.printf("%-34s %8d %8d%n", "-> failed", p50(toFailed), max(toFailed));
            System.out.printf("%-34s %8d %8d%n", "-> available again", p50(toAvailable), max(toAvailable));
            System.out.printf(
                    "SIGKILL of pgfleet with %d instances (%d postmasters also killed meanwhile):%n",
                    DATABASES, KILLED_WHILE_DOWN);
            System.out.printf("%-34s %8d ms%n", "-> API answers again", healthy / 1_000_000);
            System.out.printf("%-34s %8d ms%n", "-> converged (all available)", converged / 1_000_000);
        } finally {
            if (server != null) {
                server.close();
            }
            if (!PostmasterSweep.stopAllUnder(top, "postgres")) {
                System.err.println("bench: some processes of the run survived; see above");
            }
            RawPostgres.deleteTree(top);
        }
    }

    private static String instanceId(PgfleetClient client, String id) {
        return client.getJson("/v1/databases/" + id)
                .path("instances")
                .get(0)
                .path("id")
                .asString();
    }

    private static void killPostmaster(Path home, String instanceId) {
        Path pidFile = home.resolve("instances").resolve(instanceId).resolve("data/postmaster.pid");
        try {
            long pid = Long.parseLong(Files.readAllLines(pidFile).get(0).trim());
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + pidFile, e);
        }
    }

    private static void awaitState(
            PgfleetClient client, String id, java.util.function.Predicate<String> done, int seconds) {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (true) {
            String state = client.getJson("/v1/databases/" + id)
                    .path("instances")
                    .get(0)
                    .path("state")
                    .asString();
            if (done.test(state)) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(id + ": still " + state + " after " + seconds + " s");
            }
            RawPostgres.sleep(5);
        }
    }

    private static void awaitAll(PgfleetClient client, List<String> ids, String state, int seconds) {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        for (String id : ids) {
            while (true) {
                JsonNode db = client.getJson("/v1/databases/" + id);
                if (db.path("state").asString().equals(state)) {
                    break;
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(id + ": " + db.path("state").asString() + ", not " + state);
                }
                RawPostgres.sleep(5);
            }
        }
    }

    /** None of the 100 newest tasks (the heals and resumed ones among them) is still pending or running. */
    private static void awaitNoActiveTasks(PgfleetClient client) {
        long deadline = System.nanoTime() + java.time.Duration.ofMinutes(5).toNanos();
        while (true) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("tasks still pending or running after 5 min");
            }
            boolean active = false;
            for (JsonNode task : client.getJson("/v1/tasks?limit=100").path("tasks")) {
                String status = task.path("status").asString();
                active |= status.equals("pending") || status.equals("running");
            }
            if (!active) {
                return;
            }
            RawPostgres.sleep(5);
        }
    }

    private static long p50(long[] sorted) {
        return sorted[(sorted.length - 1) / 2] / 1_000_000;
    }

    private static long max(long[] sorted) {
        return sorted[sorted.length - 1] / 1_000_000;
    }
}
