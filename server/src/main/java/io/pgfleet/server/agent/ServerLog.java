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

/** Reads the end of an instance's server log without loading the whole file. */
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
