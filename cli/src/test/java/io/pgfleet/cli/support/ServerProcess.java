package io.pgfleet.cli.support;

import io.pgfleet.testkit.Homes;
import io.pgfleet.testkit.PgfleetProcess;
import io.pgfleet.testkit.Ports;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A real pgfleet server as a child process ({@code java -jar server/target/pgfleet-server.jar}), with its
 * embedded catalog and real PostgreSQL instances. Its home is short and under /tmp with mode 0755: the
 * instances run as {@code postgres}, and their Unix socket paths must stay within 107 bytes.
 */
public final class ServerProcess implements AutoCloseable {
    private static final Duration HEALTH_TIMEOUT = Duration.ofMinutes(3);

    private final PgfleetProcess process;
    private final Path home;
    private final String url;

    private ServerProcess(PgfleetProcess process, Path home, String url) {
        this.process = process;
        this.home = home;
        this.url = url;
    }

    /** Instance ports 7400-7449, shifted by {@code -Dpgfleet.it.port-offset} so checkouts do not collide. */
    public static int port(int base) {
        return Ports.offset(base);
    }

    public static ServerProcess start() {
        Path jar = Path.of("..", "server", "target", "pgfleet-server.jar")
                .toAbsolutePath()
                .normalize();
        Path home = Homes.create("cli-");
        int apiPort = Ports.free();
        Path log = Path.of("target", "it-server-" + home.getFileName() + ".log").toAbsolutePath();
        try {
            PgfleetProcess process = PgfleetProcess.start(
                    PgfleetProcess.javaJar(
                            jar,
                            List.of(),
                            PgfleetProcess.testServerArguments(home, apiPort, port(7400) + "-" + port(7449))),
                    apiPort,
                    log,
                    HEALTH_TIMEOUT);
            return new ServerProcess(process, home, process.url());
        } catch (RuntimeException e) {
            Homes.cleanUp(home);
            throw e;
        }
    }

    public String url() {
        return url;
    }

    public Path home() {
        return home;
    }

    /** The admin key the server wrote on its first start. */
    public String adminKey() {
        try {
            return java.nio.file.Files.readString(home.resolve("secrets/admin.key"))
                    .trim();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** GET on the API, as the CLI's JSON must equal it. */
    public String get(String path) {
        return get(path, adminKey());
    }

    /** GET on the API with another key, e.g. one of another tenant. */
    public String get(String path, String apiKey) {
        try {
            HttpResponse<String> response = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create(url + path))
                                    .header("Authorization", "Bearer " + apiKey)
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IllegalStateException(
                        "GET " + path + " answered " + response.statusCode() + ": " + response.body());
            }
            return response.body();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Stops the server by its PID, then every postmaster and pooler left under its home, then removes the home. */
    @Override
    public void close() {
        try {
            process.close();
        } finally {
            Homes.cleanUp(home);
        }
    }

    /** A port nothing listens on, for the API (or for a test that needs an unreachable server). */
    public static int freePort() {
        return Ports.free();
    }
}
