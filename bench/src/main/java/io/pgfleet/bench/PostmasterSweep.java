package io.pgfleet.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The end of a run: no PostgreSQL this run started may survive it. A data directory under the run's
 * directory whose postmaster still runs (the catalog, when the server's shutdown did not stop it) gets
 * {@code pg_ctl stop -m fast}. Then every process whose executable lies under the run's directory
 * (the binaries the server unpacked there) is one of ours; any still alive is killed by PID.
 */
final class PostmasterSweep {
    private PostmasterSweep() {}

    /** Returns whether, in the end, no process of this run was left. */
    static boolean stopAllUnder(Path top, String osUser) {
        Optional<Path> pgCtl = binDirOf(top).map(b -> b.resolve("pg_ctl"));
        OsCommand command = new OsCommand(osUser, top.resolve("sweep.log"));
        for (Path data : runningDataDirectories(top)) {
            if (pgCtl.isEmpty()) {
                break;
            }
            System.err.println("bench: " + data + " still runs after the server stopped; pg_ctl stop -m fast");
            try {
                command.run(
                        Duration.ofSeconds(90),
                        pgCtl.get().toString(),
                        "stop",
                        "-D",
                        data.toString(),
                        "-m",
                        "fast",
                        "-w");
            } catch (RuntimeException e) {
                System.err.println("bench: " + data + ": " + e.getMessage());
            }
        }
        List<ProcessHandle> left = processesUnder(top);
        if (left.isEmpty()) {
            System.err.println("bench: no PostgreSQL process of this run is left");
            return true;
        }
        for (ProcessHandle p : left) {
            System.err.println("bench: killing pid " + p.pid() + " "
                    + p.info().commandLine().orElse(""));
            p.destroyForcibly();
        }
        return false;
    }

    private static List<ProcessHandle> processesUnder(Path top) {
        String prefix = top.toAbsolutePath() + "/";
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().command().map(c -> c.startsWith(prefix)).orElse(false))
                .toList();
    }

    /** Data directories whose postmaster.pid names a live process. */
    private static List<Path> runningDataDirectories(Path top) {
        try (Stream<Path> files = Files.find(
                top,
                6,
                (p, a) -> p.getFileName().toString().equals("postmaster.pid")
                        && !p.toString().contains("/dist/"))) {
            return files.filter(PostmasterSweep::isAlive).map(Path::getParent).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("looking for postmaster.pid under " + top, e);
        }
    }

    private static boolean isAlive(Path pidFile) {
        try {
            List<String> lines = Files.readAllLines(pidFile);
            return !lines.isEmpty()
                    && ProcessHandle.of(Long.parseLong(lines.get(0).trim()))
                            .map(ProcessHandle::isAlive)
                            .orElse(false);
        } catch (IOException | NumberFormatException e) {
            return false;
        }
    }

    private static Optional<Path> binDirOf(Path top) {
        try (Stream<Path> versions = Files.list(top.resolve("home").resolve("dist"))) {
            return versions.map(v -> v.resolve("bin"))
                    .filter(b -> Files.isExecutable(b.resolve("pg_ctl")))
                    .findFirst();
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
