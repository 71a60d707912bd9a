package io.pgfleet.server.ha;

import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.core.Secret;
import io.pgfleet.server.agent.StreamingSettings;
import io.pgfleet.server.catalog.CatalogRows.DatabaseRow;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.fleet.HostCalls;
import io.pgfleet.server.security.SecretBox;
import io.pgfleet.server.tasks.InstanceRuntimes;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import org.springframework.stereotype.Component;

/**
 * Replication over SQL to instances on any host of the fleet (at their host's advertised address):
 * the reserved role and its password, a slot per replica, WAL positions, promotion.
 */
@Component
public class Replication {
    /** A workflow's connection may meet a loaded host: generous, unlike a status probe. */
    static final Duration WORKFLOW_CONNECT = Duration.ofSeconds(30);

    private final HaRepository repo;
    private final HostCalls hostCalls;
    private final SecretBox secrets;

    public Replication(HaRepository repo, HostCalls hostCalls, SecretBox secrets) {
        this.repo = repo;
        this.hostCalls = hostCalls;
        this.secrets = secrets;
    }

    public static String slotName(InstanceRow instance) {
        return InstanceRuntimes.slotName(instance);
    }

    public String address(String hostId) {
        return hostCalls.advertiseHost(hostId);
    }

    /** The reserved role's password: made once per database, stored encrypted in the catalog. */
    public Secret replicationPassword(DatabaseRow db) {
        if (repo.replicationPassword(db.uuid()).isEmpty()) {
            repo.storeReplicationPasswordIfAbsent(db.uuid(), secrets.seal(Secret.generate()));
        }
        return secrets.open(repo.replicationPassword(db.uuid()).orElseThrow());
    }

    /** The node's superuser password (a replica is a copy of its primary: they share it). */
    public Secret superuserPassword(InstanceRow instance) {
        return secrets.open(instance.superuserPasswordEnc());
    }

