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
import java.util.List;
import java.util.concurrent.TimeUnit;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * What the fleet benches share: a catalog from Debian's PostgreSQL 15 (as {@code postgres} when run as
 * root), pgfleet hosts on loopback aliases started through {@code bin/pgfleet server} or a copied server
 * jar ({@code --server-jar}, so a build during a long run cannot pull the classes from under it), API
 * calls, and clean-up of every process by PID or by data directory.
 */
final class BenchFleet {
    static final Path PG = Path.of("/usr/lib/postgresql/15/bin");
    static final JsonMapper JSON = JsonMapper.builder().build();
    static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    static final String PW = "fleet-bench-pw-0123456789";

    /** One pgfleet host: its JVM, API base URL, number (127.0.0.N) and home. */
    record Host(Process process, String base, int number, Path home) {}

    private BenchFleet() {}

    /**
     * Starts host N (host id {@code host-N}, address 127.0.0.N, API port PORT_BASE+300+N, instance ports
     * PORT_BASE..PORT_BASE+199) on the catalog; {@code extra} are more server flags.
     */
    static Host startHost(
            Path launcher, Path serverJar, Path dir, int i, int portBase, int catalogPort, List<String> extra)
            throws Exception {
        String address = "127.0.0." + i;
        int apiPort = portBase + 300 + i;
        List<String> command = new ArrayList<>();
        if (serverJar != null) {
            command.addAll(List.of("java", "-jar", serverJar.toString()));
        } else {
            command.addAll(List.of(launcher.toString(), "server"));
        }
        command.addAll(List.of(
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
                "pgfleet"));
        command.addAll(extra);
        Process process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(
                        dir.resolve("h" + i + ".log").toFile()))
                .start();
        Host host = new Host(process, "http://" + address + ":" + apiPort, i, dir.resolve("h" + i));
        awaitHealthy(host, dir.resolve("h" + i + ".log"), Duration.ofMinutes(10));
        return host;
    }

    static void awaitHealthy(Host host, Path log, Duration bound) throws InterruptedException {
        long deadline = System.nanoTime() + bound.toNanos();
        while (true) {
            if (!host.process().isAlive()) {
                throw new IllegalStateException("host-" + host.number() + " exited; see " + log);
            }
            try {
                if (HTTP.send(
                                        HttpRequest.newBuilder(URI.create(host.base() + "/v1/health"))
                                                .timeout(Duration.ofSeconds(5))
                                                .build(),
                                        HttpResponse.BodyHandlers.discarding())
                                .statusCode()
                        == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("host-" + host.number() + " not healthy after " + bound);
            }
            Thread.sleep(100);
        }
    }

    /** Copies the first host's {@code secret.key} and {@code admin.key}, as the README's fleet section does. */
    static void shareSecrets(Path from, Path to) throws IOException {
        Path secrets = Files.createDirectories(to.resolve("secrets"));
        Files.setPosixFilePermissions(secrets, PosixFilePermissions.fromString("rwx------"));
        for (String file : List.of("secret.key", "admin.key")) {
            Files.copy(
                    from.resolve("secrets").resolve(file), secrets.resolve(file), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Stops the hosts (SIGCONT first, then SIGTERM, SIGKILL after 60 s), their postmasters and the catalog. */
    static void stopAll(Path dir, List<Host> hosts, int hostDirs) throws Exception {
        for (Host host : hosts) {
            if (host == null) {
                continue;
            }
            signal(host.process(), "CONT");
            host.process().destroy();
            if (!host.process().waitFor(60, TimeUnit.SECONDS)) {
                host.process().destroyForcibly();
            }
        }
        for (int i = 1; i <= hostDirs; i++) {
            stopPostmasters(dir.resolve("h" + i).resolve("instances"));
        }
        stopCatalog(dir);
    }

    /** A database of one node per entry of {@code hostIds}, each node on that one host; waits for its task. */
    static void create(Host api, String key, String id, String conf, String... hostIds) throws Exception {
        StringBuilder nodes = new StringBuilder();
        for (int i = 0; i < hostIds.length; i++) {
            nodes.append(i == 0 ? "" : ",")
                    .append("{\"name\":\"n")
                    .append(i + 1)
                    .append("\",\"host_ids\":[\"")
                    .append(hostIds[i])
                    .append("\"]}");
        }
        createRaw(api, key, id, "\"nodes\":[" + nodes + "]" + (conf == null ? "" : ",\"postgresql_conf\":" + conf));
    }

    /** A database whose spec holds {@code specFields} (JSON members) besides its name and owner. */
    static void createRaw(Host api, String key, String id, String specFields) throws Exception {
        String body = "{\"id\":\"" + id + "\",\"spec\":{\"database_name\":\"app\"," + specFields
                + ",\"database_users\":[{\"username\":\"owner\",\"password\":\"" + PW + "\",\"db_owner\":true}]}}";
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

    static void awaitHostState(Host api, String key, String hostId, String state, int seconds) throws Exception {
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

    static void awaitInstanceState(Host api, String key, String id, String node, String state, int seconds)
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
                    .timeout(Duration.ofSeconds(120))
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

    interface Call {
        void run() throws Exception;
    }

    static long timed(Call call) throws Exception {
        long started = System.nanoTime();
        call.run();
        return System.nanoTime() - started;
    }

    /** utime + stime of a process in clock ticks (USER_HZ, 100 a second on Linux). */
    static long cpuTicks(long pid) throws IOException {
        return ticks(Files.readString(Path.of("/proc/" + pid + "/stat")));
    }

    /** utime + stime from one {@code /proc/.../stat} line. */
    static long ticks(String stat) {
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    }

    static void signal(long pid, String name) {
        try {
            new ProcessBuilder("kill", "-" + name, Long.toString(pid)).start().waitFor();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static void signal(Process process, String name) {
        if (process.isAlive()) {
            signal(process.pid(), name);
        }
    }

    /** The postmaster's PID from its data directory's {@code postmaster.pid}, or -1 when it has none. */
    static long postmasterPid(Path data) throws IOException {
        Path pidFile = data.resolve("postmaster.pid");
        if (!Files.exists(pidFile)) {
            return -1;
        }
        List<String> lines = Files.readAllLines(pidFile);
        return lines.isEmpty() ? -1 : Long.parseLong(lines.get(0).trim());
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
                "-p " + port + " -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c max_connections=300",
                "-w",
                "start");
    }

    static void stopCatalog(Path dir) throws Exception {
        Path data = dir.resolve("catalog/data");
        if (Files.exists(data.resolve("postmaster.pid"))) {
            asPostgres(PG.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", "fast", "-w", "stop");
        }
    }

    /**
     * Stops what still runs in the homes' data directories, by the PID in each {@code postmaster.pid}
     * (read as root: pg_ctl as {@code postgres} cannot enter a tenant's directory): SIGINT (fast shutdown)
     * to all, then SIGKILL to any still alive after 30 s.
     */
    static void stopPostmasters(Path instances) throws Exception {
        if (!Files.isDirectory(instances)) {
            return;
        }
        List<ProcessHandle> running = new ArrayList<>();
        try (var dirs = Files.list(instances)) {
            for (Path data : dirs.map(d -> d.resolve("data")).toList()) {
                long pid;
                try {
                    pid = postmasterPid(data);
                } catch (IOException | NumberFormatException unreadable) {
                    continue; // no postmaster.pid, or one being written: nothing runs there
                }
                ProcessHandle.of(pid)
                        .filter(p -> p.info().command().orElse("").endsWith("postgres"))
                        .ifPresent(p -> {
                            signal(p.pid(), "INT");
                            running.add(p);
                        });
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        for (ProcessHandle p : running) {
            while (p.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            if (p.isAlive()) {
                signal(p.pid(), "KILL");
            }
        }
    }

    static String postgresUser() {
        return isRoot() ? "postgres" : System.getProperty("user.name");
    }

    static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    /** Runs a command as the {@code postgres} OS user (when root); fails with its output if it fails. */
    static String asPostgres(String... command) throws Exception {
        List<String> full = new ArrayList<>();
        if (isRoot() && !command[0].equals("install")) {
            full.addAll(List.of("setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"));
        }
        full.addAll(List.of(command));
        Process p = new ProcessBuilder(full).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(600, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", full) + " failed: " + out);
        }
        return out;
    }

    /** Runs Debian PostgreSQL 15's pgbench (PGPASSWORD the bench's); fails with its output. */
    static String pgbench(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(PG.resolve("pgbench").toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("PGPASSWORD", PW);
        Process p = builder.start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IllegalStateException("pgbench " + String.join(" ", args) + " failed: " + out);
        }
        return out;
    }

    /** Runs a command; fails with its output. */
    static String run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
        }
        return out;
    }

    /** Waits until {@code replicas} replicas of database {@code id} are available and streaming. */
    static void awaitStreaming(
            java.util.function.Supplier<Host> liveApi, String key, String id, int replicas, int seconds)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (true) {
            int streaming = 0;
            try {
                for (JsonNode i : call(liveApi.get(), key, "GET", "/v1/databases/" + id, null)
                        .path("instances")) {
                    if (i.path("role").asString().equals("replica")
                            && i.path("state").asString().equals("available")
                            && i.path("replication").path("state").asString().equals("streaming")) {
                        streaming++;
                    }
                }
            } catch (RuntimeException notNow) {
                // a host going away: ask again
            }
            if (streaming >= replicas) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(
                        id + ": " + streaming + " of " + replicas + " replicas streaming after " + seconds + " s");
            }
            Thread.sleep(100);
        }
    }
}
