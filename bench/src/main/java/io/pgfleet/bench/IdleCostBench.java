package io.pgfleet.bench;

import io.pgfleet.bench.BenchFleet.Host;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The idle cost of a pgfleet host with many instances: one host on a catalog of its own (so heartbeats,
 * the leader lease and LISTEN run as in a fleet), N single-node databases with small
 * {@code shared_buffers}, then the CPU time (utime + stime, {@code /proc/PID/stat}) of the host's JVM over
 * an idle period, in % of one core, with a breakdown by thread ({@code /proc/PID/task/TID/stat}). Only
 * pgfleet's JVM is counted, not the postmasters. Run with
 * {@code -Dloader.main=io.pgfleet.bench.IdleCostBench}.
 */
public final class IdleCostBench {
    private IdleCostBench() {}

    public static void main(String[] args) throws Exception {
        int instances = 100;
        int seconds = 120;
        int settle = 60;
        int portBase = 14000;
        int parallel = 3;
        int windows = 1;
        Path serverJar = null;
        List<String> extra = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--instances" ->
                    instances = LifecycleBench.number(args[i], LifecycleBench.value(args, ++i, "--instances"), 0);
                case "--seconds" ->
                    seconds = LifecycleBench.number(args[i], LifecycleBench.value(args, ++i, "--seconds"), 5);
                case "--settle" ->
                    settle = LifecycleBench.number(args[i], LifecycleBench.value(args, ++i, "--settle"), 0);
                case "--port-base" ->
                    portBase = LifecycleBench.number(args[i], LifecycleBench.value(args, ++i, "--port-base"), 1024);
                case "--parallel" ->
                    parallel = LifecycleBench.number(args[i], LifecycleBench.value(args, ++i, "--parallel"), 1);
                case "--windows" ->
                    windows = LifecycleBench.number(args[i], LifecycleBench.value(args, ++i, "--windows"), 1);
                case "--server-jar" ->
                    serverJar = Path.of(LifecycleBench.value(args, ++i, "--server-jar"))
                            .toAbsolutePath();
                case "--server-flag" -> extra.add(LifecycleBench.value(args, ++i, "--server-flag"));
                default ->
                    throw new IllegalArgumentException(
                            "unknown option " + args[i] + "; use --instances N --seconds N"
                                    + " --settle N --windows N --port-base N --parallel N --server-jar PATH --server-flag FLAG");
            }
        }
        if (instances > 199) {
            throw new IllegalArgumentException("--instances: at most 199 (the host's port range is 200 wide)");
        }
        Path launcher = serverJar == null ? LifecycleBench.findLauncher() : null;
        Path dir = LifecycleBench.createOpenDirectory(
                Path.of("/tmp/pgfic-" + Long.toString(System.nanoTime() % 1_000_000, 36)));
        List<Host> hosts = new ArrayList<>();
        boolean ok = false;
        try {
            BenchFleet.startCatalog(dir, portBase + 399);
            Host host = BenchFleet.startHost(launcher, serverJar, dir, 1, portBase, portBase + 399, extra);
            hosts.add(host);
            String key = LifecycleBench.readAdminKey(dir.resolve("h1"));
            System.err.println("idle-cost: host up (pid " + host.process().pid() + "); creating " + instances
                    + " databases, " + parallel + " at a time");
            long createStart = System.nanoTime();
            ExecutorService pool = Executors.newFixedThreadPool(parallel);
            AtomicInteger done = new AtomicInteger();
            List<Future<?>> creates = new ArrayList<>();
            for (int i = 0; i < instances; i++) {
                String id = "idle-" + i;
                creates.add(pool.submit(() -> {
                    BenchFleet.create(
                            host, key, id, "{\"shared_buffers\":\"16MB\",\"max_connections\":\"20\"}", "host-1");
                    int n = done.incrementAndGet();
                    if (n % 10 == 0) {
                        System.err.printf("idle-cost: %d created%n", n);
                    }
                    return null;
                }));
            }
            try {
                for (Future<?> f : creates) {
                    f.get();
                }
            } finally {
                pool.shutdownNow(); // its threads are not daemons: a failed create must not keep the JVM up
            }
            System.err.printf(
                    "idle-cost: %d databases created in %d s; settling %d s%n",
                    instances, (System.nanoTime() - createStart) / 1_000_000_000L, settle);
            Thread.sleep(settle * 1000L);
            long pid = host.process().pid();
            // The period is read in windows (default one), so the JIT's share in the first minutes shows
            // apart from the settled cost: each window prints its own total; the breakdown is of the windows
            // after the first two when there are three or more ("settled"), else of the whole period.
            List<Sample> samples = new ArrayList<>();
            samples.add(Sample.read(pid));
            long windowMillis = seconds * 1000L / windows;
            for (int w = 0; w < windows; w++) {
                Thread.sleep(windowMillis);
                samples.add(Sample.read(pid));
            }
            double load = Double.parseDouble(
                    Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
            System.out.printf(
                    "pgfleet idle cost: one host, %d instances (PostgreSQL 15, shared_buffers 16MB), %d cores,"
                            + " load average %.1f at the end, %d s settled before%n",
                    instances, Runtime.getRuntime().availableProcessors(), load, settle);
            if (windows > 1) {
                for (int w = 0; w < windows; w++) {
                    System.out.printf(
                            "  window %d (%d-%d s): %s%n",
                            w + 1,
                            w * windowMillis / 1000,
                            (w + 1) * windowMillis / 1000,
                            summary(samples.get(w), samples.get(w + 1), instances));
                }
            }
            Sample from = samples.get(windows >= 3 ? 2 : 0);
            Sample to = samples.get(windows);
            System.out.printf(
                    "  pgfleet JVM CPU over %s: %s%n",
                    windows >= 3 ? "windows 3-" + windows + " (settled)" : "the whole period",
                    summary(from, to, instances));
            double elapsed = (to.nanos() - from.nanos()) / 1e9;
            Map<String, Long> byName = new HashMap<>();
            long counted = 0;
            for (Map.Entry<String, Long> e : to.threads().entrySet()) {
                long delta = e.getValue() - from.threads().getOrDefault(e.getKey(), 0L);
                String name = e.getKey().substring(e.getKey().indexOf(' ') + 1).replaceAll("[0-9#-]+$", "");
                byName.merge(name, delta, Long::sum);
                counted += delta;
            }
            long total = to.total() - from.total();
            System.out.println("  by thread (ms of CPU per minute):");
            byName.entrySet().stream()
                    .filter(e -> e.getValue() > 0)
                    .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                    .forEach(e -> System.out.printf("    %-20s %7.0f%n", e.getKey(), e.getValue() * 10 * 60 / elapsed));
            System.out.printf("    %-20s %7.0f%n", "(threads that ended)", (total - counted) * 10 * 60 / elapsed);
            ok = true;
        } finally {
            BenchFleet.stopAll(dir, hosts, 1);
            if (ok) {
                new ProcessBuilder("rm", "-rf", dir.toString())
                        .inheritIO()
                        .start()
                        .waitFor();
            } else {
                System.err.println("idle-cost: left " + dir + " (logs, homes); remove it when done");
            }
        }
    }

    /** The JVM's CPU ticks, in total and by thread, at one moment. */
    private record Sample(long nanos, long total, Map<String, Long> threads) {
        static Sample read(long pid) throws IOException {
            Map<String, Long> threads = threadTicks(pid);
            return new Sample(System.nanoTime(), BenchFleet.cpuTicks(pid), threads);
        }
    }

    private static String summary(Sample from, Sample to, int instances) {
        double elapsed = (to.nanos() - from.nanos()) / 1e9;
        long total = to.total() - from.total();
        return String.format(
                "%d ms over %.0f s = %.2f %% of a core (%.1f ms per minute per instance)",
                total * 10, elapsed, total / elapsed, instances == 0 ? 0 : total * 10 * 60 / elapsed / instances);
    }

    /** CPU ticks of each live thread, keyed "TID name". */
    private static Map<String, Long> threadTicks(long pid) throws IOException {
        Map<String, Long> ticks = new HashMap<>();
        try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path task : tasks.toList()) {
                try {
                    String stat = Files.readString(task.resolve("stat"));
                    String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                    ticks.put(task.getFileName() + " " + name, BenchFleet.ticks(stat));
                } catch (IOException gone) {
                    // the thread ended between the listing and the read
                }
            }
        }
        return ticks;
    }
}
