package io.pgfleet.server.support;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Three pgfleet hosts as child processes on 127.0.0.1-3 over one catalog PostgreSQL the test starts,
 * started side by side with one shared secret key, the system's PostgreSQL 15 (pg_basebackup), a 5 s
 * host timeout and a 3 s failover grace: the fleet of the replica tests, one per test class. Every
 * host reads its pause points (pgfleet.test-pause-at-step=@FILE) from {@link #pausePoints()}.
 */
public final class ReplicaFleet implements AutoCloseable {
    private final String name;
    private final int rangeFirst;
    private final int rangeLast;
    private final List<Path> homes = new ArrayList<>();
    private final List<ServerProcess> hosts = new ArrayList<>();
    private final List<Path> logs = new ArrayList<>();
    private final Path pausePoints;
    private final CatalogPostgres catalog;
    /** Whether the hosts run the bundled PostgreSQL (no pg_basebackup, no pg_rewind) instead of the system's 15. */
    private final boolean bundled;

    private ReplicaFleet(String name, int catalogPort, int rangeFirst, int rangeLast, boolean bundled)
            throws IOException {
        this.name = name;
        this.bundled = bundled;
        this.rangeFirst = rangeFirst;
        this.rangeLast = rangeLast;
        this.catalog = CatalogPostgres.start(ServerUnderTest.port(catalogPort));
        Path logDir = Files.createDirectories(Path.of("target/it-logs"));
        this.pausePoints =
                Files.writeString(logDir.resolve(name + "-pause-points"), "").toAbsolutePath();
        for (int i = 1; i <= 3; i++) {
            Path home = ServerUnderTest.newHome(name.substring(0, 3) + i);
            homes.add(home);
            logs.add(logDir.resolve(name + "-host-" + i + "-" + home.getFileName() + ".log"));
        }
    }

    /**
     * Starts the catalog (on port(catalogPort)) and the three hosts (instance ports port(rangeFirst) to
     * port(rangeLast) on each); {@code name} prefixes homes and logs.
     */
    public static ReplicaFleet start(String name, int catalogPort, int rangeFirst, int rangeLast) throws IOException {
        return start(name, catalogPort, rangeFirst, rangeLast, false);
    }

    /** As {@link #start(String, int, int, int)}, on the bundled PostgreSQL when {@code bundled}. */
    public static ReplicaFleet start(String name, int catalogPort, int rangeFirst, int rangeLast, boolean bundled)
            throws IOException {
        ReplicaFleet fleet = new ReplicaFleet(name, catalogPort, rangeFirst, rangeLast, bundled);
        try {
            fleet.startHosts();
        } catch (RuntimeException | IOException e) {
            fleet.close();
            throw e;
        }
        return fleet;
    }

    private void startHosts() throws IOException {
        // One secret.key for the fleet, written before any host starts, so the three start side by side
        // (one of them creates the admin key, in its own home; see adminKey()).
        byte[] key = new byte[32];
        new java.security.SecureRandom().nextBytes(key);
        for (Path home : homes) {
            Path secrets = Files.createDirectories(home.resolve("secrets"));
            Files.setPosixFilePermissions(secrets, PosixFilePermissions.fromString("rwx------"));
            Files.write(secrets.resolve("secret.key"), key);
            Files.setPosixFilePermissions(secrets.resolve("secret.key"), PosixFilePermissions.fromString("rw-------"));
        }
        List<CompletableFuture<ServerProcess>> starting = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            int host = i;
            starting.add(CompletableFuture.supplyAsync(() -> launch(host)));
        }
        for (CompletableFuture<ServerProcess> host : starting) {
            hosts.add(host.join());
        }
    }

    /** The fleet's admin key, from the home of whichever host created it at the first start. */
    private String adminKey() {
        return await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(100))
                .until(
                        () -> homes.stream()
                                .map(h -> h.resolve("secrets").resolve("admin.key"))
                                .filter(Files::exists)
                                .map(f -> ServerProcess.read(f).trim())
                                .filter(k -> !k.isEmpty())
                                .findFirst()
                                .orElse(null),
                        java.util.Objects::nonNull);
    }

    /** Starts host {@code i} (1-3) on its home and waits for its health; it is not recorded as the host. */
    public ServerProcess launch(int i) {
        String address = "127.0.0." + i;
        List<String> arguments = new ArrayList<>(List.of(
                "--host-id",
                "host-" + i,
                "--catalog-url",
                catalog.jdbcUrl(),
                "--catalog-user",
                "pgfleet",
                "--advertise-host",
                address,
                "--listen-addresses",
                address,
                "--port-range",
                ServerUnderTest.port(rangeFirst) + "-" + ServerUnderTest.port(rangeLast),
                "--host-timeout",
                "5s",
                "--failover-grace",
                "3s"));
        if (!bundled) {
            arguments.addAll(List.of("--pg-bin-dir", CatalogPostgres.BIN.toString()));
        }
        return ServerProcess.launchSharingKey(
                homes.get(i - 1),
                logs.get(i - 1),
                address,
                List.of("-Dpgfleet.test-pause-at-step=@" + pausePoints),
                arguments,
                this::adminKey);
    }

    public Api api(int host) {
        return hosts.get(host - 1).api();
    }

    /** The API of the first host alive. */
    public Api liveApi() {
        for (ServerProcess host : hosts) {
            if (host.isAlive()) {
                return host.api();
            }
        }
        throw new IllegalStateException("no host of fleet " + name + " alive");
    }

    public ServerProcess host(int i) {
        return hosts.get(i - 1);
    }

    /** Records {@code process} (from {@link #launch}) as host {@code i}. */
    public void set(int i, ServerProcess process) {
        hosts.set(i - 1, process);
    }

    public Path home(int i) {
        return homes.get(i - 1);
    }

    public Path log(int i) {
        return logs.get(i - 1);
    }

    public Path pausePoints() {
        return pausePoints;
    }

    /** Kills the hosts, then every postmaster still running under their homes, removes the homes and the catalog. */
    @Override
    public void close() {
        for (ServerProcess host : hosts) {
            if (host != null && host.isAlive()) {
                host.kill();
            }
        }
        for (Path home : homes) {
            for (String dir : ServerProcess.postmastersUnder(home)) {
                killPostmaster(Path.of(dir));
            }
            ServerUnderTest.cleanUp(home);
        }
        catalog.close();
    }

    /** SIGKILL of the postmaster of {@code data}, as its pid file names it; nothing when there is none. */
    public static void killPostmaster(Path data) {
        Path pidFile = data.resolve("postmaster.pid");
        try {
            if (!Files.exists(pidFile)) {
                return;
            }
            String pid = Files.readAllLines(pidFile).get(0).trim();
            new ProcessBuilder("kill", "-9", pid).inheritIO().start().waitFor();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
