package io.pgfleet.server.agent;

import java.io.FileInputStream;
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
        // Called every second for every instance: bytes parsed in place, no String, no split (half the CPU).
        byte[] line = new byte[1024];
        int length = 0;
        try (FileInputStream in = new FileInputStream("/proc/" + pid + "/stat")) {
            for (int n; length < line.length && (n = in.read(line, length, line.length - length)) > 0; ) {
                length += n;
            }
        } catch (IOException e) {
            return false; // gone, or no /proc: the caller checks the long way
        }
        int close = length - 1;
        while (close >= 0 && line[close] != ')') {
            close--;
        }
        if (close < 0 || close + 2 >= length) {
            return false;
        }
        byte state = line[close + 2];
        if (state == 'Z' || state == 'X') {
            return false;
        }
        // "pid (comm) S f1 f2 …": the start time is the 19th field after the state (field 22 of the line).
        int at = close + 2;
        for (int spaces = 0; spaces < 19; at++) {
            if (at >= length) {
                return false;
            }
            if (line[at] == ' ') {
                spaces++;
            }
        }
        long ticks = 0;
        int digits = 0;
        for (; at < length && line[at] >= '0' && line[at] <= '9'; at++, digits++) {
            ticks = ticks * 10 + (line[at] - '0');
        }
        return digits > 0 && ticks == startTicks;
    }
}
