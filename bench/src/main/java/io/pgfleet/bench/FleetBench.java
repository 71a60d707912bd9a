package io.pgfleet.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A fleet of three pgfleet hosts on one machine (loopback aliases 127.0.0.1-3, one catalog from
 * Debian's PostgreSQL 15), measured: a 3-node create spread over 3 hosts against the same on one host,
 * API latency, host-loss detection (SIGSTOP) and return (SIGCONT), and the idle CPU of a host with
 * many instances beside one with none. Run with {@code -Dloader.main=io.pgfleet.bench.FleetBench}.
 */
public final class FleetBench {
    private static final Path PG = Path.of("/usr/lib/postgresql/15/bin");
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final String PW = "fleet-bench-pw-0123456789";

    record Host(Process process, String base) {}

    public static void main(String[] args) throws Exception {
        int rounds = 5;
        int idleInstances = 30;
        int idleSeconds = 30;
        int portBase = 8600;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--rounds" ->
                    rounds = LifecycleBench.number("--rounds", LifecycleBench.value(args, ++i, "--rounds"), 1);
                case "--idle-instances" ->
                    idleInstances = LifecycleBench.number(
                            "--idle-instances", LifecycleBench.value(args, ++i, "--idle-instances"), 0);
                case "--idle-seconds" ->
                    idleSeconds = LifecycleBench.number(
                            "--idle-seconds", LifecycleBench.value(args, ++i, "--idle-seconds"), 5);
                case "--port-base" ->
                    portBase =
                            LifecycleBench.number("--port-base", LifecycleBench.value(args, ++i, "--port-base"), 1024);
                default ->
                    throw new IllegalArgumentException("unknown option " + args[i]
                            + "; use --rounds N --idle-instances N --idle-seconds N --port-base N");
            }
        }
        Path launcher = LifecycleBench.findLauncher();
        // Short: each instance's Unix socket path must fit in 107 bytes.
        Path dir = LifecycleBench.createOpenDirectory(
                Path.of("/tmp/pgffb-" + Long.toString(System.nanoTime() % 1_000_000, 36)));
        List<Host> hosts = new ArrayList<>();
        int catalogPort = portBase + 399;
        try {
            startCatalog(dir, catalogPort);
            for (int i = 1; i <= 3; i++) {
                if (i > 1) {
                    shareSecrets(dir.resolve("h1"), dir.resolve("h" + i));
                }
                hosts.add(startHost(launcher, dir, i, portBase, catalogPort));
            }
            String key = LifecycleBench.readAdminKey(dir.resolve("h1"));
            Host h1 = hosts.get(0);
            System.err.println("fleet-bench: 3 hosts healthy; measuring");

            long[] spread = new long[rounds];
            long[] single = new long[rounds];
            for (int r = 0; r < rounds; r++) {
                spread[r] = createAndDelete(h1, key, "spread-" + r, "host-1", "host-2", "host-3");
                single[r] = createAndDelete(h1, key, "single-" + r, "host-1", "host-1", "host-1");
                System.err.printf("fleet-bench: round %d: 3 hosts %d ms, 1 host %d ms%n", r + 1, spread[r], single[r]);
            }

            create(h1, key, "latency", "host-1", "host-2", "host-3");
            long[] getDb = new long[200];
            long[] getHosts = new long[200];
            for (int i = 0; i < getDb.length; i++) {
                getDb[i] = timed(() -> call(hosts.get(1), key, "GET", "/v1/databases/latency", null));
                getHosts[i] = timed(() -> call(hosts.get(2), key, "GET", "/v1/hosts", null));
            }
            System.err.println("fleet-bench: API latency measured");

            long lossMs = 0;
            long backMs = 0;
            Host h3 = hosts.get(2);
            signal(h3.process(), "STOP");
            long frozen = System.nanoTime();
            try {
                awaitHostState(h1, key, "host-3", "unreachable", 30);
                lossMs = (System.nanoTime() - frozen) / 1_000_000;
            } finally {
                signal(h3.process(), "CONT");
            }
            long thawed = System.nanoTime();
            awaitHostState(h1, key, "host-3", "healthy", 30);
            awaitInstanceState(h1, key, "latency", "n3", "available", 30);
            backMs = (System.nanoTime() - thawed) / 1_000_000;
            System.err.printf("fleet-bench: host-3 lost in %d ms, back in %d ms%n", lossMs, backMs);
            awaitTask(h1, key, "latency", call(h1, key, "DELETE", "/v1/databases/latency", null));

            for (int i = 0; i < idleInstances; i++) {
                create(h1, key, "idle-" + i, "host-2");
                System.err.printf("fleet-bench: idle instance %d of %d on host-2%n", i + 1, idleInstances);
            }
            Thread.sleep(5000); // let the creates' aftermath settle
            long cpuBusy = cpuTicks(hosts.get(1).process().pid());
            long cpuIdle = cpuTicks(hosts.get(2).process().pid());
            Thread.sleep(idleSeconds * 1000L);
            double busyPct = (cpuTicks(hosts.get(1).process().pid()) - cpuBusy) / (idleSeconds * 100.0) * 100;
            double idlePct = (cpuTicks(hosts.get(2).process().pid()) - cpuIdle) / (idleSeconds * 100.0) * 100;

            Arrays.sort(spread);
            Arrays.sort(single);
            Arrays.sort(getDb);
            Arrays.sort(getHosts);
            System.out.println("pgfleet fleet bench: 3 hosts on one machine ("
                    + Runtime.getRuntime().availableProcessors() + " cores), catalog PostgreSQL 15");
            System.out.printf(
                    "  3-node create, one node per host (3 hosts):  p50 %5d ms  max %5d ms  (%d rounds)%n",
                    spread[rounds / 2], spread[rounds - 1], rounds);
            System.out.printf(
                    "  3-node create, all nodes on host-1:          p50 %5d ms  max %5d ms%n",
                    single[rounds / 2], single[rounds - 1]);
            System.out.printf(
                    "  GET /v1/databases/{id} on host-2:            p50 %5.1f ms  p95 %5.1f ms%n",
                    getDb[getDb.length / 2] / 1e6, getDb[getDb.length * 95 / 100] / 1e6);
            System.out.printf(
                    "  GET /v1/hosts on host-3:                     p50 %5.1f ms  p95 %5.1f ms%n",
                    getHosts[getHosts.length / 2] / 1e6, getHosts[getHosts.length * 95 / 100] / 1e6);
            System.out.printf("  host-3 SIGSTOP -> unreachable (timeout 5 s):      %5d ms%n", lossMs);
            System.out.printf("  host-3 SIGCONT -> healthy, its instance available: %5d ms%n", backMs);
            System.out.printf(
                    "  idle CPU of host-2 with %d instances:  %.1f %% of a core (over %d s)%n",
                    idleInstances, busyPct, idleSeconds);
            System.out.printf(
                    "  idle CPU of host-3 with no instance:  %.1f %% of a core (heartbeats, lease, LISTEN)%n", idlePct);
        } finally {
            for (Host host : hosts) {
                signal(host.process(), "CONT");
                host.process().destroy();
                if (!host.process().waitFor(60, TimeUnit.SECONDS)) {
                    host.process().destroyForcibly();
                }
            }
            for (int i = 1; i <= 3; i++) {
                stopPostmasters(dir.resolve("h" + i).resolve("instances"));
            }
            stopCatalog(dir);
            System.err.println("fleet-bench: left " + dir + " (logs, homes); remove it when done");
        }
    }

    static Host startHost(Path launcher, Path dir, int i, int portBase, int catalogPort) throws Exception {
        String address = "127.0.0." + i;
        int apiPort = portBase + 300 + i;
        List<String> command = List.of(
                launcher.toString(),
                "server",
                "--home",
                dir.resolve("h" + i).toString(),
                "--host-id",
                "host-" + i,
                "--bind",
                address,
                "--port",
                Integer.toString(apiPort),
                "--advertise-host",
                address,
                "--listen-addresses",
                address,
                "--port-range",
                portBase + "-" + (portBase + 199),
                "--pg-bin-dir",
                PG.toString(),
                "--catalog-url",
                "jdbc:postgresql://127.0.0.1:" + catalogPort + "/postgres",
                "--catalog-user",
                "pgfleet");
        Process process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("h" + i + ".log").toFile())
                .start();
        Host host = new Host(process, "http://" + address + ":" + apiPort);
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
        while (true) {
            if (!process.isAlive()) {
                throw new IllegalStateException("host-" + i + " exited; see " + dir.resolve("h" + i + ".log"));
            }
            try {
                if (HTTP.send(
                                        HttpRequest.newBuilder(URI.create(host.base() + "/v1/health"))
                                                .build(),
                                        HttpResponse.BodyHandlers.discarding())
                                .statusCode()
                        == 200) {
                    return host;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("host-" + i + " not healthy after 10 min");
            }
            Thread.sleep(200);
        }
    }

    static void shareSecrets(Path from, Path to) throws IOException {
        Path secrets = Files.createDirectories(to.resolve("secrets"));
        Files.setPosixFilePermissions(secrets, PosixFilePermissions.fromString("rwx------"));
        for (String file : List.of("secret.key", "admin.key")) {
            Files.copy(
                    from.resolve("secrets").resolve(file), secrets.resolve(file), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static long createAndDelete(Host api, String key, String id, String... hostIds) throws Exception {
        long started = System.nanoTime();
        create(api, key, id, hostIds);
        long ms = (System.nanoTime() - started) / 1_000_000;
        awaitTask(api, key, id, call(api, key, "DELETE", "/v1/databases/" + id, null));
        return ms;
    }

    private static void create(Host api, String key, String id, String... hostIds) throws Exception {
        StringBuilder nodes = new StringBuilder();
        for (int i = 0; i < hostIds.length; i++) {
            nodes.append(i == 0 ? "" : ",")
                    .append("{\"name\":\"n")
                    .append(i + 1)
                    .append("\",\"host_ids\":[\"")
                    .append(hostIds[i])
                    .append("\"]}");
        }
        String body = "{\"id\":\"" + id + "\",\"spec\":{\"database_name\":\"app\",\"nodes\":[" + nodes
                + "],\"database_users\":[{\"username\":\"owner\",\"password\":\"" + PW + "\",\"db_owner\":true}]}}";
        awaitTask(api, key, id, call(api, key, "POST", "/v1/databases", body));
    }

    static void awaitTask(Host api, String key, String id, JsonNode accepted) throws Exception {
        String taskId = accepted.path("task").path("task_id").asString();
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        while (System.nanoTime() < deadline) {
            String status = call(api, key, "GET", "/v1/databases/" + id + "/tasks/" + taskId, null)
                    .path("status")
                    .asString();
            if (status.equals("completed")) {
                return;
            }
            if (status.equals("failed") || status.equals("canceled")) {
                throw new IllegalStateException("task " + taskId + " of " + id + " " + status);
            }
            Thread.sleep(10);
        }
        throw new IllegalStateException("task " + taskId + " of " + id + " not done after 5 min");
    }

    private static void awaitHostState(Host api, String key, String hostId, String state, int seconds)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!call(api, key, "GET", "/v1/hosts/" + hostId, null)
                .path("state")
                .asString()
                .equals(state)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(hostId + " not " + state + " after " + seconds + " s");
            }
            Thread.sleep(50);
        }
    }

    private static void awaitInstanceState(Host api, String key, String id, String node, String state, int seconds)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (true) {
            for (JsonNode i : call(api, key, "GET", "/v1/databases/" + id, null).path("instances")) {
                if (i.path("node_name").asString().equals(node)
                        && i.path("state").asString().equals(state)) {
                    return;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(node + " of " + id + " not " + state + " after " + seconds + " s");
            }
            Thread.sleep(50);
        }
    }

    static JsonNode call(Host host, String key, String method, String path, String body) {
        try {
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(host.base() + path))
                    .timeout(Duration.ofSeconds(30))
                    .header("Authorization", "Bearer " + key)
                    .header("Content-Type", "application/json")
                    .method(
                            method,
                            body == null
                                    ? HttpRequest.BodyPublishers.noBody()
                                    : HttpRequest.BodyPublishers.ofString(body));
            HttpResponse<String> response = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() >= 300) {
                throw new IllegalStateException(
                        method + " " + path + ": HTTP " + response.statusCode() + " " + response.body());
            }
            return JSON.readTree(response.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private interface Call {
        void run() throws Exception;
    }

    private static long timed(Call call) throws Exception {
        long started = System.nanoTime();
        call.run();
        return System.nanoTime() - started;
    }

    /** utime + stime of a process in clock ticks (USER_HZ, 100 a second on Linux). */
    private static long cpuTicks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    }

    static void signal(Process process, String name) {
        if (!process.isAlive()) {
            return;
        }
        try {
            new ProcessBuilder("kill", "-" + name, Long.toString(process.pid()))
                    .start()
                    .waitFor();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static void startCatalog(Path dir, int port) throws Exception {
        Path cat = dir.resolve("catalog");
        asPostgres("install", "-d", "-o", postgresUser(), cat.toString());
        asPostgres(
                PG.resolve("initdb").toString(),
                "-D",
                cat.resolve("data").toString(),
                "-U",
                "pgfleet",
                "--auth=trust",
                "--no-sync");
        asPostgres(
                PG.resolve("pg_ctl").toString(),
                "-D",
                cat.resolve("data").toString(),
                "-l",
                cat.resolve("catalog.log").toString(),
                "-o",
                "-p " + port + " -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c max_connections=200",
                "-w",
                "start");
    }

    static void stopCatalog(Path dir) throws Exception {
        Path data = dir.resolve("catalog/data");
        if (Files.exists(data.resolve("postmaster.pid"))) {
            asPostgres(PG.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", "fast", "-w", "stop");
        }
    }

    /** Stops what still runs in the homes' data directories (by directory, with its own pg_ctl). */
    static void stopPostmasters(Path instances) throws Exception {
        if (!Files.isDirectory(instances)) {
            return;
        }
        try (var dirs = Files.list(instances)) {
            for (Path data : dirs.map(d -> d.resolve("data")).toList()) {
                if (Files.exists(data.resolve("postmaster.pid"))) {
                    asPostgres(PG.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", "immediate", "-w", "stop");
                }
            }
        }
    }

    private static String postgresUser() {
        return isRoot() ? "postgres" : System.getProperty("user.name");
    }

    private static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    private static void asPostgres(String... command) throws Exception {
        List<String> full = new ArrayList<>();
        if (isRoot() && !command[0].equals("install")) {
            full.addAll(List.of("setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"));
        }
        full.addAll(List.of(command));
        Process p = new ProcessBuilder(full).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", full) + " failed: " + out);
        }
    }
}
