package io.pgfleet.server.config;

import io.pgfleet.core.PgfleetException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.context.ConfigurableApplicationContext;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The options of {@code pgfleet server}. Each becomes a {@code pgfleet.*} Spring property, so the
 * same settings can also come from the environment ({@code PGFLEET_HOME=…}) or application.properties.
 */
@Command(
        name = "server",
        mixinStandardHelpOptions = true,
        description = "Runs the pgfleet control plane: REST API, catalog and the agent of this host.")
public class ServerOptions implements Callable<Integer> {
    private final Class<?> application;

    /** {@code application}: the Spring Boot application class to run (the entry point passes itself). */
    public ServerOptions(Class<?> application) {
        this.application = application;
    }

    @Option(names = "--home", description = "Home directory (default ~/.pgfleet, or /var/lib/pgfleet as root).")
    Path home;

    @Option(names = "--port", description = "HTTP port of the API (default 3000; 0 picks a free one).")
    Integer port;

    @Option(names = "--bind", description = "Address the API listens on (default 127.0.0.1).")
    String bind;

    @Option(names = "--host-id", description = "Id of this host (default host-1).")
    String hostId;

    @Option(names = "--catalog-url", description = "JDBC URL of an external catalog (PostgreSQL >= 13).")
    String catalogUrl;

    @Option(names = "--catalog-user", description = "User for --catalog-url.")
    String catalogUser;

    @Option(
            names = "--catalog-password-file",
            description = "File holding the password for --catalog-url (kept out of the process list).")
    Path catalogPasswordFile;

    @Option(names = "--pg-bin-dir", description = "Use this PostgreSQL installation's bin directory too.")
    Path pgBinDir;

    @Option(
            names = "--run-as",
            description = "As root: run every new instance as this one OS user instead of one OS user per tenant"
                    + " (tenants then share it).")
    String runAs;

    @Option(names = "--port-range", description = "Ports handed out to instances (default 5433-5999).")
    String portRange;

    @Option(names = "--advertise-host", description = "Host name put in connection URLs (default localhost).")
    String advertiseHost;

    @Option(
            names = "--listen-addresses",
            description = "Addresses the instances and their poolers listen on, comma-separated (default *, every"
                    + " interface); loopback is always added, for pgfleet's own probes.")
    String listenAddresses;

    @Option(
            names = "--api-url",
            description = "URL other hosts of the fleet reach this API at (default http://BIND:PORT).")
    String apiUrl;

    @Option(names = "--host-timeout", description = "A host without a heartbeat this long is unreachable (default 5s).")
    String hostTimeout;

    @Option(
            names = "--failover-grace",
            description = "How long a replicated node's primary may be lost before the leader fails over (default 3s).")
    String failoverGrace;

    @Option(
            names = "--dist-dir",
            description = "Where the bundled PostgreSQL binaries are unpacked (default: <home>/dist). Several"
                    + " homes on one machine may share one; only pgfleet may write to it.")
    Path distDir;

    @Option(
            names = "--pgbouncer-bin",
            description = "The pgbouncer executable (default: pgbouncer on PATH, then /usr/sbin/pgbouncer).")
    Path pgbouncerBin;

    @Option(
            names = "--join-url",
            description = "Join the fleet of the host at this API URL (with --join-token, from GET"
                    + " /v1/cluster/join-token there): the catalog and the fleet's key come from it, once.")
    String joinUrl;

    @Option(names = "--join-token", description = "The join token for --join-url (valid one hour).")
    String joinToken;

    @Option(names = "--migrate-only", description = "Run the catalog migrations and exit.")
    boolean migrateOnly;

    /**
     * Runs again with the same options: a host that joined a fleet through {@code POST /v1/cluster/join}
     * closes its context and starts on the fleet's catalog. Null until the server runs.
     */
    private static volatile Runnable relaunch;

    /** Whether this process was started by {@code pgfleet server} and can start again on another catalog. */
    public static boolean canRelaunch() {
        return relaunch != null;
    }

