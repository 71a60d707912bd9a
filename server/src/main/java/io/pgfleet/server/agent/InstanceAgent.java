package io.pgfleet.server.agent;

import io.pgfleet.core.DatabaseSpec;
import io.pgfleet.core.DatabaseUserSpec;
import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.config.PgfleetProperties;
import io.pgfleet.server.security.Secret;
import io.pgfleet.server.security.SecretBox;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import org.springframework.stereotype.Component;

/** The host-side steps of an instance's workflows: provision, start, stop, connect, remove. */
@Component
public class InstanceAgent {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(InstanceAgent.class);
    private final HostLayout layout;
    private final PostgresDistribution distribution;
    private final SecretBox secrets;
    private final PgfleetProperties properties;

    public InstanceAgent(
            HostLayout layout, PostgresDistribution distribution, SecretBox secrets, PgfleetProperties properties) {
        this.layout = layout;
        this.distribution = distribution;
        this.secrets = secrets;
        this.properties = properties;
    }

    public PostgresServer server(InstanceRow instance, String databaseId) {
        return new PostgresServer(
                layout,
                distribution.binDir(instance.postgresVersion()),
                new InstancePaths(layout.instanceDir(instance.id())),
                "instance " + instance.nodeName() + " of " + databaseId);
    }

    /**
     * The same server without looking up its binaries: enough to read its pid file. An instance whose
     * PostgreSQL version is gone from this host can still be observed and deleted.
     */
    private PostgresServer observed(InstanceRow instance, String databaseId) {
        return new PostgresServer(
                layout,
                null,
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
        server.writeConfiguration(instance.port(), properties.listenAddresses(), spec.postgresqlConf());
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

    public boolean isRunning(InstanceRow instance, String databaseId) {
        return observed(instance, databaseId).runningPid().isPresent();
    }

    /** Creates (or brings up to date) the spec's roles and the database owned by the db_owner user. */
    public void createRolesAndDatabase(
            InstanceRow instance, String databaseId, DatabaseSpec spec, Map<String, Secret> passwords) {
        try (Connection c = connect(instance, "postgres");
                Statement st = c.createStatement()) {
            // Keep passwords out of the server log, even when a statement fails.
            st.execute("SET log_statement = 'none'");
            // RoleStatements quotes literals for standard strings; never let a setting change that.
            st.execute("SET standard_conforming_strings = on");
            st.execute("SET log_min_error_statement = 'panic'");
            st.execute("SET log_min_duration_statement = -1");
            for (DatabaseUserSpec user : spec.databaseUsers()) {
                Secret password = passwords.get(user.username());
                st.execute(
                        roleExists(c, user.username())
                                ? RoleStatements.alter(user, password)
                                : RoleStatements.create(user, password));
                for (String role : user.roles()) {
                    st.execute("GRANT " + RoleStatements.ident(role) + " TO " + RoleStatements.ident(user.username()));
                }
            }
            if (!databaseExists(c, spec.databaseName())) {
                String owner = spec.owner().map(DatabaseUserSpec::username).orElse(PostgresServer.SUPERUSER);
                st.execute("CREATE DATABASE " + RoleStatements.ident(spec.databaseName()) + " OWNER "
                        + RoleStatements.ident(owner));
            }
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
                    "instance " + instance.nodeName() + " of " + databaseId + ": creating users and database failed: "
                            + message);
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

    private static boolean roleExists(Connection c, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_roles WHERE rolname = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    private static boolean databaseExists(Connection c, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }
}
