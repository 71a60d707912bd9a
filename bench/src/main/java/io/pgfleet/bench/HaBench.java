package io.pgfleet.bench;

import static io.pgfleet.bench.BenchFleet.call;

import io.pgfleet.bench.BenchFleet.Host;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import tools.jackson.databind.JsonNode;

/**
 * High availability on a fleet of three pgfleet hosts on one machine (issue 12): the failover time
 * (SIGKILL of the primary host's agent and postmaster until the first write acknowledged through the
 * primary URL), the writers' stall in a switchover, the clone of a replica of a ~1 GB database against a
 * plain file copy of its data directory, and the replication lag under a pgbench write load. Run with
 * {@code -Dloader.main=io.pgfleet.bench.HaBench}; see bench/README.md.
 */
public final class HaBench {

    private final Path dir;
    private final Path launcher;
    private final Path serverJar;
    private final int portBase;
    private final List<Host> hosts = new ArrayList<>();
    private String key;

    private HaBench(Path dir, Path launcher, Path serverJar, int portBase) {
        this.dir = dir;
        this.launcher = launcher;
        this.serverJar = serverJar;
        this.portBase = portBase;
    }

    public static void main(String[] args) throws Exception {
        int failovers = 10;
        int switchovers = 5;
        int cloneMb = 1024;
        int pgbenchSeconds = 30;
        int portBase = 14500;
        Path serverJar = null;
        for (int i = 0; i < args.length; i++) {
            String option = args[i];
            switch (option) {
                case "--failovers" ->
                    failovers = LifecycleBench.number(option, LifecycleBench.value(args, ++i, option), 0);
                case "--switchovers" ->
                    switchovers = LifecycleBench.number(option, LifecycleBench.value(args, ++i, option), 0);
                case "--clone-mb" ->
                    cloneMb = LifecycleBench.number(option, LifecycleBench.value(args, ++i, option), 0);
                case "--pgbench-seconds" ->
                    pgbenchSeconds = LifecycleBench.number(option, LifecycleBench.value(args, ++i, option), 0);
                case "--port-base" ->
                    portBase = LifecycleBench.number(option, LifecycleBench.value(args, ++i, option), 1024);
                case "--server-jar" ->
                    serverJar = Path.of(LifecycleBench.value(args, ++i, option)).toAbsolutePath();
                default ->
                    throw new IllegalArgumentException(
                            "unknown option " + option + "; use --failovers N --switchovers N"
                                    + " --clone-mb N (0: skip) --pgbench-seconds N (0: skip) --port-base N --server-jar PATH");
            }
        }
        Path dir = LifecycleBench.createOpenDirectory(
                Path.of("/tmp/pgfha-" + Long.toString(System.nanoTime() % 1_000_000, 36)));
        HaBench bench = new HaBench(dir, serverJar == null ? LifecycleBench.findLauncher() : null, serverJar, portBase);
        boolean ok = false;
        List<String> report = new ArrayList<>();
        try {
            bench.startFleet();
            if (pgbenchSeconds > 0 || switchovers > 0) {
                bench.createReplicatedNode();
            }
            if (pgbenchSeconds > 0) {
                report.addAll(bench.lagUnderPgbench(pgbenchSeconds));
            }
            if (switchovers > 0) {
                report.addAll(bench.switchovers(switchovers));
            }
            if (failovers > 0) {
                report.addAll(bench.failovers(failovers));
            }
            if (cloneMb > 0) {
                report.addAll(bench.clone(cloneMb));
            }
            ok = true;
        } finally {
            BenchFleet.stopAll(dir, bench.hosts, 3);
            System.out.println("pgfleet HA bench: 3 hosts on one machine ("
                    + Runtime.getRuntime().availableProcessors()
                    + " cores, load average at the end "
                    + Files.readString(Path.of("/proc/loadavg")).split(" ")[0]
                    + "), PostgreSQL 15");
            report.forEach(System.out::println);
            if (ok) {
                new ProcessBuilder("rm", "-rf", dir.toString())
                        .inheritIO()
                        .start()
                        .waitFor();
            } else {
                System.err.println("ha-bench: left " + dir + " (logs, homes); remove it when done");
            }
        }
    }

