package io.pgfleet.server.agent;

import io.pgfleet.core.DatabaseSpec;
import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.core.Secret;
import io.pgfleet.core.ServerParameter;
import io.pgfleet.server.config.PgfleetProperties;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.stereotype.Component;

/**
 * The host-side work on an instance's Postgres: data directory, configuration, the postmaster
 * (start, stop, restart behind its pooler), settings, roles, connections, removal. PgBouncer is
 * {@link PoolerAgent}.
 */
@Component
public class InstanceAgent {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(InstanceAgent.class);
    private final HostLayout layout;
    private final PostgresDistribution distribution;
    private final PgfleetProperties properties;
    private final PoolerAgent poolers;

    private final TenantOsUser osUsers;
    private final CpuLimits cpuLimits;

    public InstanceAgent(
            HostLayout layout,
            PostgresDistribution distribution,
            PgfleetProperties properties,
            PoolerAgent poolers,
            TenantOsUser osUsers,
            CpuLimits cpuLimits) {
        this.osUsers = osUsers;
        this.cpuLimits = cpuLimits;
        this.poolers = poolers;
        this.layout = layout;
        this.distribution = distribution;
        this.properties = properties;
    }

    public PostgresServer server(InstanceRuntime instance) {
        return new PostgresServer(
                osUsers.of(instance),
                distribution.binDir(instance.postgresVersion()),
                new InstancePaths(layout.instanceDir(instance.id())),
                instance.subject(),
                cpuLimits.launchPrefix(instance.id()));
    }

    /** InitDataDirectory and WritePostgresConf: both skip what is already in place. */
    public void prepare(InstanceRuntime instance, DatabaseSpec spec) {
        PostgresServer server = server(instance);
        server.initDataDirectory(instance.superuserPassword());
        writeConfiguration(instance, spec);
    }

    /** InitDataDirectory: initdb with the instance's superuser; skipped when a finished data directory exists. */
    public void initDataDirectory(InstanceRuntime instance) {
        server(instance).initDataDirectory(instance.superuserPassword());
    }

    public boolean hasInstanceDirectory(InstanceRuntime instance) {
        return Files.exists(layout.instanceDir(instance.id()));
    }

    public boolean hasDataDirectory(InstanceRuntime instance) {
        return new InstancePaths(layout.instanceDir(instance.id())).hasDataDirectory();
    }

    /** WritePostgresConf: rewrites the files only when their content differs; returns whether it did. */
    public boolean writeConfiguration(InstanceRuntime instance, DatabaseSpec spec) {
        cpuLimits.limit(instance.id(), spec.effectiveCpus(instance.nodeName()));
        if (cpuLimits.enforced()) {
            server(instance).runningPid().ifPresent(pid -> cpuLimits.adopt(instance.id(), pid));
        }
        Map<String, String> conf = new java.util.TreeMap<>(spec.effectiveConf(instance.nodeName()));
        conf.putAll(instance.streaming().parameters(passfile(instance)));
        return server(instance)
                .writeConfiguration(
                        instance.port(),
                        properties.listenAddresses(),
                        conf,
                        instance.streaming().replicationSources());
    }

    /** Where the walreceiver finds the replication role's password (mode 0600, the instance user's). */
    public java.nio.file.Path passfile(InstanceRuntime instance) {
        return layout.instanceDir(instance.id()).resolve("replication.pgpass");
    }

    /** When the running postmaster started ({@code pg_postmaster_start_time()}). */
    public java.time.Instant postmasterStartedAt(InstanceRuntime instance) {
        try (Connection c = connect(instance, "postgres");
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT pg_postmaster_start_time()")) {
            rs.next();
            return rs.getTimestamp(1).toInstant();
        } catch (SQLException e) {
            throw new PgfleetException(
                    ErrorCode.INVALID_STATE, instance.subject() + ": cannot read its start time: " + e.getMessage(), e);
        }
    }

