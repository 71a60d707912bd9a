package io.pgfleet.server.agent;

import io.pgfleet.core.DatabaseSpec;
import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.core.ServerParameter;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.config.PgfleetProperties;
import io.pgfleet.server.security.Secret;
import io.pgfleet.server.security.SecretBox;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.stereotype.Component;

/** The host-side steps of an instance's workflows: provision, start, stop, connect, remove. */
@Component
public class InstanceAgent {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(InstanceAgent.class);
    private final HostLayout layout;
    private final PostgresDistribution distribution;
    private final SecretBox secrets;
    private final PgfleetProperties properties;
    private final TenantOsUser osUsers;

    public InstanceAgent(
            HostLayout layout,
            PostgresDistribution distribution,
            SecretBox secrets,
            PgfleetProperties properties,
            TenantOsUser osUsers) {
        this.osUsers = osUsers;
        this.layout = layout;
        this.distribution = distribution;
        this.secrets = secrets;
        this.properties = properties;
    }

    public PostgresServer server(InstanceRow instance, String databaseId) {
        return new PostgresServer(
                osUsers.of(instance),
                distribution.binDir(instance.postgresVersion()),
                new InstancePaths(layout.instanceDir(instance.id())),
                "instance " + instance.nodeName() + " of " + databaseId);
    }

    public Secret superuserPassword(InstanceRow instance) {
        return secrets.open(instance.superuserPasswordEnc());
    }

    /** InitDataDirectory and WritePostgresConf: both skip what is already in place. */
    public void prepare(InstanceRow instance, String databaseId, DatabaseSpec spec) {
        PostgresServer server = server(instance, databaseId);
        server.initDataDirectory(superuserPassword(instance));
        server.writeConfiguration(
                instance.port(), properties.listenAddresses(), spec.effectiveConf(instance.nodeName()));
    }

    /** InitDataDirectory: initdb with the instance's superuser; skipped when PG_VERSION exists. */
    public void initDataDirectory(InstanceRow instance, String databaseId) {
        server(instance, databaseId).initDataDirectory(superuserPassword(instance));
    }

    public boolean hasInstanceDirectory(InstanceRow instance) {
        return Files.exists(layout.instanceDir(instance.id()));
    }

    public boolean hasDataDirectory(InstanceRow instance) {
        return Files.exists(
                new InstancePaths(layout.instanceDir(instance.id())).data().resolve("PG_VERSION"));
    }

    /** WritePostgresConf: rewrites the files only when their content differs; returns whether it did. */
    public boolean writeConfiguration(InstanceRow instance, String databaseId, DatabaseSpec spec) {
        return server(instance, databaseId)
                .writeConfiguration(
                        instance.port(), properties.listenAddresses(), spec.effectiveConf(instance.nodeName()));
    }

    /** When the running postmaster started ({@code pg_postmaster_start_time()}). */
    public java.time.Instant postmasterStartedAt(InstanceRow instance, String databaseId) {
        try (Connection c = connect(instance, "postgres");
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT pg_postmaster_start_time()")) {
            rs.next();
            return rs.getTimestamp(1).toInstant();
        } catch (SQLException e) {
            throw new PgfleetException(
                    ErrorCode.INVALID_STATE,
                    "instance " + instance.nodeName() + " of " + databaseId + ": cannot read its start time: "
                            + e.getMessage(),
                    e);
        }
    }

