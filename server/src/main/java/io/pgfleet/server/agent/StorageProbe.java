package io.pgfleet.server.agent;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Whether an instance can still write its files: in its data directory and its log directory, a small
 * file is written, fsynced and deleted, and the space left to unprivileged users is read. A full disk
 * (ENOSPC, or less than a minimum left outside the blocks reserved for root, which pgfleet's own
 * writes may still use but Postgres cannot), an exceeded quota, a read-only mount or a permission problem each have their
 * own {@link Finding#problem()}. A probe costs one small write and an fsync per directory.
 */
public final class StorageProbe {
    /** The probe's file; Postgres ignores unknown files at the top of its data directory. */
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
     * The directories of one instance worth probing: its data directory once initdb has finished (a probe
     * file must never be there when initdb checks that the directory is empty) and its log directory.
     */
    public static List<Path> directoriesOf(InstancePaths paths) {
        List<Path> dirs = new ArrayList<>();
        if (paths.hasDataDirectory()) {
            dirs.add(paths.data());
        }
        if (Files.isDirectory(paths.logDir())) {
            dirs.add(paths.logDir());
        }
        return dirs;
    }

    /**
     * The first directory that cannot be written, or that has less than {@code minFreeBytes} left to
     * unprivileged users; empty when every one is fine.
     */
    public static Optional<Finding> probe(List<Path> directories, long minFreeBytes) {
        for (Path dir : directories) {
            Optional<Finding> finding = probe(dir, minFreeBytes);
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
            long usable = Files.getFileStore(dir).getUsableSpace();
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
