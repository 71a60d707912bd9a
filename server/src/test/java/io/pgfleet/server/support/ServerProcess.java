package io.pgfleet.server.support;

import io.pgfleet.testkit.Homes;
import io.pgfleet.testkit.PgfleetProcess;
import io.pgfleet.testkit.Ports;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A real pgfleet server as a child process ({@code java -jar target/pgfleet-server.jar}, built in the
 * package phase before failsafe runs), for the tests that must SIGKILL it; the testkit's
 * {@link PgfleetProcess} with this module's {@link Api}.
 */
public final class ServerProcess {
    private static final Path JAR = Path.of("target/pgfleet-server.jar");
    private final PgfleetProcess process;
    private final Api api;

    private ServerProcess(PgfleetProcess process, Api api) {
        this.process = process;
        this.api = api;
    }

    /** Starts pgfleet on {@code home} with instance ports port(first)-port(last) and waits for its health. */
    public static ServerProcess start(Path home, int first, int last, Path log, String... systemProperties) {
        int apiPort = Ports.free();
        List<String> command = PgfleetProcess.javaJar(
                JAR,
                List.of(systemProperties),
                PgfleetProcess.testServerArguments(
                        home, apiPort, ServerUnderTest.port(first) + "-" + ServerUnderTest.port(last)));
        PgfleetProcess process = PgfleetProcess.start(command, apiPort, log, Duration.ofSeconds(90));
        return new ServerProcess(process, Api.of(process.url(), Homes.adminKey(home)));
    }

    /**
     * Starts pgfleet on {@code home} with its API on {@code address} (a free port) and the given server
     * options, and waits for its health: one host of a fleet, for instance, with its own loopback alias.
     */
    public static ServerProcess launch(
            Path home, Path log, String address, List<String> jvmOptions, List<String> serverOptions) {
        return launch(home, log, address, jvmOptions, serverOptions, null);
    }

    /**
     * As {@link #launch(Path, Path, String, List, List)}, called with {@code adminKey} (null: the admin key
     * the host wrote into its home): a host that joined a fleet holds none of its own.
     */
    public static ServerProcess launch(
            Path home, Path log, String address, List<String> jvmOptions, List<String> serverOptions, String adminKey) {
        return launchSharingKey(
                home,
                log,
                address,
                jvmOptions,
                serverOptions,
                () -> adminKey != null ? adminKey : Homes.adminKey(home));
    }

    /** The same process, called with another key. */
    public ServerProcess withKey(String key) {
        return new ServerProcess(process, api.withKey(key));
    }

    public Api api() {
        return api;
    }

    public long pid() {
        return process.pid();
    }

    /** SIGKILL: no shutdown hook runs, exactly like an OOM kill or a power cut of the JVM alone. */
    public void kill() {
        process.kill();
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
        process.terminate();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /**
     * As {@link #launch(Path, Path, String, List, List)}, with the admin key from {@code adminKey} once it
     * is healthy: hosts of one fleet started at once share the key one of them created in its own home.
     */
    public static ServerProcess launchSharingKey(
            Path home,
            Path log,
            String address,
            List<String> jvmOptions,
            List<String> serverOptions,
            java.util.function.Supplier<String> adminKey) {
        int apiPort = Ports.free();
        List<String> arguments = new java.util.ArrayList<>(List.of(
                "--home",
                home.toString(),
                "--bind",
                address,
                "--port",
                Integer.toString(apiPort),
                "--dist-dir",
                Homes.sharedDist().toString()));
        arguments.addAll(serverOptions);
        List<String> command = PgfleetProcess.javaJar(JAR, jvmOptions, arguments);
        // Generous: on a machine shared by several builds a JVM start has taken 50 s and more.
        PgfleetProcess process = PgfleetProcess.start(command, address, apiPort, log, Duration.ofSeconds(240));
        return new ServerProcess(process, Api.of(process.url(), adminKey.get()));
    }

    /** The data directories of the postmasters running on this host under {@code home}, from ps. */
    public static List<String> postmastersUnder(Path home) {
        return Homes.postmastersUnder(home);
    }

    public static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
