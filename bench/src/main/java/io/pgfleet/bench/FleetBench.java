package io.pgfleet.bench;

import static io.pgfleet.bench.BenchFleet.awaitHostState;
import static io.pgfleet.bench.BenchFleet.awaitInstanceState;
import static io.pgfleet.bench.BenchFleet.awaitTask;
import static io.pgfleet.bench.BenchFleet.call;
import static io.pgfleet.bench.BenchFleet.cpuTicks;
import static io.pgfleet.bench.BenchFleet.signal;
import static io.pgfleet.bench.BenchFleet.timed;

import io.pgfleet.bench.BenchFleet.Host;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A fleet of three pgfleet hosts on one machine (loopback aliases 127.0.0.1-3, one catalog from
 * Debian's PostgreSQL 15), measured: a 3-node create spread over 3 hosts against the same on one host,
 * API latency, host-loss detection (SIGSTOP) and return (SIGCONT), and the idle CPU of a host with
 * many instances beside one with none. Run with {@code -Dloader.main=io.pgfleet.bench.FleetBench}.
 */
public final class FleetBench {
    /** Small instances for the idle part: 100 of them fit a machine with 24 GiB. */
    private static final String SMALL = "{\"shared_buffers\":\"16MB\",\"max_connections\":\"20\"}";

    private FleetBench() {}

    public static void main(String[] args) throws Exception {
        int rounds = 5;
        int idleInstances = 30;
        int idleSeconds = 30;
        int portBase = 14000;
        Path serverJar = null;
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
                case "--server-jar" ->
                    serverJar = Path.of(LifecycleBench.value(args, ++i, "--server-jar"))
                            .toAbsolutePath();
                default ->
                    throw new IllegalArgumentException("unknown option " + args[i]
                            + "; use --rounds N --idle-instances N --idle-seconds N --port-base N --server-jar PATH");
            }
        }
        Path launcher = serverJar == null ? LifecycleBench.findLauncher() : null;
        // Short: each instance's Unix socket path must fit in 107 bytes.
        Path dir = LifecycleBench.createOpenDirectory(
                Path.of("/tmp/pgffb-" + Long.toString(System.nanoTime() % 1_000_000, 36)));
        List<Host> hosts = new ArrayList<>();
        int catalogPort = portBase + 399;
        try {
            BenchFleet.startCatalog(dir, catalogPort);
            for (int i = 1; i <= 3; i++) {
                if (i > 1) {
                    BenchFleet.shareSecrets(dir.resolve("h1"), dir.resolve("h" + i));
                }
                hosts.add(BenchFleet.startHost(launcher, serverJar, dir, i, portBase, catalogPort, List.of()));
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

            BenchFleet.create(h1, key, "latency", null, "host-1", "host-2", "host-3");
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
                BenchFleet.create(h1, key, "idle-" + i, SMALL, "host-2");
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
            BenchFleet.stopAll(dir, hosts, 3);
            System.err.println("fleet-bench: left " + dir + " (logs, homes); remove it when done");
        }
    }

    private static long createAndDelete(Host api, String key, String id, String... hostIds) throws Exception {
        long started = System.nanoTime();
        BenchFleet.create(api, key, id, null, hostIds);
        long ms = (System.nanoTime() - started) / 1_000_000;
        awaitTask(api, key, id, call(api, key, "DELETE", "/v1/databases/" + id, null));
        return ms;
    }
}