    private void startFleet() throws Exception {
        BenchFleet.startCatalog(dir, portBase + 399);
        hosts.add(startHost(1));
        for (int i = 2; i <= 3; i++) {
            BenchFleet.shareSecrets(dir.resolve("h1"), dir.resolve("h" + i));
            hosts.add(startHost(i));
        }
        key = LifecycleBench.readAdminKey(dir.resolve("h1"));
        System.err.println("ha-bench: 3 hosts healthy");
    }

    private Host startHost(int i) throws Exception {
        return BenchFleet.startHost(launcher, serverJar, dir, i, portBase, portBase + 399, List.of());
    }

    private Host liveApi() {
        for (Host host : hosts) {
            if (host.process().isAlive()) {
                return host;
            }
        }
        throw new IllegalStateException("no host alive");
    }

    private void createReplicatedNode() throws Exception {
        BenchFleet.createRaw(
                liveApi(), key, "ha", "\"nodes\":[{\"name\":\"n1\",\"host_ids\":[\"host-1\",\"host-2\",\"host-3\"]}]");
        awaitStreaming("ha", 2, 120);
        try (Connection c = BenchWriter.connect(primaryUrl("ha"), "owner", BenchFleet.PW);
                Statement st = c.createStatement()) {
            st.execute("create table t (id bigint primary key, at timestamptz default now())");
        }
        System.err.println("ha-bench: node n1 of ha: a primary and two streaming replicas");
    }

    private void awaitStreaming(String id, int replicas, int seconds) throws Exception {
        BenchFleet.awaitStreaming(this::liveApi, key, id, replicas, seconds);
    }

    private List<JsonNode> instances(String id) {
        List<JsonNode> list = new ArrayList<>();
        call(liveApi(), key, "GET", "/v1/databases/" + id, null)
                .path("instances")
                .forEach(list::add);
        return list;
    }

    private JsonNode primary(String id) {
        return instances(id).stream()
                .filter(i -> i.path("role").asString().equals("primary"))
                .findFirst()
                .orElseThrow(() -> new IllegalStateException(id + " has no primary"));
    }

    private static String address(JsonNode instance) {
        return "127.0.0." + instance.path("host_id").asString().substring("host-".length());
    }

    /** The node's primary URL in JDBC's spelling: every instance, {@code targetServerType=primary}. */
    private String primaryUrl(String id) {
        List<String> hostsAndPorts = new ArrayList<>();
        for (JsonNode i : instances(id)) {
            hostsAndPorts.add(address(i) + ":" + i.path("port").asInt());
        }
        return "jdbc:postgresql://" + String.join(",", hostsAndPorts) + "/app?targetServerType=primary";
    }

    /** The same in libpq's spelling, for pgbench. */
    private String libpqPrimaryUrl(String id) {
        List<String> hostsAndPorts = new ArrayList<>();
        for (JsonNode i : instances(id)) {
            hostsAndPorts.add(address(i) + ":" + i.path("port").asInt());
        }
        return "postgresql://owner@" + String.join(",", hostsAndPorts) + "/app?target_session_attrs=read-write";
    }

