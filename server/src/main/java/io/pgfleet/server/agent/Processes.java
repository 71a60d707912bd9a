package io.pgfleet.server.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Facts about host processes that {@link ProcessHandle} does not give. */
public final class Processes {
    private Processes() {}

    /**
     * Whether the process runs: alive and not a zombie. A killed postmaster is reparented away from
     * pgfleet and stays a zombie until its new parent reaps it, which on some hosts takes seconds;
     * {@link ProcessHandle#isAlive()} says true all that time.
     */
    public static boolean isRunning(ProcessHandle process) {
        if (!process.isAlive()) {
            return false;
        }
        Path stat = Path.of("/proc", Long.toString(process.pid()), "stat");
        try {
            String line = Files.readString(stat);
            // "pid (comm) S ...": comm may hold spaces and parentheses, so the state follows the last ')'.
            int close = line.lastIndexOf(')');
            char state = close >= 0 && close + 2 < line.length() ? line.charAt(close + 2) : 'R';
            return state != 'Z' && state != 'X';
        } catch (NoSuchFileException e) {
            return false; // gone between the two checks
        } catch (IOException e) {
            return true; // no /proc here (not Linux): trust isAlive
        }
    }

    /**
     * When the process started, in clock ticks since boot (field 22 of {@code /proc/PID/stat}): with the
     * pid, it names one process for good, since a recycled pid starts later. Empty without /proc.
     */
    public static java.util.OptionalLong startTicks(long pid) {
        try {
            String line = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String[] fields = line.substring(line.lastIndexOf(')') + 2).split(" ");
            return fields.length > 19
                    ? java.util.OptionalLong.of(Long.parseLong(fields[19]))
                    : java.util.OptionalLong.empty();
        } catch (IOException | RuntimeException e) {
            return java.util.OptionalLong.empty(); // gone, or no /proc here: the caller checks another way
        }
    }

    /**
     * Whether the process {@code pid} that started at {@code startTicks} still runs (not a zombie), with
     * one read of {@code /proc/PID/stat}: a recycled pid started later, so it does not pass. The health
     * monitor's check of a postmaster it has already identified. False without /proc.
     */
    public static boolean isStillRunning(long pid, long startTicks) {
        try {
            String line = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            int close = line.lastIndexOf(')');
            if (close < 0 || close + 2 >= line.length()) {
                return false;
            }
            char state = line.charAt(close + 2);
            if (state == 'Z' || state == 'X') {
                return false;
            }
            String[] fields = line.substring(close + 2).split(" ", 21);
            return fields.length > 20 && Long.parseLong(fields[19]) == startTicks;
        } catch (IOException | NumberFormatException e) {
            return false; // gone, or no /proc: the caller checks the long way
        }
    }
}
