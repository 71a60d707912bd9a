package io.pgfleet.server.support;

import io.pgfleet.server.PgfleetServer;
import io.pgfleet.testkit.Homes;
import io.pgfleet.testkit.Ports;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * A real pgfleet server in this JVM: embedded catalog, real Postgres instances, the HTTP API on a free
 * port. Its home lives under /tmp with mode 0755, because the instances run as unprivileged OS users
 * (one per tenant), which cannot enter /root or a 0700 temp directory.
 */
public final class ServerUnderTest implements AutoCloseable {

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
        return Homes.create(name);
    }

    /**
     * A port for instances of a test. {@code -Dpgfleet.it.port-offset=N} shifts every one, so two
     * checkouts can run their integration tests on one machine at once.
     */
    public static int port(int base) {
        return Ports.offset(base);
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
                "--pgfleet.ready-timeout=20s",
                "--pgfleet.dist-dir=" + Homes.sharedDist()));
        args.addAll(List.of(options));
        ConfigurableApplicationContext context =
                new SpringApplication(PgfleetServer.class).run(args.toArray(String[]::new));
        return new ServerUnderTest(home, context);
    }

    /** The admin key pgfleet wrote on its first start, as a local operator would read it. */
    public static String adminKey(Path home) {
        return Homes.adminKey(home);
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
     * Test hygiene: fast-stops every postmaster and pooler still running under {@code home} (a test
     * that failed half-way must not leave processes behind) and removes the directory.
     */
    public static void cleanUp(Path home) {
        Homes.cleanUp(home);
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
        Homes.deleteTree(dir);
    }
}