    private List<String> lagUnderPgbench(int seconds) throws Exception {
        String url = libpqPrimaryUrl("ha");
        BenchFleet.pgbench("-i", "-s", "10", "-q", url);
        List<Long> bytes = new ArrayList<>();
        List<Double> lagSeconds = new ArrayList<>();
        ProcessBuilder builder = new ProcessBuilder(
                        BenchFleet.PG.resolve("pgbench").toString(),
                        "-n",
                        "-c",
                        "4",
                        "-j",
                        "2",
                        "-T",
                        Integer.toString(seconds),
                        url)
                .redirectErrorStream(true);
        builder.environment().put("PGPASSWORD", BenchFleet.PW);
        Process load = builder.start();
        StringBuilder out = new StringBuilder();
        Thread reader = new Thread(() -> {
            try {
                out.append(new String(load.getInputStream().readAllBytes()));
            } catch (java.io.IOException e) {
                out.append("(output lost: ").append(e.getMessage()).append(')');
            }
        });
        reader.start();
        Thread.sleep(2000); // past the clients' connections
        while (load.isAlive()) {
            for (JsonNode i : instances("ha")) {
                JsonNode r = i.path("replication");
                if (i.path("role").asString().equals("replica")
                        && r.path("lag_bytes").isNumber()) {
                    bytes.add(r.path("lag_bytes").asLong());
                    lagSeconds.add(r.path("lag_seconds").asDouble());
                }
            }
            Thread.sleep(250);
        }
        reader.join(10_000);
        if (load.exitValue() != 0) {
            throw new IllegalStateException("pgbench failed: " + out);
        }
        String tps = out.toString()
                .lines()
                .filter(l -> l.startsWith("tps"))
                .findFirst()
                .orElse("tps ?");
        long[] b = bytes.stream().mapToLong(Long::longValue).sorted().toArray();
        double[] s =
                lagSeconds.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        if (b.length == 0) {
            throw new IllegalStateException("no replica lag read during pgbench");
        }
        return List.of(
                String.format(
                        "  replication lag under pgbench (scale 10, 4 clients, %d s; %s), 2 replicas, %d samples:",
                        seconds, tps.trim(), b.length),
                String.format(
                        "    lag bytes  p50 %d  p95 %d  max %d",
                        b[b.length / 2], b[b.length * 95 / 100], b[b.length - 1]),
                String.format(
                        "    replay lag p50 %.3f s  p95 %.3f s  max %.3f s",
                        s[s.length / 2], s[s.length * 95 / 100], s[s.length - 1]));
    }

    private List<String> switchovers(int count) throws Exception {
        BenchWriter writer = new BenchWriter(() -> primaryUrl("ha"), "owner", BenchFleet.PW, 1_000_000, 10);
        writer.start();
        List<Long> stalls = new ArrayList<>();
        List<Long> taskMs = new ArrayList<>();
        String failure = null;
        try {
            Thread.sleep(1000);
            for (int k = 0; k < count && failure == null; k++) {
                long before = System.nanoTime();
                JsonNode accepted = call(liveApi(), key, "POST", "/v1/databases/ha/switchover", "{\"node\":\"n1\"}");
                try {
                    BenchFleet.awaitTask(liveApi(), key, "ha", accepted);
                } catch (IllegalStateException e) {
                    failure = "switchover " + (k + 1) + " failed: " + lastTaskLine("ha", accepted);
                }
                long done = System.nanoTime();
                Thread.sleep(2000);
                long stall = writer.longestGapMillis(before, System.nanoTime());
                System.err.printf(
                        "ha-bench: switchover %d: task %d ms, writer stall %d ms%s%n",
                        k + 1, (done - before) / 1_000_000, stall, failure == null ? "" : "; " + failure);
                if (failure == null) {
                    stalls.add(stall);
                    taskMs.add((done - before) / 1_000_000);
                    awaitStreaming("ha", 2, 120);
                }
            }
        } finally {
            writer.stopAndJoin();
        }
        long missing = writer.missing(primaryUrl("ha"));
        List<String> lines = new ArrayList<>();
        if (!stalls.isEmpty()) {
            long[] st = stalls.stream().mapToLong(Long::longValue).sorted().toArray();
            long[] tm = taskMs.stream().mapToLong(Long::longValue).sorted().toArray();
            lines.add(String.format(
                    "  switchover under a writer (one insert every 10 ms), %d completed: writer stall p50 %d ms, max %d"
                            + " ms; task p50 %d ms, max %d ms; %d inserts acknowledged, %d failed, %d acknowledged missing",
                    st.length,
                    st[st.length / 2],
                    st[st.length - 1],
                    tm[tm.length / 2],
                    tm[tm.length - 1],
                    writer.acked.size(),
                    writer.errors.get(),
                    missing));
        }
        if (failure != null) {
            lines.add("    " + failure);
        }
        return lines;
    }

    /** The last line of a task's log (why it failed). */
    private String lastTaskLine(String id, JsonNode accepted) {
        JsonNode log = call(
                liveApi(),
                key,
                "GET",
                "/v1/databases/" + id + "/tasks/"
                        + accepted.path("task").path("task_id").asString() + "/log",
                null);
        String text = log.toString();
        return text.length() > 600 ? text.substring(text.length() - 600) : text;
    }