    /**
     * StartPostgres and AwaitReady: a no-op when the postmaster already answers. Refuses when
     * another process holds the port; rolls the start back (stops again) when it does not become ready.
     */
    public void start(InstanceRow instance, String databaseId) {
        PostgresServer server = server(instance, databaseId);
        Secret password = superuserPassword(instance);
        if (server.runningPid().isEmpty()) {
            if (!PortProbe.isFree(instance.port())) {
                throw new PgfleetException(
                        ErrorCode.PORT_CONFLICT,
                        "instance " + instance.nodeName() + " of " + databaseId + ": port " + instance.port()
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

    public void stop(InstanceRow instance, String databaseId) {
        PostgresServer server = server(instance, databaseId);
        server.stop(properties.stopTimeout());
        if (server.runningPid().isPresent()) {
            throw new PgfleetException(
                    ErrorCode.INTERNAL,
                    "instance " + instance.nodeName() + " of " + databaseId + ": still running after stop");
        }
    }

    /** Whether a running instance answers {@code SELECT 1} within a few seconds. */
    public boolean answers(InstanceRow instance, String databaseId) {
        try {
            server(instance, databaseId)
                    .awaitReady(instance.port(), superuserPassword(instance), Duration.ofSeconds(5));
            return true;
        } catch (PgfleetException e) {
            log.info("instance {} of {}: does not answer: {}", instance.nodeName(), databaseId, e.getMessage());
            return false;
        }
    }

    /**
     * The same server without looking up its binaries: enough to read its pid file. An instance whose
     * PostgreSQL version is gone from this host can still be observed and deleted.
     */
    private PostgresServer observed(InstanceRow instance, String databaseId) {
        return new PostgresServer(
                OsAccount.unusable("an observed instance is only read"),
                null,
                new InstancePaths(layout.instanceDir(instance.id())),
                "instance " + instance.nodeName() + " of " + databaseId);
    }

    public boolean isRunning(InstanceRow instance, String databaseId) {
        return observed(instance, databaseId).runningPid().isPresent();
    }

    /**
     * ReconcileRoles: the spec's users, the database and its owner, the users to drop (after
     * reassigning what they own), and the pooler's auth_user when the spec enables the pooler.
     */
    public void reconcileRoles(
            InstanceRow instance,
            String databaseId,
            DatabaseSpec spec,
            Map<String, Secret> passwords,
            List<String> drop) {
        Secret poolerPassword = spec.hasPooler() ? poolerPassword(instance) : null;
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
                    ErrorCode.INTERNAL,
                    "instance " + instance.nodeName() + " of " + databaseId + ": reconciling users failed: " + message);
        }
    }

    /** VerifyRoles: what differs from the spec on this instance (drift), one message per finding. */
    public List<String> verifyRoles(
            InstanceRow instance, String databaseId, DatabaseSpec spec, Map<String, Secret> passwords) {
        try (Connection c = connect(instance, "postgres")) {
            return RoleReconciler.verify(c, spec, passwords);
        } catch (SQLException e) {
            throw new PgfleetException(
                    ErrorCode.INTERNAL,
                    "instance " + instance.nodeName() + " of " + databaseId + ": verifying users failed: "
                            + e.getMessage(),
                    e);
        }
    }

    /** The server's own pg_settings: what a {@code postgresql_conf} change is checked against. */
    public Map<String, ServerParameter> serverParameters(InstanceRow instance, String databaseId) {
        Map<String, ServerParameter> result = new HashMap<>();
        try (Connection c = connect(instance, "postgres");
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(
                        "SELECT name, context, vartype, unit, min_val, max_val, enumvals FROM pg_settings")) {
            while (rs.next()) {
                java.sql.Array enumvals = rs.getArray("enumvals");
                result.put(
                        rs.getString("name"),
                        new ServerParameter(
                                rs.getString("name"),
                                rs.getString("context"),
                                rs.getString("vartype"),
                                rs.getString("unit"),
                                rs.getString("min_val"),
                                rs.getString("max_val"),
                                enumvals == null ? List.of() : List.of((String[]) enumvals.getArray())));
            }
            return result;
        } catch (SQLException e) {
            throw new PgfleetException(
                    ErrorCode.INVALID_STATE,
                    "instance " + instance.nodeName() + " of " + databaseId + ": cannot read pg_settings: "
                            + e.getMessage(),
                    e);
        }
    }

    /**
     * Reloads the configuration already written and waits until new sessions see it: the reloadable
     * parameters at their new values, the postmaster ones marked pending_restart. Returns whether any
     * setting now waits for a restart, as pg_settings reports it.
     */
    public boolean reload(
            InstanceRow instance,
            String databaseId,
            DatabaseSpec spec,
            List<String> reloadable,
            List<String> needRestart) {
        String subject = "instance " + instance.nodeName() + " of " + databaseId;
        Map<String, String> conf = spec.effectiveConf(instance.nodeName());
        try (Connection c = connect(instance, "postgres");
                Statement st = c.createStatement()) {
            st.execute("SELECT pg_reload_conf()");
        } catch (SQLException e) {
            throw new PgfleetException(ErrorCode.INTERNAL, subject + ": reload failed: " + e.getMessage(), e);
        }
        // pg_reload_conf() only signals the postmaster; new sessions see the change a moment later.
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            Map<String, ServerParameter> settings = serverParameters(instance, databaseId);
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
                    return hasPendingRestart(instance, databaseId);
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

    // ---- PgBouncer ----

    /** The pgbouncer executable: --pgbouncer-bin, else pgbouncer on PATH, else Debian's /usr/sbin. */
    public Optional<Path> pgbouncerExecutable() {
        if (properties.pgbouncerBin() != null) {
            return Optional.of(properties.pgbouncerBin()).filter(Files::isExecutable);
        }
        List<Path> candidates = new ArrayList<>();
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty()) {
                candidates.add(Path.of(dir, "pgbouncer"));
            }
        }
        candidates.add(Path.of("/usr/sbin/pgbouncer"));
        return candidates.stream().filter(Files::isExecutable).findFirst();
    }

    public PgBouncer pooler(InstanceRow instance, String databaseId) {
        Path executable = pgbouncerExecutable()
                .orElseThrow(() -> new PgfleetException(
                        ErrorCode.INVALID_SPEC,
                        "pgbouncer is not installed: install it (apt-get install pgbouncer) or pass --pgbouncer-bin"));
        return new PgBouncer(
                osUsers.of(instance),
                executable,
                new InstancePaths(layout.instanceDir(instance.id())).pgbouncerDir(),
                "pooler of instance " + instance.nodeName() + " of " + databaseId);
    }

    private Secret poolerPassword(InstanceRow instance) {
        if (instance.poolerPasswordEnc() == null) {
            throw new PgfleetException(
                    ErrorCode.INTERNAL, "instance " + instance.nodeName() + " has no pooler password yet");
        }
        return secrets.open(instance.poolerPasswordEnc());
    }

    private PgBouncer.Config poolerConfig(InstanceRow instance, DatabaseSpec spec) {
        return new PgBouncer.Config(
                instance.poolerPort(),
                properties.listenAddresses(),
                instance.port(),
                spec.databaseName(),
                spec.pooler(),
                poolerPassword(instance));
    }

    /** WritePoolerConf, StartPooler, AwaitPoolerReady (a query through it); each a no-op when done. */
    public void startPooler(InstanceRow instance, String databaseId, DatabaseSpec spec) {
        PgBouncer pooler = pooler(instance, databaseId);
        PgBouncer.Config config = poolerConfig(instance, spec);
        boolean changed = pooler.writeConfiguration(config);
        if (changed && pooler.runningPid().isPresent()) {
            try (PgBouncerConsole console = new PgBouncerConsole(
                    instance.poolerPort(), config.authPassword(), "pooler of " + instance.nodeName())) {
                console.reload();
            }
        }
        pooler.start(instance.poolerPort());
        pooler.awaitReady(config, properties.readyTimeout());
    }

    public void stopPooler(InstanceRow instance, String databaseId) {
        if (pgbouncerExecutable().isEmpty()) {
            return; // never installed, so never started
        }
        pooler(instance, databaseId).stop();
    }

    public boolean isPoolerRunning(InstanceRow instance, String databaseId) {
        return pgbouncerExecutable().isPresent()
                && pooler(instance, databaseId).runningPid().isPresent();
    }

    /**
     * Restarts Postgres (on {@code target}'s port, which may be new). With a pooler running in front,
     * clients see a pause, not an error: PAUSE waits for their transactions, Postgres restarts, the
     * pooler is pointed at the new postmaster (RELOAD, RECONNECT), and RESUME lets the held queries on.
     */
    public void restart(InstanceRow current, InstanceRow target, String databaseId, DatabaseSpec spec) {
        if (current.poolerPort() == null || !spec.hasPooler() || !isPoolerRunning(current, databaseId)) {
            stop(current, databaseId);
            prepare(target, databaseId, spec);
            start(target, databaseId);
            return;
        }
        PgBouncer.Config config = poolerConfig(target, spec);
        String db = spec.databaseName();
        try (PgBouncerConsole console =
                new PgBouncerConsole(current.poolerPort(), config.authPassword(), "pooler of " + current.nodeName())) {
            console.pause(db);
            try {
                stop(current, databaseId);
                prepare(target, databaseId, spec);
                start(target, databaseId);
                if (pooler(target, databaseId).writeConfiguration(config)) {
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
    public boolean hasPendingRestart(InstanceRow instance, String databaseId) {
        try (Connection c = connect(instance, "postgres");
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_settings WHERE pending_restart")) {
            rs.next();
            return rs.getLong(1) > 0;
        } catch (SQLException e) {
            throw new PgfleetException(
                    ErrorCode.INVALID_STATE,
                    "instance " + instance.nodeName() + " of " + databaseId + ": cannot read pg_settings: "
                            + e.getMessage(),
                    e);
        }
    }

    /** Ends client sessions so a delete does not wait for them. */
    public void terminateConnections(InstanceRow instance, String databaseId) {
        try (Connection c = connect(instance, "postgres");
                Statement st = c.createStatement()) {
            st.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'");
        } catch (SQLException e) {
            throw new PgfleetException(
                    ErrorCode.INTERNAL,
                    "instance " + instance.nodeName() + " of " + databaseId + ": terminating connections failed: "
                            + e.getMessage(),
                    e);
        }
    }

    public void removeFiles(InstanceRow instance) {
        try {
            PostgresDistribution.deleteTree(layout.instanceDir(instance.id()));
        } catch (IOException e) {
            throw new UncheckedIOException("removing " + layout.instanceDir(instance.id()), e);
        }
    }

    public Connection connect(InstanceRow instance, String database) throws SQLException {
        return PostgresServer.connect(instance.port(), database, superuserPassword(instance), Duration.ofSeconds(5));
    }
}
