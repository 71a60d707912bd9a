package io.pgfleet.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real pgfleet server as a child process ({@code java -jar pgfleet-server.jar}, or {@code bin/pgfleet
 * server}), for the tests that must SIGKILL it and for the benchmarks. Its instances are detached, so
 * stopping or killing it leaves them running, as in production: {@link Homes#cleanUp} stops them.
 */
public final class PgfleetProcess implements AutoCloseable {
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(90);

    private final Process process;
    private final Path log;
    private final long logStart;
    private final String url;

    private PgfleetProcess(Process process, Path log, long logStart, String url) {
        this.process = process;
        this.log = log;
        this.logStart = logStart;
        this.url = url;
    }

    /** The command that runs the server jar with this JVM's java, extra {@code -D} options first. */
    public static List<String> javaJar(Path jar, List<String> jvmOptions, List<String> serverArguments) {
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(
                    jar + " is missing; build it first (mvn -B verify from the repository root)");
        }
        List<String> command = new ArrayList<>(
                // C1 only and the serial collector: a test server starts faster on a busy machine (no C2 or
                // parallel GC threads competing for the cores) and runs plenty fast for a test.
                List.of(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-Xmx256m",
                        "-XX:TieredStopAtLevel=1",
                        "-XX:+UseSerialGC"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-jar", jar.toAbsolutePath().toString()));
        command.addAll(serverArguments);
        return command;
    }

    /** {@code --home HOME --port API_PORT --port-range RANGE}: what every server of a test gets. */
    public static List<String> serverArguments(Path home, int apiPort, String portRange) {
        return List.of("--home", home.toString(), "--port", Integer.toString(apiPort), "--port-range", portRange);
    }

    /** {@code serverArguments} and the shared {@code --dist-dir} of test servers ({@link Homes#sharedDist}). */
    public static List<String> testServerArguments(Path home, int apiPort, String portRange) {
        List<String> arguments = new ArrayList<>(serverArguments(home, apiPort, portRange));
        arguments.addAll(List.of("--dist-dir", Homes.sharedDist().toString()));
        return arguments;
    }

    /**
     * Runs {@code command} (its output appended to {@code log}) and waits until {@code GET /v1/health}
     * on {@code apiPort} answers 200; fails early when the process exits or Spring reports that it
     * failed to start, and after {@code healthTimeout}.
     */
    public static PgfleetProcess start(List<String> command, int apiPort, Path log, Duration healthTimeout) {
        return start(command, "127.0.0.1", apiPort, log, healthTimeout);
    }

    /** As {@link #start(List, int, Path, Duration)}, for a server whose API is bound to {@code address}. */
    public static PgfleetProcess start(
            List<String> command, String address, int apiPort, Path log, Duration healthTimeout) {
        Process process;
        long logStart;
        try {
            logStart = Files.exists(log) ? Files.size(log) : 0;
            process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command, e);
        }
        PgfleetProcess server = new PgfleetProcess(process, log, logStart, "http://" + address + ":" + apiPort);
        try {
            server.awaitHealthy(healthTimeout);
        } catch (RuntimeException e) {
            server.kill();
            throw e;
        }
        return server;
    }

    private void awaitHealthy(Duration timeout) {
        HttpClient http =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        Waits.until("pgfleet at " + url + " to be healthy (log " + log + ")", timeout, Duration.ofMillis(100), () -> {
            if (!process.isAlive()) {
                throw new IllegalStateException(
                        "pgfleet exited with " + process.exitValue() + "; last lines of " + log + ":\n" + tail(20));
            }
            if (ownLog().contains("APPLICATION FAILED TO START")) {
                // Spring leaves the JVM running when the context fails after Tomcat started its threads.
                throw new IllegalStateException("pgfleet failed to start; last lines of " + log + ":\n" + tail(20));
            }
            try {
                return http.send(
                                        HttpRequest.newBuilder(URI.create(url + "/v1/health"))
                                                .timeout(Duration.ofSeconds(2))
                                                .build(),
                                        HttpResponse.BodyHandlers.discarding())
                                .statusCode()
                        == 200;
            } catch (IOException e) {
                return false; // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        });
    }

    public String url() {
        return url;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public Path log() {
        return log;
    }

    /** SIGKILL: no shutdown hook runs, exactly like an OOM kill or a power cut of the JVM alone. */
    public void kill() {
        List<ProcessHandle> children = process.descendants().toList();
        process.destroyForcibly();
        awaitExit(Duration.ofSeconds(30));
        // bin/pgfleet execs java, but while it builds, mvn runs as its child.
        children.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
    }

    /** SIGTERM: Spring's graceful shutdown; the instances keep running. SIGKILL if it outlasts the bound. */
    public void terminate() {
        List<ProcessHandle> children = process.descendants().toList();
        process.destroy();
        if (!awaitExit(STOP_TIMEOUT)) {
            process.destroyForcibly();
            awaitExit(Duration.ofSeconds(10));
        }
        children.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            terminate();
        }
    }

    private boolean awaitExit(Duration timeout) {
        try {
            return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            return false;
        }
    }

    /** What this process wrote to the log (which may hold earlier runs' lines before it). */
    private String ownLog() {
        try (java.io.RandomAccessFile file = new java.io.RandomAccessFile(log.toFile(), "r")) {
            long length = file.length() - logStart;
            if (length <= 0) {
                return "";
            }
            byte[] bytes = new byte[(int) Math.min(length, 1 << 20)];
            file.seek(file.length() - bytes.length);
            file.readFully(bytes);
            return new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    /** The last lines of the server's log. */
    public String tail(int lines) {
        try {
            List<String> all = Files.readAllLines(log);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }
}