    /**
     * Each round on a database of its own (node n1 on the three hosts, its primary on host k % 3 + 1), so
     * one round's aftermath does not weigh on the next: SIGKILL of the primary's postmaster and of its
     * host's JVM, until the first write acknowledged through the primary URL by another server; then the
     * host is started again and the old primary's return as a streaming replica is timed (up to 120 s).
     */
    private List<String> failovers(int count) throws Exception {
        long[] failoverMs = new long[count];
        List<Long> rejoinMs = new ArrayList<>();
        List<String> notRejoined = new ArrayList<>();
        long missingTotal = 0;
        for (int k = 0; k < count; k++) {
            int first = k % 3 + 1;
            String id = "fo-" + k;
            BenchFleet.createRaw(
                    liveApi(),
                    key,
                    id,
                    "\"nodes\":[{\"name\":\"n1\",\"host_ids\":[\"host-" + first + "\",\"host-" + (first % 3 + 1)
                            + "\",\"host-" + ((first + 1) % 3 + 1) + "\"]}]");
            awaitStreaming(id, 2, 120);
            try (Connection c = BenchWriter.connect(primaryUrl(id), "owner", BenchFleet.PW);
                    Statement st = c.createStatement()) {
                st.execute("create table t (id bigint primary key, at timestamptz default now())");
            }
            JsonNode primary = primary(id);
            int hostNo = Integer.parseInt(primary.path("host_id").asString().substring("host-".length()));
            String url = primaryUrl(id);
            BenchWriter writer = new BenchWriter(() -> url, "owner", BenchFleet.PW, 1, 10);
            writer.start();
            Thread.sleep(1000);
            Host host = hosts.get(hostNo - 1);
            Path data = host.home()
                    .resolve("instances")
                    .resolve(primary.path("id").asString())
                    .resolve("data");
            long postmaster = BenchFleet.postmasterPid(data);
            if (postmaster > 0) {
                BenchFleet.signal(postmaster, "KILL");
            }
            host.process().destroyForcibly(); // SIGKILL of the agent
            long killedAt = System.nanoTime();
            String oldAddress = "127.0.0." + hostNo;
            long deadline = killedAt + TimeUnit.SECONDS.toNanos(120);
            BenchWriter.Ack ack;
            while ((ack = writer.firstAfter(killedAt, oldAddress)) == null) {
                if (System.nanoTime() > deadline) {
                    writer.stopAndJoin();
                    throw new IllegalStateException("no write acknowledged 120 s after killing host-" + hostNo);
                }
                Thread.sleep(20);
            }
            failoverMs[k] = (ack.nanos() - killedAt) / 1_000_000;
            Thread.sleep(500);
            writer.stopAndJoin();
            missingTotal += writer.missing(url);
            long restart = System.nanoTime();
            host.process().waitFor(10, TimeUnit.SECONDS);
            hosts.set(hostNo - 1, startHost(hostNo));
            String rejoin;
            try {
                awaitStreaming(id, 2, 120);
                rejoinMs.add((System.nanoTime() - restart) / 1_000_000);
                rejoin = "streaming again after " + rejoinMs.get(rejoinMs.size() - 1) + " ms";
            } catch (IllegalStateException e) {
                notRejoined.add(id + " (host-" + hostNo + ")");
                rejoin = "not streaming again within 120 s";
            }
            System.err.printf(
                    "ha-bench: failover %d (host-%d killed): writable in %d ms; old primary %s%n",
                    k + 1, hostNo, failoverMs[k], rejoin);
        }
        Arrays.sort(failoverMs);
        long[] rejoin = rejoinMs.stream().mapToLong(Long::longValue).sorted().toArray();
        List<String> lines = new ArrayList<>();
        lines.add(String.format(
                "  failover (SIGKILL of the primary host's agent and postmaster -> first write acknowledged through"
                        + " the primary URL), %d runs: p50 %d ms, max %d ms (all: %s)",
                count, failoverMs[count / 2], failoverMs[count - 1], Arrays.toString(failoverMs)));
        lines.add(String.format(
                "    acknowledged writes missing after the failovers (asynchronous replication): %d", missingTotal));
        if (rejoin.length > 0) {
            lines.add(String.format(
                    "    host restarted -> old primary a streaming replica: p50 %d ms, max %d ms of %d (with the JVM"
                            + " start)",
                    rejoin[rejoin.length / 2], rejoin[rejoin.length - 1], rejoin.length));
        }
        if (!notRejoined.isEmpty()) {
            lines.add("    old primary not streaming again within 120 s: " + String.join(", ", notRejoined));
        }
        return lines;
    }