    /**
     * StartPostgres and AwaitReady: a no-op when the postmaster already answers. Refuses when
     * another process holds the port; rolls the start back (stops again) when it does not become ready.
     */
    public void start(InstanceRuntime instance, DatabaseSpec spec) {
        cpuLimits.limit(instance.id(), spec.effectiveCpus(instance.nodeName()));
        start(instance);
    }

    /** As {@link #start(InstanceRuntime, DatabaseSpec)}, in the CPU group its configuration last set. */
    public void start(InstanceRuntime instance) {
        PostgresServer server = server(instance);
        Secret password = instance.superuserPassword();
        if (server.runningPid().isEmpty()) {
            if (!PortProbe.isFreeWithin(instance.port(), Duration.ofSeconds(3))) {
                throw new PgfleetException(
                        ErrorCode.PORT_CONFLICT,
                        instance.subject() + ": port " + instance.port()
                                + " is in use by another process on this host; free it or change the port");
            }
            server.launch();
        }
        try {
            server.awaitReady(instance.port(), password, properties.readyTimeout());
        } catch (PgfleetException e) {
            server.stop(properties.stopTimeout());
            throw e;
        }
    }

    public void stop(InstanceRuntime instance) {
        PostgresServer server = server(instance);
        server.stop(properties.stopTimeout());
        if (server.runningPid().isPresent()) {
            throw new PgfleetException(ErrorCode.INTERNAL, instance.subject() + ": still running after stop");
        }
    }

    /** Whether a running instance answers {@code SELECT 1} within a few seconds. */
    public boolean answers(InstanceRuntime instance) {
        try {
            server(instance).awaitReady(instance.port(), instance.superuserPassword(), Duration.ofSeconds(5));
            return true;
        } catch (PgfleetException e) {
            log.info("{}: does not answer: {}", instance.subject(), e.getMessage());
            return false;
        }
    }

    /**
     * The same server without looking up its binaries: enough to read its pid file. An instance whose
     * PostgreSQL version is gone from this host can still be observed and deleted.
     */
    private PostgresServer observed(InstanceRuntime instance) {
        return new PostgresServer(
                OsAccount.unusable("an observed instance is only read"),
                null,
                new InstancePaths(layout.instanceDir(instance.id())),
                instance.subject());
    }

    public boolean isRunning(InstanceRuntime instance) {
        return observed(instance).runningPid().isPresent();
    }

    /** The PID of the instance's running postmaster (its pid file checked against the process), if any. */
    public Optional<Long> runningPid(InstanceRuntime instance) {
        return observed(instance).runningPid();
    }

    /**
     * ReconcileRoles: the spec's users, the database and its owner, the users to drop (after
     * reassigning what they own), and the pooler's auth_user when the spec enables the pooler.
     */
    public void reconcileRoles(
            InstanceRuntime instance, DatabaseSpec spec, Map<String, Secret> passwords, List<String> drop) {
        if (instance.streaming().isStandby()) {
            return; // read-only: its roles arrive from the primary by replication
        }
        Secret poolerPassword = spec.hasPooler() ? poolers.poolerPassword(instance) : null;
        try (Connection c = connect(instance, "postgres")) {
            RoleReconciler.reconcile(
                    c, () -> connect(instance, spec.databaseName()), spec, passwords, drop, poolerPassword);
        } catch (SQLException e) {
            // The message goes to the task log and events: a password echoed by the server must not.
            String message = String.valueOf(e.getMessage());
            for (Secret password : passwords.values()) {
                if (password != null && !password.value().isEmpty()) {
                    message = message.replace(password.value(), "****")
                            .replace(password.value().replace("'", "''"), "****");
                }
            }
            throw new PgfleetException(
                    ErrorCode.INTERNAL, instance.subject() + ": reconciling users failed: " + message);
        }
    }

    /**
     * VerifyRoles on a connection the caller holds ({@link #connectHeld}): what differs from the spec,
     * one message per finding. The caller makes sure the instance is not a standby.
     */
    public List<String> verifyRoles(Connection postgres, DatabaseSpec spec, Map<String, Secret> passwords)
            throws SQLException {
        return RoleReconciler.verify(postgres, spec, passwords);
    }