    /** Closes the running server and starts it again, on a thread of its own, after the current answer left. */
    public static void relaunchSoon() {
        Runnable again = relaunch;
        if (again == null) {
            throw new IllegalStateException("this pgfleet was not started by pgfleet server; it cannot start again");
        }
        Thread t = new Thread(
                () -> {
                    try {
                        Thread.sleep(300);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                    again.run();
                },
                "pgfleet-relaunch");
        // Not a daemon: once the old context is closed, this thread alone keeps the JVM alive.
        t.setDaemon(false);
        t.start();
    }

    @Override
    public Integer call() {
        try {
            useFleetCatalog();
        } catch (PgfleetException e) {
            System.err.println("pgfleet: " + e.getMessage());
            return e.code().exitCode();
        }
        List<String> properties = new ArrayList<>();
        add(properties, "pgfleet.home", home);
        add(properties, "server.port", port);
        add(properties, "server.address", bind);
        add(properties, "pgfleet.host-id", hostId);
        add(properties, "pgfleet.catalog-url", catalogUrl);
        add(properties, "pgfleet.catalog-user", catalogUser);
        add(properties, "pgfleet.catalog-password-file", catalogPasswordFile);
        add(properties, "pgfleet.pg-bin-dir", pgBinDir);
        add(properties, "pgfleet.run-as", runAs);
        add(properties, "pgfleet.port-range", portRange);
        add(properties, "pgfleet.advertise-host", advertiseHost);
        add(properties, "pgfleet.listen-addresses", listenAddresses);
        add(properties, "pgfleet.pgbouncer-bin", pgbouncerBin);
        add(properties, "pgfleet.dist-dir", distDir);
        add(properties, "pgfleet.api-url", apiUrl);
        add(properties, "pgfleet.host-timeout", hostTimeout);
        add(properties, "pgfleet.failover-grace", failoverGrace);
        try {
            SpringApplication app = new SpringApplication(application);
            if (migrateOnly) {
                properties.add("--pgfleet.migrate-only=true");
                app.setWebApplicationType(WebApplicationType.NONE);
                try (ConfigurableApplicationContext context = app.run(properties.toArray(String[]::new))) {
                    System.out.println("pgfleet: catalog migrations applied");
                }
                return 0;
            }
            ConfigurableApplicationContext context = app.run(properties.toArray(String[]::new));
            relaunch = () -> {
                context.close();
                int exit = call();
                if (exit != 0) {
                    System.exit(exit);
                }
            };
            return 0;
        } catch (RuntimeException e) {
            PgfleetException cause = findCause(e);
            if (cause != null) {
                // A start-up check failed: StartupFailureAnalyzer has already reported it without a stack trace.
                return cause.code().exitCode();
            }
            throw e;
        }
    }

    /**
     * A host that joined a fleet (now with {@code --join-url}, or before) uses the catalog it learned; one
     * given {@code --catalog-url} uses that.
     */
    private void useFleetCatalog() {
        if (catalogUrl != null) {
            if (joinUrl != null) {
                throw new PgfleetException(
                        io.pgfleet.core.ErrorCode.BAD_REQUEST, "--join-url and --catalog-url exclude each other");
            }
            return;
        }
        FleetMembership membership = new FleetMembership(FleetMembership.resolveHome(home));
        java.util.Optional<FleetMembership.Catalog> catalog = membership.joined();
        if (catalog.isEmpty() && joinUrl != null) {
            catalog = java.util.Optional.of(membership.join(joinUrl, joinToken, hostId, false));
            System.out.println("pgfleet: joined the fleet of " + joinUrl);
        }
        catalog.ifPresent(c -> {
            catalogUrl = c.url();
            catalogUser = c.user();
            catalogPasswordFile = c.passwordFile();
        });
    }

    private static PgfleetException findCause(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof PgfleetException p) {
                return p;
            }
        }
        return null;
    }

    private static void add(List<String> properties, String name, Object value) {
        if (value != null) {
            properties.add("--" + name + "=" + value);
        }
    }
}