    private List<String> clone(int megabytes) throws Exception {
        BenchFleet.createRaw(liveApi(), key, "big", "\"nodes\":[{\"name\":\"n1\",\"host_ids\":[\"host-1\"]}]");
        JsonNode primary = primary("big");
        String url = "postgresql://owner@127.0.0.1:" + primary.path("port").asInt() + "/app";
        int scale = Math.max(1, megabytes * 10 / 150); // pgbench: about 15 MB per scale unit
        long loadStart = System.nanoTime();
        BenchFleet.pgbench("-i", "-s", Integer.toString(scale), "-q", url);
        long dbBytes;
        try (Connection c = BenchWriter.connect(
                        "jdbc:postgresql://127.0.0.1:" + primary.path("port").asInt() + "/app",
                        "owner",
                        BenchFleet.PW);
                Statement st = c.createStatement()) {
            st.execute("checkpoint");
            try (ResultSet rs = st.executeQuery("select pg_database_size('app')")) {
                rs.next();
                dbBytes = rs.getLong(1);
            }
        } catch (java.sql.SQLException e) {
            // checkpoint needs more than a database owner on PostgreSQL 15: sized without it
            dbBytes = -1;
        }
        System.err.printf(
                "ha-bench: big loaded (pgbench scale %d) in %d s%n",
                scale, (System.nanoTime() - loadStart) / 1_000_000_000L);
        Path data = hosts.get(0)
                .home()
                .resolve("instances")
                .resolve(primary.path("id").asString())
                .resolve("data");
        long dirBytes =
                Long.parseLong(BenchFleet.run("du", "-sb", data.toString()).split("\\s+")[0]);
        if (dbBytes < 0) {
            dbBytes = dirBytes;
        }
        // The spec with a second host: the update clones a replica there (pg_basebackup from the primary).
        long cloneStart = System.nanoTime();
        JsonNode accepted = call(
                liveApi(),
                key,
                "POST",
                "/v1/databases/big",
                "{\"spec\":{\"database_name\":\"app\","
                        + "\"nodes\":[{\"name\":\"n1\",\"host_ids\":[\"host-1\",\"host-2\"]}],\"database_users\":[{\"username\":"
                        + "\"owner\",\"password\":\"" + BenchFleet.PW + "\",\"db_owner\":true}]}}");
        BenchFleet.awaitTask(liveApi(), key, "big", accepted);
        long cloneMs = (System.nanoTime() - cloneStart) / 1_000_000;
        awaitStreaming("big", 1, 120);
        long streamingMs = (System.nanoTime() - cloneStart) / 1_000_000;
        String cloneLog = call(
                        liveApi(),
                        key,
                        "GET",
                        "/v1/databases/big/tasks/"
                                + accepted.path("task").path("task_id").asString() + "/log",
                        null)
                .toString();
        java.util.regex.Matcher m =
                java.util.regex.Pattern.compile("cloned in (\\d+) ms").matcher(cloneLog);
        String cloneStep = m.find() ? m.group(1) + " ms" : "?";
        // The floor: a plain copy of the primary's data directory on the same disk (page cache warm, as for the clone).
        Path copy = dir.resolve("plain-copy");
        long copyStart = System.nanoTime();
        BenchFleet.run("cp", "-a", data.toString(), copy.toString());
        BenchFleet.run("sync", "-f", copy.toString());
        long copyMs = (System.nanoTime() - copyStart) / 1_000_000;
        BenchFleet.run("rm", "-rf", copy.toString());
        return List.of(
                String.format(
                        "  replica clone of a %d MB database (data directory %d MB): update adding a host -> task"
                                + " completed %d ms (clone step %s), replica streaming %d ms",
                        dbBytes >> 20, dirBytes >> 20, cloneMs, cloneStep, streamingMs),
                String.format(
                        "    plain file copy of the same data directory (cp -a + sync, same disk): %d ms", copyMs));
    }
}
