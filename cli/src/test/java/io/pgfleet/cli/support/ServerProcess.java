package io.pgfleet.cli.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real pgfleet server as a child process ({@code java -jar server/target/pgfleet-server.jar}), with its
 * embedded catalog and real PostgreSQL instances. Its home is short and under /tmp with mode 0755: the
 * instances run as {@code postgres}, and their Unix socket paths must stay within 107 bytes.
 */
public final class ServerProcess implements AutoCloseable {
    private static final Path ROOT = Path.of("/tmp/pf");
    private static final Duration HEALTH_TIMEOUT = Duration.ofMinutes(3);

    private final Process process;
    private final Path home;
    private final Path log;
    private final String url;

    private ServerProcess(Process process, Path home, Path log, String url) {
        this.process = process;
        this.home = home;
        this.log = log;
        this.url = url;
    }

    /** Instance ports 7400-7449, shifted by {@code -Dpgfleet.it.port-offset} so checkouts do not collide. */
    public static int port(int base) {
        return base + Integer.getInteger("pgfleet.it.port-offset", 0);
    }

    public static ServerProcess start() {
        Path jar = Path.of("..", "server", "target", "pgfleet-server.jar")
                .toAbsolutePath()
                .normalize();
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing; build from the repository root (mvn -B verify)");
        }
        Path home = newHome();
        int apiPort = freePort();
        Path log = Path.of("target", "it-server-" + home.getFileName() + ".log").toAbsolutePath();
        List<String> command = List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar",
                jar.toString(),
                "--home",
                home.toString(),
                "--port",
                Integer.toString(apiPort),
                "--port-range",
                port(7400) + "-" + port(7449));
        try {
            Process process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            ServerProcess server = new ServerProcess(process, home, log, "http://127.0.0.1:" + apiPort);
            server.awaitHealthy();
            return server;
        } catch (IOException e) {
            cleanUp(home);
            throw new UncheckedIOException(e);
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

    private void awaitHealthy() {
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + HEALTH_TIMEOUT.toNanos();
        while (true) {
            if (!process.isAlive()) {
                close();
                throw new IllegalStateException("pgfleet server exited with " + process.exitValue() + "; see " + log);
            }
            try {
                HttpResponse<String> r = http.send(
                        HttpRequest.newBuilder(URI.create(url + "/v1/health"))
                                .timeout(Duration.ofSeconds(2))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet: expected while it starts
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                close();
                throw new IllegalStateException(e);
            }
            if (System.nanoTime() > deadline) {
                close();
                throw new IllegalStateException("pgfleet server not healthy after " + HEALTH_TIMEOUT + "; see " + log);
            }
            sleep(200);
        }
    }

    /** Stops the server by its PID, then every postmaster left under its home, then removes the home. */
    @Override
    public void close() {
        try {
            process.destroy();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        } finally {
            cleanUp(home);
        }
    }

    /** A port nothing listens on, for the API (or for a test that needs an unreachable server). */
    public static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path newHome() {
        try {
            Files.createDirectories(ROOT);
            Files.setPosixFilePermissions(ROOT, PosixFilePermissions.fromString("rwxr-xr-x"));
            Path home = ROOT.resolve("cli-" + UUID.randomUUID().toString().substring(0, 6));
            Files.createDirectory(home);
            Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwxr-xr-x"));
            return home;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void cleanUp(Path home) {
        Path instances = home.resolve("instances");
        if (Files.isDirectory(instances)) {
            try (Stream<Path> dirs = Files.list(instances)) {
                dirs.map(dir -> dir.resolve("data/postmaster.pid")).forEach(ServerProcess::stopPostmaster);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        stopPostmaster(home.resolve("catalog/data/postmaster.pid"));
        run("rm", "-rf", "--", home.toString());
    }

    private static void stopPostmaster(Path pidFile) {
        if (!Files.isRegularFile(pidFile)) {
            return;
        }
        try {
            long pid = Long.parseLong(Files.readAllLines(pidFile).get(0).trim());
            ProcessHandle.of(pid).ifPresent(postmaster -> {
                // SIGINT is Postgres' fast shutdown.
                run("kill", "-INT", Long.toString(pid));
                // Not our child: onExit() would wait for a zombie's reaping. Postgres removes its pid
                // file when the fast shutdown is done.
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (Files.exists(pidFile) && System.nanoTime() < deadline) {
                    try {
                        Thread.sleep(20);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException(e);
                    }
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void run(String... command) {
        try {
            int exit = new ProcessBuilder(command).inheritIO().start().waitFor();
            if (exit != 0) {
                throw new IllegalStateException(String.join(" ", command) + " exited with " + exit);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
