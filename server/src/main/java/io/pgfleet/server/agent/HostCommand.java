package io.pgfleet.server.agent;

import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.PgfleetException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs one host program to completion, bounded in time, and returns its exit code and output. */
public final class HostCommand {
    /** What a finished program said. */
    public record Result(int exitCode, String output) {
        public boolean succeeded() {
            return exitCode == 0;
        }

        public String lastLines(int n) {
            String[] lines = output.strip().split("\n");
            return String.join(
                    "\n", java.util.Arrays.asList(lines).subList(Math.max(0, lines.length - n), lines.length));
        }
    }

    private HostCommand() {}

    public static Result run(List<String> command, Path workDir, Map<String, String> env, Duration timeout) {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        if (workDir != null) {
            builder.directory(workDir.toFile());
        }
        builder.environment().put("LC_ALL", "C");
        builder.environment().putAll(env);
        builder.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new PgfleetException(ErrorCode.INTERNAL, "cannot run " + command.get(0) + ": " + e.getMessage(), e);
        }
        // Read on another thread so a chatty program cannot block on a full pipe while we wait.
        StringBuilder output = new StringBuilder();
        Thread reader = new Thread(() -> drain(process.getInputStream(), output), "pgfleet-output");
        reader.setDaemon(true);
        reader.start();
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new PgfleetException(
                        ErrorCode.INTERNAL, describe(command) + " did not finish within " + timeout.toSeconds() + " s");
            }
            reader.join(Duration.ofSeconds(5).toMillis());
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new PgfleetException(ErrorCode.INTERNAL, describe(command) + " was interrupted", e);
        }
        synchronized (output) {
            return new Result(process.exitValue(), output.toString());
        }
    }

    private static void drain(InputStream in, StringBuilder output) {
        try (in) {
            byte[] buffer = new byte[8192];
            int n;
            while ((n = in.read(buffer)) >= 0) {
                synchronized (output) {
                    output.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
                }
            }
        } catch (IOException e) {
            synchronized (output) {
                output.append("\n[pgfleet: output could not be read: ")
                        .append(e.getMessage())
                        .append("]");
            }
        }
    }

    static String describe(List<String> command) {
        List<String> shown = new ArrayList<>();
        for (String part : command) {
            if (part.startsWith("--reuid")
                    || part.startsWith("--regid")
                    || part.equals("--init-groups")
                    || part.equals("setpriv")
                    || part.equals("--")) {
                continue;
            }
            shown.add(part.contains("/") ? Path.of(part).getFileName().toString() : part);
            if (shown.size() == 2) {
                break;
            }
        }
        return String.join(" ", shown);
    }
}
