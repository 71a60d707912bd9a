package io.pgfleet.server.support;

import io.pgfleet.server.PgfleetServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * A real pgfleet server in this JVM: embedded catalog, real Postgres instances, the HTTP API on a free
 * port. Its home lives under /tmp with mode 0755, because the instances run as unprivileged OS users
 * (one per tenant), which cannot enter /root or a 0700 temp directory.
 */
public final class ServerUnderTest implements AutoCloseable {
    private static final Path ROOT = Path.of("/tmp/pf");

    private final Path home;
    private final ConfigurableApplicationContext context;
    private final Api api;

    private ServerUnderTest(Path home, ConfigurableApplicationContext context) {
        this.home = home;
        this.context = context;
        int port = Integer.parseInt(context.getEnvironment().getRequiredProperty("local.server.port"));
        this.api = new Api("http://127.0.0.1:" + port, adminKey(home));
    }

    /** A fresh home directory that the instances' OS user can traverse. */
    public static Path newHome(String name) {
        try {
            Files.createDirectories(ROOT);
            Files.setPosixFilePermissions(ROOT, PosixFilePermissions.fromString("rwxr-xr-x"));
            // Short on purpose: Unix socket paths under the home must stay within 107 bytes.
            Path home = ROOT.resolve(name.substring(0, Math.min(name.length(), 4))
                    + UUID.randomUUID().toString().substring(0, 6));
            Files.createDirectory(home);
            Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwxr-xr-x"));
            return home;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A port for instances of a test. {@code -Dpgfleet.it.port-offset=N} shifts every one, so two
     * checkouts can run their integration tests on one machine at once.
     */
    public static int port(int base) {
        return base + Integer.getInteger("pgfleet.it.port-offset", 0);
    }

    /**
     * Starts a server on {@code home} handing out instance ports {@code port(first)}-{@code port(last)};
     * {@code options} are extra {@code --name=value} Spring arguments.
     */
    public static ServerUnderTest start(Path home, int first, int last, String... options) {
        List<String> args = new ArrayList<>(List.of(
                "--pgfleet.home=" + home,
                "--pgfleet.port-range=" + port(first) + "-" + port(last),
                "--server.port=0",
                "--pgfleet.ready-timeout=20s"));
        args.addAll(List.of(options));
        ConfigurableApplicationContext context =
                new SpringApplication(PgfleetServer.class).run(args.toArray(String[]::new));
        return new ServerUnderTest(home, context);
    }

    /** The admin key pgfleet wrote on its first start, as a local operator would read it. */
    public static String adminKey(Path home) {
        try {
            return Files.readString(home.resolve("secrets/admin.key")).trim();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Api api() {
        return api;
    }

    public Path home() {
        return home;
    }

    public <T> T bean(String name, Class<T> type) {
        return context.getBean(name, type);
    }

    public <T> T bean(Class<T> type) {
        return context.getBean(type);
    }

    /** Stops the server only; its instances keep running, as they do in production. */
    @Override
    public void close() {
        context.close();
    }

    /**
     * Test hygiene: fast-stops every postmaster still running under {@code home} (a test that failed
     * half-way must not leave Postgres processes behind) and removes the directory.
     */
    public static void cleanUp(Path home) {
        Path instances = home.resolve("instances");
        if (Files.isDirectory(instances)) {
            try (Stream<Path> dirs = Files.list(instances)) {
                dirs.forEach(dir -> {
                    stopPostmaster(dir.resolve("data/postmaster.pid"));
                    stopPgBouncer(dir.resolve("pgbouncer/pgbouncer.pid"));
                });
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        stopPostmaster(home.resolve("catalog/data/postmaster.pid"));
        deleteTree(home);
        removeTenantOsUsers(home);
    }

    /**
     * Removes the OS users pgfleet created for this home's tenants (their comment names the home), so
     * test runs do not fill the host's system user ids. The default tenant's user is shared by every home
     * on the host (its id is fixed) and stays.
     */
    private static void removeTenantOsUsers(Path home) {
        if (!"root".equals(System.getProperty("user.name"))) {
            return;
        }
        try {
            for (String line : Files.readAllLines(Path.of("/etc/passwd"))) {
                String[] fields = line.split(":");
                if (fields.length > 4
                        && fields[0].startsWith("pgf-")
                        && !fields[0].equals("pgf-000000000000")
                        && fields[4].endsWith("home " + home)) {
                    run("userdel", fields[0]);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void stopPostmaster(Path pidFile) {
        if (!Files.isRegularFile(pidFile)) {
            return;
        }
        try {
            long pid = Long.parseLong(Files.readAllLines(pidFile).get(0).trim());
            ProcessHandle.of(pid).ifPresent(process -> {
                // SIGINT is Postgres' fast shutdown; wait so the next test starts from a quiet host.
                run("kill", "-INT", Long.toString(pid));
                awaitGone(process);
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Not a child of the test: a zombie counts as alive for onExit(), so ask /proc (Processes). */
    private static void awaitGone(ProcessHandle process) {
        org.awaitility.Awaitility.await()
                .atMost(java.time.Duration.ofSeconds(30))
                .pollInterval(java.time.Duration.ofMillis(20))
                .until(() -> !io.pgfleet.server.agent.Processes.isRunning(process));
    }

    /** PgBouncer runs detached like the postmaster; SIGTERM is its immediate shutdown. */
    private static void stopPgBouncer(Path pidFile) {
        if (!Files.isRegularFile(pidFile)) {
            return;
        }
        try {
            long pid = Long.parseLong(Files.readString(pidFile).trim());
            ProcessHandle.of(pid)
                    .filter(p ->
                            p.info().command().map(c -> c.contains("pgbouncer")).orElse(false))
                    .ifPresent(process -> {
                        process.destroy();
                        awaitGone(process);
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

    public static void deleteTree(Path dir) {
        if (Files.exists(dir)) {
            run("rm", "-rf", "--", dir.toString());
        }
    }
}
