package io.pgfleet.server.agent;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** System V shared memory as Linux lists it in /proc/sysvipc/shm: how many processes a segment has. */
final class SharedMemory {
    private static final Path SEGMENTS = Path.of("/proc/sysvipc/shm");

    private SharedMemory() {}

    /** Processes attached to segment {@code shmid}; 0 when it is gone (or the system does not list any). */
    static int attachments(String shmid) {
        if (!Files.isReadable(SEGMENTS)) {
            return 0;
        }
        try {
            for (String line : Files.readAllLines(SEGMENTS)) {
                String[] columns = line.trim().split("\\s+");
                // key shmid perms size cpid lpid nattch …
                if (columns.length > 6 && columns[1].equals(shmid)) {
                    return Integer.parseInt(columns[6]);
                }
            }
            return 0;
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + SEGMENTS, e);
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
