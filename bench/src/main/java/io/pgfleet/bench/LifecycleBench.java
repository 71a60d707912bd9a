package io.pgfleet.bench;

import io.pgfleet.bench.PgfleetClient.Node;
import io.pgfleet.bench.PgfleetClient.Spec;
import io.pgfleet.bench.PgfleetClient.User;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Times the instance lifecycle (create, stop, start, restart, delete) through pgfleet's REST API
 * against the same steps done by hand on the same PostgreSQL binaries, and prints p50 and p95 of
 * each side with their ratio and difference.
 *
 * <p>pgfleet runs as a child process ({@code bin/pgfleet server}) with a home of its own under /tmp.
 * Its cycles and the raw cycles alternate, and which side goes first alternates too, so a drift of
 * the machine (page cache, another job) weighs on both. An operation is timed from the moment its
 * request is sent until its task reads {@code completed}, polled every 5 ms.
 */
public final class LifecycleBench {
    private static final String NODE = "n1";
    private static final String DATABASE_NAME = "bench";
    private static final String OWNER = "admin";
    private static final String OS_USER = "postgres";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Options options;
    private final Path top;
    private final Path home;
    private final Path rawDir;
    private final Timings pgfleet = new Timings();
    private final Timings raw = new Timings();
    private PgfleetServerProcess server;
    private PgfleetClient client;
    private String currentDatabase;
    private RawPostgres currentRaw;
    private boolean cleanedUp;

    /** Command-line options; see {@link #USAGE}. */
    record Options(int cycles, int warmup, int apiPort, PortRange portRange, Path launcher, boolean keep) {}

    /** The ports pgfleet hands out; the raw baseline takes its port from the top of the same range. */
    record PortRange(int first, int last) {
        static PortRange parse(String text) {
            String[] parts = text.split("-");
            if (parts.length != 2) {
                throw new IllegalArgumentException("--port-range: '" + text + "' is not A-B, e.g. 7100-7199");
            }
            PortRange range = new PortRange(Integer.parseInt(parts[0].trim()), Integer.parseInt(parts[1].trim()));
            if (range.first < 1024 || range.last > 65535 || range.first > range.last) {
                throw new IllegalArgumentException("--port-range: " + text + " is not within 1024-65535, low to high");
            }
            return range;
        }

        @Override
        public String toString() {
            return first + "-" + last;
        }
    }

    static final String USAGE = """
            Usage: java -jar bench/target/pgfleet-bench.jar [CYCLES] [options]
              CYCLES               measured cycles per side (default 10)
              --warmup N           cycles run first and not counted (default 1)
              --api-port N         API port of the pgfleet server started here (default 3299)
              --port-range A-B     ports for the instances (default 7100-7199)
              --pgfleet PATH       the bin/pgfleet launcher (default: found from the current directory up)
              --keep               keep the run's directory under /tmp (removed by default)
            Runs as root (instances then run as OS user postgres) or as an ordinary user.""";

    private LifecycleBench(Options options, Path top) {
        this.options = options;
        this.top = top;
        this.home = top.resolve("home");
        this.rawDir = top.resolve("raw");
    }

    /** The key pgfleet wrote on its first start; the bench is a local operator reading it. */
    static String readAdminKey(Path home) {
        try {
            return Files.readString(home.resolve("secrets/admin.key")).trim();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("reading the admin key of " + home, e);
        }
    }

