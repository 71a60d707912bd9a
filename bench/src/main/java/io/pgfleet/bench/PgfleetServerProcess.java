package io.pgfleet.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A pgfleet server run as a child process through {@code bin/pgfleet server}, which builds the jar
 * first when the sources changed; hence the long wait for health. Stopped by its PID at the end.
 */
final class PgfleetServerProcess implements AutoCloseable {
    private static final Duration HEALTH_TIMEOUT = Duration.ofMinutes(10);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);

    private final Process process;
    private final Path log;

    private PgfleetServerProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    static PgfleetServerProcess start(Path launcher, Path home, int apiPort, String portRange, Path log) {
        if (!isFree(apiPort)) {
            // A server already on this port would answer the health check and be measured instead.
            throw new IllegalStateException(
                    "API port " + apiPort + " is in use; stop what listens there or pass --api-port");
        }
        List<String> command = List.of(
                launcher.toString(),
                "server",
                "--home",
                home.toString(),
                "--port",
                Integer.toString(apiPort),
                "--host-id",
                "bench",
                "--port-range",
                portRange);
        Process process;
        try {
            process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + launcher, e);
        }
        PgfleetServerProcess server = new PgfleetServerProcess(process, log);
        System.err.printf("bench: started %s (pid %d), log %s%n", String.join(" ", command), process.pid(), log);
        return server;
    }

    long pid() {
        return process.pid();
    }

    void awaitHealthy(PgfleetClient client) {
        long started = System.nanoTime();
        long deadline = started + HEALTH_TIMEOUT.toNanos();
        while (!client.isHealthy()) {
            if (!process.isAlive()) {
                throw new IllegalStateException("pgfleet server exited with " + process.exitValue()
                        + " before it was healthy; last lines of " + log + ":\n" + tail(20));
            }
            if (failedToStart()) {
                // Spring leaves the JVM running when the context fails after Tomcat started its threads.
                throw new IllegalStateException(
                        "pgfleet server failed to start (its JVM still runs); last lines of " + log + ":\n" + tail(20));
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("pgfleet server not healthy after " + HEALTH_TIMEOUT.toMinutes()
                        + " min; last lines of " + log + ":\n" + tail(20));
            }
            RawPostgres.sleep(200);
        }
        System.err.printf("bench: pgfleet healthy after %d ms%n", (System.nanoTime() - started) / 1_000_000);
    }

    /** SIGTERM (Spring's graceful shutdown stops the embedded catalog), then SIGKILL if it hangs. */
    @Override
    public void close() {
        if (!process.isAlive()) {
            return;
        }
        List<ProcessHandle> children = process.descendants().toList();
        process.destroy();
        try {
            if (!process.waitFor(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                System.err.printf(
                        "bench: pgfleet (pid %d) still running after %d s; killing it%n",
                        process.pid(), STOP_TIMEOUT.toSeconds());
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        // bin/pgfleet execs java, but while it builds, mvn runs as its child.
        for (ProcessHandle child : children) {
            if (child.isAlive()) {
                child.destroyForcibly();
            }
        }
        System.err.printf("bench: pgfleet (pid %d) stopped%n", process.pid());
    }

    private boolean failedToStart() {
        try {
            String text = Files.readString(log);
            return text.contains("Exception in thread \"main\"") || text.contains("APPLICATION FAILED TO START");
        } catch (IOException e) {
            return false;
        }
    }

    private String tail(int lines) {
        try {
            List<String> all = Files.readAllLines(log);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }

    static boolean isFree(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getByName("0.0.0.0"), port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