    /** A superuser connection to any instance of the fleet, bounded by {@code timeout}. */
    public Connection connect(InstanceRow instance, Duration timeout) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", "postgres");
        props.setProperty("password", superuserPassword(instance).value());
        props.setProperty("connectTimeout", Long.toString(Math.max(1, timeout.toSeconds())));
        props.setProperty("loginTimeout", Long.toString(Math.max(1, timeout.toSeconds())));
        props.setProperty("socketTimeout", "90");
        props.setProperty("ApplicationName", "pgfleet");
        return DriverManager.getConnection(
                "jdbc:postgresql://" + address(instance.hostId()) + ":" + instance.port() + "/postgres", props);
    }

    /** CreateReplicationRole on the primary (or sets its password again): idempotent. */
    public void ensureRole(DatabaseRow db, InstanceRow primary) {
        Secret password = replicationPassword(db);
        try (Connection c = connect(primary, WORKFLOW_CONNECT);
                Statement st = c.createStatement()) {
            boolean exists;
            try (ResultSet rs =
                    st.executeQuery("SELECT 1 FROM pg_roles WHERE rolname = '" + StreamingSettings.ROLE + "'")) {
                exists = rs.next();
            }
            String sql;
            try (PreparedStatement ps =
                    c.prepareStatement("SELECT format('%s ROLE %I WITH REPLICATION LOGIN PASSWORD %L', ?, ?, ?)")) {
                ps.setString(1, exists ? "ALTER" : "CREATE");
                ps.setString(2, StreamingSettings.ROLE);
                ps.setString(3, password.value());
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    sql = rs.getString(1);
                }
            }
            st.execute(sql);
        } catch (SQLException e) {
            throw failure(primary, db.id(), "creating the replication role", e);
        }
    }

    /** CreateSlot for {@code replica} on {@code primary}, reserving WAL at once; skipped when it exists. */
    public void ensureSlot(DatabaseRow db, InstanceRow primary, InstanceRow replica) {
        try (Connection c = connect(primary, WORKFLOW_CONNECT);
                PreparedStatement ps =
                        c.prepareStatement("SELECT pg_create_physical_replication_slot(?, true) WHERE NOT EXISTS"
                                + " (SELECT 1 FROM pg_replication_slots WHERE slot_name = ?)")) {
            ps.setString(1, slotName(replica));
            ps.setString(2, slotName(replica));
            ps.execute();
        } catch (SQLException e) {
            throw failure(primary, db.id(), "creating slot " + slotName(replica), e);
        }
    }

    /**
     * DropSlot of a removed replica on {@code primary}: its walsender is ended first (the replica may
     * still be connected for a moment while it stops), then the slot dropped; skipped when it is gone.
     */
    public void dropSlot(DatabaseRow db, InstanceRow primary, String slot) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            try (Connection c = connect(primary, WORKFLOW_CONNECT)) {
                try (PreparedStatement ps = c.prepareStatement("SELECT pg_terminate_backend(active_pid)"
                        + " FROM pg_replication_slots WHERE slot_name = ? AND active_pid IS NOT NULL")) {
                    ps.setString(1, slot);
                    ps.execute();
                }
                try (PreparedStatement ps = c.prepareStatement("SELECT pg_drop_replication_slot(slot_name)"
                        + " FROM pg_replication_slots WHERE slot_name = ?")) {
                    ps.setString(1, slot);
                    ps.execute();
                }
                return;
            } catch (SQLException e) {
                // 55006: the slot is still active (the walsender ends a moment after the signal).
                if (!"55006".equals(e.getSQLState()) || System.nanoTime() > deadline) {
                    throw failure(primary, db.id(), "dropping slot " + slot, e);
                }
            }
            ReplicaSteps.sleep(100);
        }
    }

    /** Whether {@code primary} has the slot (null when it does not answer). */
    public Boolean hasSlot(InstanceRow primary, String slot) {
        try (Connection c = connect(primary, Duration.ofSeconds(10));
                PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        } catch (SQLException e) {
            return null;
        }
    }

    /**
     * The WAL an instance has: written on a primary; on a replica received (what a failover loses least
     * with) or replayed (what a switchover waits for). Null: it does not answer.
     */
    public String walPosition(InstanceRow instance, boolean received) {
        String sql = received
                ? "SELECT CASE WHEN pg_is_in_recovery() THEN coalesce(pg_last_wal_receive_lsn(),"
                        + " pg_last_wal_replay_lsn()) ELSE pg_current_wal_lsn() END::text"
                : "SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()"
                        + " ELSE pg_current_wal_lsn() END::text";
        try (Connection c = connect(instance, Duration.ofSeconds(10));
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        } catch (SQLException e) {
            return null;
        }
    }

    /** Whether the instance answers and accepts writes (null when it does not answer). */
    public Boolean isWritable(InstanceRow instance, Duration timeout) {
        try (Connection c = connect(instance, timeout);
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT NOT pg_is_in_recovery()")) {
            rs.next();
            return rs.getBoolean(1);
        } catch (SQLException e) {
            return null;
        }
    }

    /**
     * CHECKPOINT on a (just promoted) primary. pg_rewind reads the source's timeline from its control
     * file, which names the new timeline only after the first checkpoint since the promotion; rewound
     * against a stale one, a demoted primary fails at start ("requested timeline N does not contain
     * minimum recovery point ... on timeline 1").
     */
    public void checkpoint(DatabaseRow db, InstanceRow primary) {
        try (Connection c = connect(primary, WORKFLOW_CONNECT);
                Statement st = c.createStatement()) {
            st.execute("CHECKPOINT");
        } catch (SQLException e) {
            throw failure(primary, db.id(), "checkpointing before a rewind", e);
        }
    }

    /** Promote: pg_promote, waiting (up to 60 s) until it accepts writes. */
    public void promote(DatabaseRow db, InstanceRow candidate) {
        // Promoted already (the step redone after a crash): pg_promote would fail on a primary.
        try (Connection c = connect(candidate, WORKFLOW_CONNECT);
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(
                        "SELECT CASE WHEN pg_is_in_recovery() THEN pg_promote(true, 60) ELSE true END")) {
            rs.next();
            if (!rs.getBoolean(1)) {
                throw new PgfleetException(
                        ErrorCode.INTERNAL,
                        "node " + candidate.nodeName() + " of " + db.id() + ": pg_promote on " + candidate.hostId()
                                + " did not finish within 60 s");
            }
        } catch (SQLException e) {
            throw failure(candidate, db.id(), "promoting", e);
        }
    }

    /** Bytes from {@code from} to {@code to} (both pg_lsn text). */
    public static long lsnDiff(String to, String from) {
        return parseLsn(to) - parseLsn(from);
    }

    public static long parseLsn(String lsn) {
        String[] parts = lsn.split("/");
        return (Long.parseLong(parts[0], 16) << 32) + Long.parseLong(parts[1], 16);
    }

    static PgfleetException failure(InstanceRow instance, String databaseId, String what, SQLException e) {
        return new PgfleetException(
                ErrorCode.INTERNAL,
                "instance " + instance.nodeName() + "@" + instance.hostId() + " of " + databaseId + ": " + what
                        + " failed: " + e.getMessage(),
                e);
    }
}
