package io.pgfleet.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * pgfleet home directories for tests, and their clean-up. A home lives under /tmp/pf with mode 0755,
 * because the instances run as the {@code postgres} user, which cannot enter /root or a 0700 temp
 * directory; its name is short because Unix socket paths under it must stay within 107 bytes.
 */
public final class Homes {
    private static final Path ROOT = Path.of("/tmp/pf");
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);

    private Homes() {}

    /** A fresh home named after {@code name} (its first four characters) and a random suffix. */
    public static Path create(String name) {
        try {
            Files.createDirectories(ROOT);
            Files.setPosixFilePermissions(ROOT, PosixFilePermissions.fromString("rwxr-xr-x"));
            Path home = ROOT.resolve(name.substring(0, Math.min(name.length(), 4))
                    + UUID.randomUUID().toString().substring(0, 6));
            Files.createDirectory(home);
            Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwxr-xr-x"));
            return home;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Where test servers unpack the bundled PostgreSQL (pgfleet's {@code --dist-dir}), shared by every
     * home: unpacked once per machine instead of once per test server (about 3 s each). pgfleet's own
     * file lock keeps two servers unpacking at once from tearing it.
     */
    public static Path sharedDist() {
        Path dist = ROOT.resolve("dist");
        try {
            Files.createDirectories(dist);
            Files.setPosixFilePermissions(ROOT, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.setPosixFilePermissions(dist, PosixFilePermissions.fromString("rwxr-xr-x"));
            return dist;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The admin key pgfleet wrote on its first start, as a local operator would read it. */
    public static String adminKey(Path home) {
        try {
            return Files.readString(home.resolve("secrets/admin.key")).trim();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Test hygiene: fast-stops every postmaster and PgBouncer still running under {@code home} (a test
     * that failed half-way must not leave processes behind), then removes the directory.
     */
    public static void cleanUp(Path home) {
        stopProcesses(home);
        deleteTree(home);
    }

    /** Fast-stops every postmaster and PgBouncer running under {@code home} (its instances' and its catalog's). */
    public static void stopProcesses(Path home) {
        Path instances = home.resolve("instances");
        if (Files.isDirectory(instances)) {
            try (Stream<Path> dirs = Files.list(instances)) {
                dirs.forEach(dir -> {
                    stopPostmaster(dir.resolve("data/postmaster.pid"));
                    stopPgBouncer(dir.resolve("pgbouncer/pgbouncer.pid"));
                });
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        stopPostmaster(home.resolve("catalog/data/postmaster.pid"));
    }

    private static void stopPostmaster(Path pidFile) {
        if (!Files.isRegularFile(pidFile)) {
            return;
        }
        try {
            long pid = Long.parseLong(Files.readAllLines(pidFile).get(0).trim());
            ProcessHandle.of(pid).ifPresent(process -> {
                // SIGINT is Postgres' fast shutdown; wait so the next test starts from a quiet host.
                run("kill", "-INT", Long.toString(pid));
                awaitGone(process);
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** PgBouncer runs detached like the postmaster; SIGTERM is its immediate shutdown. */
    private static void stopPgBouncer(Path pidFile) {
        if (!Files.isRegularFile(pidFile)) {
            return;
        }
        try {
            long pid = Long.parseLong(Files.readString(pidFile).trim());
            ProcessHandle.of(pid)
                    .filter(p ->
                            p.info().command().map(c -> c.contains("pgbouncer")).orElse(false))
                    .ifPresent(process -> {
                        process.destroy();
                        awaitGone(process);
                    });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Not a child of the test: a zombie counts as alive for onExit(), so ask /proc. */
    private static void awaitGone(ProcessHandle process) {
        Waits.until(
                "process " + process.pid() + " to exit",
                STOP_TIMEOUT,
                Duration.ofMillis(20),
                () -> !isRunning(process.pid()));
    }

    /** Whether the process runs: it exists and is not a zombie waiting to be reaped. */
    public static boolean isRunning(long pid) {
        Path stat = Path.of("/proc", Long.toString(pid), "stat");
        try {
            String text = Files.readString(stat);
            // "pid (comm) S ...": the state follows the last ')' (comm may hold spaces or parentheses).
            return text.charAt(text.lastIndexOf(')') + 2) != 'Z';
        } catch (IOException e) {
            return false; // gone
        }
    }

    /** The data directories of the postmasters running on this host under {@code home}, from ps. */
    public static List<String> postmastersUnder(Path home) {
        try {
            Process ps = new ProcessBuilder("ps", "-eo", "args").start();
            String out = new String(ps.getInputStream().readAllBytes());
            ps.waitFor();
            List<String> dirs = new ArrayList<>();
            for (String line : out.split("\n")) {
                int d = line.indexOf(" -D ");
                if (line.contains("/postgres") && d > 0 && line.contains(home.toString())) {
                    dirs.add(line.substring(d + 4).trim().split(" ")[0]);
                }
            }
            return dirs;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public static void deleteTree(Path dir) {
        if (Files.exists(dir)) {
            run("rm", "-rf", "--", dir.toString());
        }
    }

    private static void run(String... command) {
        try {
            int exit = new ProcessBuilder(command).inheritIO().start().waitFor();
            if (exit != 0) {
                throw new IllegalStateException(String.join(" ", command) + " exited with " + exit);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
