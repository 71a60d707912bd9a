package io.pgfleet.bench;

import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a host program to completion as the instance OS user, its output appended to a log file.
 *
 * <p>Output goes to a file, not a pipe: a postmaster started by {@code pg_ctl} inherits the
 * descriptors, so a pipe would never reach end-of-file while the server runs.
 */
final class OsCommand {
    private final List<String> prefix;
    private final Path log;

    /** @param runAs OS user to drop to when running as root; ignored otherwise */
    OsCommand(String runAs, Path log) {
        boolean root = "root".equals(System.getProperty("user.name"));
        this.prefix =
                root ? List.of("setpriv", "--reuid=" + runAs, "--regid=" + runAs, "--init-groups", "--") : List.of();
        this.log = log;
    }

    void run(Duration timeout, String... command) {
        List<String> full = new ArrayList<>(prefix);
        full.addAll(List.of(command));
        ProcessBuilder builder = new ProcessBuilder(full)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        builder.environment().put("LC_ALL", "C");
        long offset = log.toFile().length();
        try {
            Process process = builder.start();
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException(name(command) + " did not finish within " + timeout.toSeconds()
                        + " s; output: " + outputFrom(offset));
            }
            if (process.exitValue() != 0) {
                throw new IllegalStateException(
                        name(command) + " failed (exit " + process.exitValue() + "): " + outputFrom(offset));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command[0], e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(name(command) + " was interrupted", e);
        }
    }

    private static String name(String... command) {
        return Path.of(command[0]).getFileName() + (command.length > 1 ? " " + command[1] : "");
    }

    private String outputFrom(long offset) {
        try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "r")) {
            long start = Math.max(offset, file.length() - 2000);
            byte[] bytes = new byte[(int) (file.length() - start)];
            file.seek(start);
            file.readFully(bytes);
            return new String(bytes, StandardCharsets.UTF_8).strip().replace('\n', '|');
        } catch (IOException e) {
            return "(unreadable " + log + ": " + e.getMessage() + ")";
        }
    }
}
