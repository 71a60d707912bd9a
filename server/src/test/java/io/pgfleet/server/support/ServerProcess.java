package io.pgfleet.server.support;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A real pgfleet server as a child process ({@code java -jar target/pgfleet-server.jar}, built in the
 * package phase before failsafe runs), for the tests that must SIGKILL it. Its instances are detached,
 * so killing it leaves them running, as in production.
 */
public final class ServerProcess {
    private static final Path JAR = Path.of("target/pgfleet-server.jar");
    private final Process process;
    private final Api api;

    private ServerProcess(Process process, Api api) {
        this.process = process;
        this.api = api;
    }

    /** Starts pgfleet on {@code home} with instance ports port(first)-port(last) and waits for its health. */
    public static ServerProcess start(Path home, int first, int last, Path log, String... systemProperties) {
        return launch(
                home,
                log,
                "127.0.0.1",
                List.of(systemProperties),
                List.of("--port-range", ServerUnderTest.port(first) + "-" + ServerUnderTest.port(last)));
    }

    /**
     * Starts pgfleet on {@code home} with its API on {@code address} (a free port) and the given server
     * options, and waits for its health: one host of a fleet, for instance, with its own loopback alias.
     */
    public static ServerProcess launch(
            Path home, Path log, String address, List<String> jvmOptions, List<String> serverOptions) {
        int apiPort = freePort();
        List<String> command = new ArrayList<>(
                List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m"));
        command.addAll(jvmOptions);
        command.addAll(List.of(
                "-jar",
                JAR.toAbsolutePath().toString(),
                "--home",
                home.toString(),
                "--bind",
                address,
                "--port",
                Integer.toString(apiPort)));
        command.addAll(serverOptions);
        Process process;
        try {
            process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command, e);
        }
        String base = "http://" + address + ":" + apiPort;
        HttpClient http = HttpClient.newHttpClient();
        // Generous: on a machine shared by several builds a JVM start has taken 50 s and more.
        await().atMost(Duration.ofSeconds(240))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> {
                    if (!process.isAlive()) {
                        throw new IllegalStateException("pgfleet exited with " + process.exitValue() + "; see " + log);
                    }
                    try {
                        return http.send(
                                                HttpRequest.newBuilder(URI.create(base + "/v1/health"))
                                                        .build(),
                                                HttpResponse.BodyHandlers.discarding())
                                        .statusCode()
                                == 200;
                    } catch (IOException e) {
                        return false; // not listening yet
                    }
                });
        return new ServerProcess(process, Api.of(base, ServerUnderTest.adminKey(home)));
    }

    public Api api() {
        return api;
    }

    public long pid() {
        return process.pid();
    }

    /** SIGKILL: no shutdown hook runs, exactly like an OOM kill or a power cut of the JVM alone. */
    public void kill() {
        process.destroyForcibly();
        await().atMost(Duration.ofSeconds(30)).until(() -> !process.isAlive());
    }

    /** SIGSTOP: the JVM freezes (no heartbeat, no answer) while its instances run on. */
    public void freeze() {
        signal("STOP");
    }

    /** SIGCONT after {@link #freeze}. */
    public void thaw() {
        signal("CONT");
    }

    private void signal(String name) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid()))
                    .inheritIO()
                    .start();
            if (kill.waitFor() != 0) {
                throw new IllegalStateException("kill -" + name + " " + process.pid() + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** SIGTERM: Spring's graceful shutdown; the instances keep running. */
    public void terminate() {
        process.destroy();
        await().atMost(Duration.ofSeconds(90)).until(() -> !process.isAlive());
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The data directories of the postmasters running on this host under {@code home}, from ps. */
    public static List<String> postmastersUnder(Path home) {
        try {
            Process ps = new ProcessBuilder("ps", "-eo", "args").start();
            String out = new String(ps.getInputStream().readAllBytes());
            ps.waitFor();
            List<String> dirs = new ArrayList<>();
            for (String line : out.split("\n")) {
                int d = line.indexOf(" -D ");
                if (line.contains("/postgres") && d > 0 && line.contains(home.toString())) {
                    dirs.add(line.substring(d + 4).trim().split(" ")[0]);
                }
            }
            return dirs;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
