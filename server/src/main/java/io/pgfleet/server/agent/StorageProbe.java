package io.pgfleet.server.agent;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Whether an instance can still write its files: in its data directory and its log directory, a small
 * file is written, fsynced and deleted, and the space left to unprivileged users is read. A full disk
 * (ENOSPC, or less than a minimum left outside the blocks reserved for root, which pgfleet's own
 * writes may still use but Postgres cannot), an exceeded quota, a read-only mount or a permission problem each have their
 * own {@link Finding#problem()}. A probe costs one small write and an fsync per directory.
 */
public final class StorageProbe {
    /** The probe's file, in the instance directory (or a directory mounted on its own). */
    static final String PROBE_FILE = "pgfleet.write-probe";

    private static final byte[] PROBE_BYTES = new byte[512];

    /**
     * What a probe found wrong.
     *
     * @param problem {@code no_space}, {@code quota_exceeded}, {@code read_only}, {@code permission_denied}
     *     or {@code io_error}
     * @param message what the system said, for a person: {@code no space left on device}
     */
    public record Finding(String problem, String message, Path directory) {}

    private StorageProbe() {}

    /**
     * Where to write to learn whether {@code directory} can be written: the directory itself, or, when it
     * sits on the same file system as its instance directory, the instance directory beside it.
     */
    public record Target(Path writeIn, Path directory) {}

    /**
     * What to probe for one instance: its data directory once initdb has finished, and its log directory.
     * In pgfleet's layout both sit on their instance directory's file system, and the probe writes there,
     * never inside the data directory (where a base backup may be copying files, and where initdb wants an
     * empty directory); a directory mounted on a file system of its own is probed in place.
     */
    static List<Target> targetsOf(InstancePaths paths) throws IOException {
        List<Target> targets = new ArrayList<>();
        if (!Files.isDirectory(paths.dir())) {
            return targets;
        }
        // Device numbers (one stat each) tell file systems apart; Files.getFileStore would parse
        // /proc/mounts for every directory, every round, for every instance.
        Object own = device(paths.dir());
        List<Path> dirs = new ArrayList<>();
        if (paths.hasDataDirectory()) {
            dirs.add(paths.data());
        }
        if (Files.isDirectory(paths.logDir())) {
            dirs.add(paths.logDir());
        }
        boolean besideProbed = false;
        for (Path dir : dirs) {
            if (!device(dir).equals(own)) {
                targets.add(new Target(dir, dir));
            } else if (!besideProbed) {
                targets.add(new Target(paths.dir(), dir));
                besideProbed = true;
            }
        }
        return targets;
    }

    /** Probes one instance's data and log directories ({@link #targetsOf}); empty when both are fine. */
    public static Optional<Finding> probe(InstancePaths paths, long minFreeBytes) {
        List<Target> targets;
        try {
            targets = targetsOf(paths);
        } catch (NoSuchFileException gone) {
            return Optional.empty(); // removed meanwhile: whether it is missing is the health monitor's concern
        } catch (IOException e) {
            return Optional.of(classify(e, paths.dir()));
        }
        return probe(targets, minFreeBytes);
    }

    /**
     * As {@link #probe(InstancePaths, long)}, sharing one write probe per file system within a round:
     * {@code round} holds what the first directory probed on each device (by device number) gave, so
     * a host with many instances on one disk writes and fsyncs once, not once per instance. A shared
     * probe that fails is not taken for every instance: the instance's own directories are probed then,
     * so one unwritable directory is not reported for its neighbours.
     */
    public static Optional<Finding> probe(
            InstancePaths paths, long minFreeBytes, Map<Object, Optional<Finding>> round) {
        List<Target> targets;
        try {
            targets = targetsOf(paths);
        } catch (NoSuchFileException gone) {
            return Optional.empty();
        } catch (IOException e) {
            return Optional.of(classify(e, paths.dir()));
        }
        for (Target target : targets) {
            Object device;
            try {
                device = device(target.writeIn());
            } catch (IOException e) {
                return probe(targets, minFreeBytes);
            }
            Optional<Finding> shared = round.get(device);
            if (shared == null) {
                shared = probe(target.writeIn(), minFreeBytes);
                round.put(device, shared);
            }
            if (shared.isPresent()) {
                return probe(targets, minFreeBytes); // this instance's own answer
            }
        }
        return Optional.empty();
    }

    /**
     * The first directory that cannot be written, or that has less than {@code minFreeBytes} left to
     * unprivileged users; empty when every one is fine.
     */
    public static Optional<Finding> probe(List<Target> targets, long minFreeBytes) {
        for (Target target : targets) {
            Optional<Finding> finding = probe(target.writeIn(), minFreeBytes)
                    .map(f -> new Finding(f.problem(), f.message(), target.directory()));
            if (finding.isPresent()) {
                return finding;
            }
        }
        return Optional.empty();
    }

    static Optional<Finding> probe(Path dir, long minFreeBytes) {
        Path file = dir.resolve(PROBE_FILE);
        try {
            try (FileChannel channel = FileChannel.open(
                    file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
                ByteBuffer buffer = ByteBuffer.wrap(PROBE_BYTES);
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
                channel.force(true);
            } finally {
                Files.deleteIfExists(file);
            }
            // Root may write into the blocks a file system reserves for it; Postgres, an unprivileged user,
            // may not. And a few KB are no room for Postgres: it PANICs when it cannot create its next WAL
            // segment (16 MB), and a crashed one frees a few KB (its temporary files) that must not pass for
            // a healed disk.
            long usable = dir.toFile().getUsableSpace(); // statvfs, as an unprivileged user sees it
            if (usable < minFreeBytes) {
                return Optional.of(new Finding(
                        "no_space",
                        usable == 0
                                ? "no space left on device"
                                : "almost no space left on device (" + kib(usable) + " KB, less than "
                                        + kib(minFreeBytes) + " KB)",
                        dir));
            }
            return Optional.empty();
        } catch (IOException e) {
            return Optional.of(classify(e, dir));
        }
    }

    private static Object device(Path dir) throws IOException {
        return Files.getAttribute(dir, "unix:dev");
    }

    private static long kib(long bytes) {
        return bytes / 1024;
    }

    /** The kind of failure, from what the system said (Java gives errno only as its strerror text). */
    static Finding classify(IOException e, Path dir) {
        String said = e instanceof FileSystemException fs && fs.getReason() != null
                ? fs.getReason()
                : String.valueOf(e.getMessage());
        String lower = said.toLowerCase(java.util.Locale.ROOT);
        if (lower.contains("no space left")) {
            return new Finding("no_space", "no space left on device", dir);
        }
        if (lower.contains("quota")) {
            return new Finding("quota_exceeded", "disk quota exceeded", dir);
        }
        if (lower.contains("read-only file system")) {
            return new Finding("read_only", "read-only file system", dir);
        }
        if (e instanceof AccessDeniedException || lower.contains("permission denied")) {
            return new Finding("permission_denied", "permission denied", dir);
        }
        return new Finding("io_error", "cannot write: " + said, dir);
    }
}