    /**
     * A superuser connection to the instance's {@code postgres} database meant to be kept between checks,
     * named {@code applicationName} in pg_stat_activity so counts of client sessions can leave it out.
     */
    public Connection connectHeld(InstanceRuntime instance, String applicationName) throws SQLException {
        return PostgresServer.connect(
                instance.port(), "postgres", instance.superuserPassword(), Duration.ofSeconds(5), applicationName);
    }

    /** VerifyRoles: what differs from the spec on this instance (drift), one message per finding. */
    public List<String> verifyRoles(InstanceRuntime instance, DatabaseSpec spec, Map<String, Secret> passwords) {
        if (instance.streaming().isStandby()) {
            return List.of(); // a copy of its primary, verified there
        }
        try (Connection c = connect(instance, "postgres")) {
            return RoleReconciler.verify(c, spec, passwords);
        } catch (SQLException e) {
            throw new PgfleetException(
                    ErrorCode.INTERNAL, instance.subject() + ": verifying users failed: " + e.getMessage(), e);
        }
    }

    /** The server's own pg_settings: what a {@code postgresql_conf} change is checked against. */
    public Map<String, ServerParameter> serverParameters(InstanceRuntime instance) {
        try (Connection c = connect(instance, "postgres")) {
            return PgSettings.read(c);
        } catch (SQLException e) {
            throw new PgfleetException(
                    ErrorCode.INVALID_STATE, instance.subject() + ": cannot read pg_settings: " + e.getMessage(), e);
        }
    }

    /**
     * Postgres keeps running on its old values for a file it cannot apply (a value its check rejects,
     * such as an unknown time zone): such an update must fail, and be rolled back, rather than complete
     * while Postgres ignores it. pg_file_settings names each rejected line; settings that merely wait
     * for a restart are not errors.
     */
    private void refuseUnloadableFile(InstanceRuntime instance) {
        List<String> rejected = new ArrayList<>();
        try (Connection c = connect(instance, "postgres");
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("""
                        SELECT coalesce(f.name, '(line ' || f.sourceline || ')'), f.setting, f.error
                        FROM pg_file_settings f LEFT JOIN pg_settings s ON lower(s.name) = lower(f.name)
                        WHERE f.error IS NOT NULL AND NOT coalesce(s.pending_restart, false)
                          AND f.error <> 'parameter cannot be changed without restarting the server'
                        ORDER BY f.seqno""")) {
            while (rs.next()) {
                rejected.add(rs.getString(1) + " = '" + rs.getString(2) + "' (" + rs.getString(3) + ")");
            }
        } catch (SQLException e) {
            throw new PgfleetException(
                    ErrorCode.INTERNAL, instance.subject() + ": reading pg_file_settings failed: " + e.getMessage(), e);
        }
        if (!rejected.isEmpty()) {
            throw new PgfleetException(
                    ErrorCode.INVALID_SPEC,
                    instance.subject() + ": PostgreSQL rejected its configuration and kept the old values: "
                            + String.join("; ", rejected));
        }
    }