    public static void main(String[] args) {
        if (args.length > 0 && args[0].equals("api-latency")) {
            ApiLatencyBench.main(java.util.Arrays.copyOfRange(args, 1, args.length));
            return;
        }
        if (args.length > 0 && args[0].equals("refusal-flood")) {
            RefusalFloodBench.main(java.util.Arrays.copyOfRange(args, 1, args.length));
            return;
        }
        if (args.length > 0 && args[0].equals("heal")) {
            HealBench.main(java.util.Arrays.copyOfRange(args, 1, args.length));
            return;
        }
        Options options;
        try {
            options = parse(args);
            if (options == null) {
                System.out.println(USAGE);
                return;
            }
        } catch (IllegalArgumentException e) {
            System.err.println("bench: " + e.getMessage() + "\n" + USAGE);
            System.exit(2);
            return;
        }
        Path top =
                createOpenDirectory(Path.of("/tmp", "pgfleet-bench-" + Long.toString(System.currentTimeMillis(), 36)));
        LifecycleBench bench = new LifecycleBench(options, top);
        Thread hook = new Thread(bench::cleanUp, "bench-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
        int exit;
        try {
            bench.run();
            exit = 0;
        } catch (RuntimeException e) {
            System.err.println("bench: failed: " + e.getMessage());
            exit = 1;
        }
        boolean clean = bench.cleanUp();
        Runtime.getRuntime().removeShutdownHook(hook);
        if (exit == 0 && clean && !options.keep()) {
            RawPostgres.deleteTree(top);
        } else {
            System.err.println("bench: kept " + top + " (server log: " + top.resolve("pgfleet-server.log") + ")");
        }
        System.exit(exit == 0 && !clean ? 1 : exit);
    }

    private void run() {
        createOpenDirectory(home);
        createOpenDirectory(rawDir);
        client = new PgfleetClient(options.apiPort());
        server = PgfleetServerProcess.start(
                options.launcher(),
                home,
                options.apiPort(),
                options.portRange().toString(),
                top.resolve("pgfleet-server.log"));
        server.awaitHealthy(client);
        client.useKey(readAdminKey(home));
        Path binDir = bundledBinDir();
        System.err.println("bench: raw baseline uses " + binDir);

        int total = options.warmup() + options.cycles();
        for (int i = 0; i < total; i++) {
            boolean counted = i >= options.warmup();
            Map<Operation, Long> viaPgfleet;
            Map<Operation, Long> byHand;
            if (i % 2 == 0) {
                viaPgfleet = pgfleetCycle(i);
                byHand = rawCycle(i, binDir);
            } else {
                byHand = rawCycle(i, binDir);
                viaPgfleet = pgfleetCycle(i);
            }
            if (counted) {
                viaPgfleet.forEach(pgfleet::add);
                byHand.forEach(raw::add);
            }
            System.err.printf(
                    "bench: cycle %d/%d%s  pgfleet %s  raw %s%n",
                    i + 1, total, counted ? "" : " (warm-up)", millis(viaPgfleet), millis(byHand));
        }
        System.out.print(table(binDir));
    }

    private Map<Operation, Long> pgfleetCycle(int cycle) {
        String id = "bench-" + cycle;
        Spec spec = new Spec(DATABASE_NAME, List.of(new Node(NODE)), List.of(new User(OWNER, password(), true)));
        Map<Operation, Long> nanos = new EnumMap<>(Operation.class);
        currentDatabase = id;
        nanos.put(Operation.CREATE, client.create(id, spec));
        expectStates(id, "available");
        nanos.put(Operation.STOP, client.stop(id, NODE));
        expectStates(id, "stopped");
        nanos.put(Operation.START, client.start(id, NODE));
        expectStates(id, "available");
        nanos.put(Operation.RESTART, client.restart(id, NODE));
        expectStates(id, "available");
        nanos.put(Operation.DELETE, client.delete(id));
        if (client.exists(id)) {
            throw new IllegalStateException("database " + id + " still listed after its delete completed");
        }
        currentDatabase = null;
        return nanos;
    }

    private void expectStates(String id, String state) {
        List<String> states = client.instanceStates(id);
        if (!states.equals(List.of(state))) {
            throw new IllegalStateException(
                    "database " + id + ": instances are " + states + ", expected [" + state + "]");
        }
    }

    private Map<Operation, Long> rawCycle(int cycle, Path binDir) {
        RawPostgres pg = new RawPostgres(
                binDir,
                rawDir.resolve("cycle-" + cycle),
                freeRawPort(),
                password(),
                OS_USER,
                rawDir.resolve("commands.log"));
        currentRaw = pg;
        Map<Operation, Long> nanos = new EnumMap<>(Operation.class);
        long t = System.nanoTime();
        pg.create(DATABASE_NAME, OWNER, password());
        nanos.put(Operation.CREATE, System.nanoTime() - t);
        t = System.nanoTime();
        pg.stop();
        nanos.put(Operation.STOP, System.nanoTime() - t);
        t = System.nanoTime();
        pg.start();
        nanos.put(Operation.START, System.nanoTime() - t);
        t = System.nanoTime();
        pg.restart();
        nanos.put(Operation.RESTART, System.nanoTime() - t);
        t = System.nanoTime();
        pg.delete();
        nanos.put(Operation.DELETE, System.nanoTime() - t);
        currentRaw = null;
        return nanos;
    }

    /** From the top of the range down, so it stays clear of pgfleet's first-fit from the bottom. */
    private int freeRawPort() {
        for (int port = options.portRange().last(); port >= options.portRange().first(); port--) {
            if (PgfleetServerProcess.isFree(port)) {
                return port;
            }
        }
        throw new IllegalStateException("no free port in " + options.portRange() + " for the raw baseline");
    }

    /** The PostgreSQL 17 binaries the server unpacked for its catalog: the ones its instances run. */
    private Path bundledBinDir() {
        try (Stream<Path> versions = Files.list(home.resolve("dist"))) {
            return versions.filter(p -> p.getFileName().toString().startsWith("17."))
                    .filter(p -> Files.exists(p.resolve(".complete")))
                    .map(p -> p.resolve("bin"))
                    .findFirst()
                    .orElseThrow(() -> new IllegalStateException("no unpacked PostgreSQL 17 under "
                            + home.resolve("dist") + " once the server was healthy"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private String table(Path binDir) {
        StringBuilder out = new StringBuilder();
        out.append(String.format(
                Locale.ROOT,
                "%nLifecycle of one instance: pgfleet REST API vs raw initdb/pg_ctl/JDBC, PostgreSQL %s%n"
                        + "%d measured cycles per side (%d warm-up not counted); times in ms, p95 by nearest rank%n%n",
                binDir.getParent().getFileName(),
                options.cycles(),
                options.warmup()));
        String format = "%-9s %12s %12s %9s %9s %10s %10s %10s %10s%n";
        out.append(String.format(
                Locale.ROOT,
                format,
                "operation",
                "pgfleet p50",
                "pgfleet p95",
                "raw p50",
                "raw p95",
                "ratio p50",
                "ratio p95",
                "diff p50",
                "diff p95"));
        for (Operation op : Operation.values()) {
            double p50 = pgfleet.percentileMillis(op, 50);
            double p95 = pgfleet.percentileMillis(op, 95);
            double r50 = raw.percentileMillis(op, 50);
            double r95 = raw.percentileMillis(op, 95);
            out.append(String.format(
                    Locale.ROOT,
                    format,
                    op.label(),
                    ms(p50),
                    ms(p95),
                    ms(r50),
                    ms(r95),
                    String.format(Locale.ROOT, "%.2fx", p50 / r50),
                    String.format(Locale.ROOT, "%.2fx", p95 / r95),
                    String.format(Locale.ROOT, "%+.1f", p50 - r50),
                    String.format(Locale.ROOT, "%+.1f", p95 - r95)));
        }
        return out.toString();
    }

    private static String ms(double millis) {
        return String.format(Locale.ROOT, "%.1f", millis);
    }

    private static String millis(Map<Operation, Long> nanos) {
        List<String> parts = new ArrayList<>();
        nanos.forEach((op, n) -> parts.add(op.label() + " " + n / 1_000_000));
        return String.join(" ", parts);
    }

    /**
     * Removes what a failed cycle left, stops the server, and makes sure no PostgreSQL of this run
     * survives. Runs once, from main or from the shutdown hook on Ctrl-C. Returns whether all was clean.
     */
    private synchronized boolean cleanUp() {
        if (cleanedUp) {
            return true;
        }
        cleanedUp = true;
        boolean clean = true;
        if (currentDatabase != null && server != null) {
            // Instances outlive the control plane, so a half-done cycle is deleted through the API first.
            try {
                if (client.exists(currentDatabase)) {
                    client.delete(currentDatabase);
                }
            } catch (RuntimeException e) {
                System.err.println("bench: could not delete " + currentDatabase + ": " + e.getMessage());
            }
        }
        if (currentRaw != null) {
            currentRaw.discard();
        }
        if (server != null) {
            server.close();
        }
        clean &= PostmasterSweep.stopAllUnder(top, OS_USER);
        return clean;
    }

    private static Options parse(String[] args) {
        int cycles = 10;
        int warmup = 1;
        int apiPort = 3299;
        PortRange range = PortRange.parse("7100-7199");
        Path launcher = null;
        boolean keep = false;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            switch (arg) {
                case "--warmup" -> warmup = number(arg, value(args, ++i, arg), 0);
                case "--api-port" -> apiPort = number(arg, value(args, ++i, arg), 1);
                case "--port-range" -> range = PortRange.parse(value(args, ++i, arg));
                case "--pgfleet" -> launcher = Path.of(value(args, ++i, arg)).toAbsolutePath();
                case "--keep" -> keep = true;
                case "-h", "--help" -> {
                    return null;
                }
                default -> {
                    if (arg.startsWith("-")) {
                        throw new IllegalArgumentException("unknown option " + arg);
                    }
                    cycles = number("CYCLES", arg, 1);
                }
            }
        }
        if (launcher == null) {
            launcher = findLauncher();
        }
        if (!Files.isExecutable(launcher)) {
            throw new IllegalArgumentException("--pgfleet: " + launcher + " is not executable");
        }
        return new Options(cycles, warmup, apiPort, range, launcher, keep);
    }

    static String value(String[] args, int i, String option) {
        if (i >= args.length) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args[i];
    }

    static int number(String name, String text, int min) {
        try {
            int n = Integer.parseInt(text);
            if (n < min) {
                throw new IllegalArgumentException(name + ": " + n + " is below " + min);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + ": '" + text + "' is not a number");
        }
    }

    static Path findLauncher() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("bin/pgfleet");
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        throw new IllegalArgumentException(
                "no bin/pgfleet in the current directory or above; run from the repository or pass --pgfleet PATH");
    }

    /** Mode 0755: the instance OS user must pass through to its own directories below. */
    static Path createOpenDirectory(Path dir) {
        try {
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("creating " + dir, e);
        }
    }

    private static String password() {
        StringBuilder s = new StringBuilder();
        String alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        for (int i = 0; i < 24; i++) {
            s.append(alphabet.charAt(RANDOM.nextInt(alphabet.length())));
        }
        return s.toString();
    }
}
