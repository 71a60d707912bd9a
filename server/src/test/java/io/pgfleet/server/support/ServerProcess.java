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
                PgfleetProcess.serverArguments(
                        home, apiPort, ServerUnderTest.port(first) + "-" + ServerUnderTest.port(last)));
        PgfleetProcess process = PgfleetProcess.start(command, apiPort, log, Duration.ofSeconds(90));
        return new ServerProcess(process, Api.of(process.url(), Homes.adminKey(home)));
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

    /** SIGTERM: Spring's graceful shutdown; the instances keep running. */
    public void terminate() {
        process.terminate();
    }

    public boolean isAlive() {
        return process.isAlive();
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