    /**
     * Reloads the configuration already written and waits until new sessions see it: the reloadable
     * parameters at their new values, the postmaster ones marked pending_restart. Returns whether any
     * setting now waits for a restart, as pg_settings reports it.
     */
    public boolean reload(
            InstanceRuntime instance, DatabaseSpec spec, List<String> reloadable, List<String> needRestart) {
        String subject = instance.subject();
        Map<String, String> conf = spec.effectiveConf(instance.nodeName());
        try (Connection c = connect(instance, "postgres");
                Statement st = c.createStatement()) {
            st.execute("SELECT pg_reload_conf()");
        } catch (SQLException e) {
            throw new PgfleetException(ErrorCode.INTERNAL, subject + ": reload failed: " + e.getMessage(), e);
        }
        refuseUnloadableFile(instance);
        // pg_reload_conf() only signals the postmaster; new sessions see the change a moment later.
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            Map<String, ServerParameter> settings = serverParameters(instance);
            try (Connection c = connect(instance, "postgres");
                    PreparedStatement ps = c.prepareStatement(
                            "SELECT name, setting, pending_restart FROM pg_settings WHERE name = ANY(?)")) {
                List<String> names = new ArrayList<>(reloadable);
                names.addAll(needRestart);
                ps.setArray(1, c.createArrayOf("text", names.toArray()));
                boolean applied = true;
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        String name = rs.getString(1);
                        if (needRestart.contains(name)) {
                            ServerParameter p = settings.get(name);
                            boolean unchanged = conf.containsKey(name)
                                    && p != null
                                    && p.canonical(conf.get(name)).equals(rs.getString(2));
                            applied &= rs.getBoolean(3) || unchanged;
                        } else if (conf.containsKey(name) && settings.containsKey(name)) {
                            applied &=
                                    settings.get(name).canonical(conf.get(name)).equals(rs.getString(2));
                        }
                    }
                }
                if (applied || System.nanoTime() > deadline) {
                    return hasPendingRestart(instance);
                }
            } catch (SQLException e) {
                throw new PgfleetException(
                        ErrorCode.INTERNAL, subject + ": reading pg_settings failed: " + e.getMessage(), e);
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new PgfleetException(ErrorCode.INTERNAL, subject + ": waiting for the reload was canceled", e);
            }
        }
    }

    /**
     * Restarts Postgres (on {@code target}'s port, which may be new). With a pooler running in front,
     * clients see a pause, not an error: PAUSE waits for their transactions, Postgres restarts, the
     * pooler is pointed at the new postmaster (RELOAD, RECONNECT), and RESUME lets the held queries on.
     */
    public void restart(InstanceRuntime current, InstanceRuntime target, DatabaseSpec spec) {
        if (current.poolerPort() == null || !spec.hasPooler() || !poolers.isRunning(current)) {
            stop(current);
            prepare(target, spec);
            start(target);
            return;
        }
        PgBouncer.Config config = poolers.config(target, spec);
        String db = spec.databaseName();
        try (PgBouncerConsole console =
                new PgBouncerConsole(current.poolerPort(), config.authPassword(), "pooler of " + current.nodeName())) {
            console.pause(db);
            try {
                stop(current);
                prepare(target, spec);
                start(target);
                if (poolers.pgbouncer(target).writeConfiguration(config)) {
                    console.reload();
                }
                console.reconnect(db);
            } finally {
                // Even when the restart failed: held clients get an answer instead of waiting forever.
                console.resume(db);
            }
        }
    }

    /** Whether a parameter change waits for a restart ({@code pg_settings.pending_restart}). */
    public boolean hasPendingRestart(InstanceRuntime instance) {
        try (Connection c = connect(instance, "postgres");
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_settings WHERE pending_restart")) {
            rs.next();
            return rs.getLong(1) > 0;
        } catch (SQLException e) {
            throw new PgfleetException(
                    ErrorCode.INVALID_STATE, instance.subject() + ": cannot read pg_settings: " + e.getMessage(), e);
        }
    }

    /** Ends client sessions so a delete does not wait for them. */
    public void terminateConnections(InstanceRuntime instance) {
        try (Connection c = connect(instance, "postgres");
                Statement st = c.createStatement()) {
            st.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'");
        } catch (SQLException e) {
            throw new PgfleetException(
                    ErrorCode.INTERNAL, instance.subject() + ": terminating connections failed: " + e.getMessage(), e);
        }
    }

    public void removeFiles(InstanceRuntime instance) {
        cpuLimits.remove(instance.id());
        try {
            PostgresDistribution.deleteTree(layout.instanceDir(instance.id()));
        } catch (IOException e) {
            throw new UncheckedIOException("removing " + layout.instanceDir(instance.id()), e);
        }
    }

    public Connection connect(InstanceRuntime instance, String database) throws SQLException {
        return PostgresServer.connect(instance.port(), database, instance.superuserPassword(), Duration.ofSeconds(5));
    }
}
