package io.pgfleet.server.agent;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Reads the end of an instance's server log (or its pooler's) without loading the whole file, and
 * rotates a log that grew too large. Both Postgres (started by {@code pg_ctl -l}) and PgBouncer write
 * their log with O_APPEND, so rotation copies the file to {@code <name>.1} and truncates it in place:
 * the writer goes on at the new end, no signal and no restart needed. Lines written between the copy
 * and the truncation are lost; that window is a few milliseconds once per {@code log-max-size}.
 */
public final class ServerLog {
    public static final Set<String> LEVELS =
            Set.of("debug", "info", "notice", "log", "warning", "error", "fatal", "panic");
    private static final List<String> SEVERITY =
            List.of("DEBUG", "INFO", "NOTICE", "LOG", "WARNING", "ERROR", "FATAL", "PANIC");

    private ServerLog() {}

    /** The last {@code n} lines of the file (fewer if it is short); empty when there is no file yet. */
    public static List<String> tail(Path file, int n) {
        if (!Files.exists(file)) {
            return List.of();
        }
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
            long length = raf.length();
            long chunk = Math.min(length, Math.max(64 * 1024L, n * 256L));
            byte[] buffer = new byte[(int) Math.min(chunk, 16L * 1024 * 1024)];
            raf.seek(length - buffer.length);
            raf.readFully(buffer);
            String[] lines = new String(buffer, StandardCharsets.UTF_8).split("\n");
            int from = Math.max(buffer.length < length ? 1 : 0, lines.length - n);
            List<String> result = new ArrayList<>();
            for (int i = from; i < lines.length; i++) {
                result.add(lines[i]);
            }
            return result;
        } catch (IOException e) {
            return List.of("[pgfleet: cannot read " + file + ": " + e.getMessage() + "]");
        }
    }

    /** Rotates {@code file} when it is larger than {@code maxBytes}; returns whether it did. */
    public static boolean rotateIfLarger(Path file, long maxBytes) {
        try {
            if (!Files.isRegularFile(file) || Files.size(file) <= maxBytes) {
                return false;
            }
            Path previous = file.resolveSibling(file.getFileName() + ".1");
            Files.copy(file, previous, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            try (java.nio.channels.FileChannel channel =
                    java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
                channel.truncate(0);
            }
            return true;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("rotating " + file, e);
        }
    }

    /**
     * Like {@link #atLeast} for PgBouncer's lines, which spell the level as a word ({@code LOG},
     * {@code WARNING}, {@code ERROR}) without Postgres' colon.
     */
    public static List<String> poolerAtLeast(List<String> lines, String level) {
        int min = Math.max(SEVERITY.indexOf(level.toUpperCase(Locale.ROOT)), 0);
        List<String> kept = new ArrayList<>();
        for (String line : lines) {
            for (int i = min; i < SEVERITY.size(); i++) {
                if (line.contains(" " + SEVERITY.get(i) + " ") || line.contains(SEVERITY.get(i) + ":")) {
                    kept.add(line);
                    break;
                }
            }
        }
        return kept;
    }

    /** Keeps the lines at or above {@code level} (e.g. "warning" keeps WARNING, ERROR, FATAL, PANIC). */
    public static List<String> atLeast(List<String> lines, String level) {
        int min = SEVERITY.indexOf(level.toUpperCase(Locale.ROOT));
        List<String> kept = new ArrayList<>();
        for (String line : lines) {
            for (int i = Math.max(min, 0); i < SEVERITY.size(); i++) {
                if (line.contains(SEVERITY.get(i) + ":")) {
                    kept.add(line);
                    break;
                }
            }
        }
        return kept;
    }
}
