package io.pgfleet.server.catalog;

import io.pgfleet.core.InstanceState;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/** Instances. State changes go through {@link #compareAndSetState}, never a blind update. */
@Repository
public class JdbcInstanceRepository {
    private final JdbcClient jdbc;
    private final Json json;

    public JdbcInstanceRepository(JdbcClient jdbc, Json json) {
        this.jdbc = jdbc;
        this.json = json;
    }

    public void insert(InstanceRow row) {
        jdbc.sql("""
                insert into instances (id, database_uuid, node_name, host_id, postgres_version, port, pooler_port,
                                       state, superuser_password_enc, pooler_password_enc, role)
                values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""")
                .params(
                        row.id(),
                        row.databaseUuid(),
                        row.nodeName(),
                        row.hostId(),
                        row.postgresVersion(),
                        row.port(),
                        row.poolerPort(),
                        row.state().label(),
                        row.superuserPasswordEnc(),
                        row.poolerPasswordEnc(),
                        row.role())
                .update();
    }

    public List<InstanceRow> byDatabase(UUID databaseUuid) {
        return jdbc.sql("select * from instances where database_uuid = ? order by node_name, role, host_id")
                .param(databaseUuid)
                .query(this::map)
                .list();
    }

    public List<InstanceRow> byDatabases(Collection<UUID> uuids) {
        if (uuids.isEmpty()) {
            return List.of();
        }
        return jdbc.sql("select * from instances where database_uuid = any(?) order by node_name")
                .param(uuids.toArray(UUID[]::new))
                .query(this::map)
                .list();
    }

    public List<InstanceRow> byHost(String hostId) {
        return jdbc.sql("select * from instances where host_id = ? order by id")
                .param(hostId)
                .query(this::map)
                .list();
    }

    /**
     * Every instance of each node that has more than one instance and an {@code available} primary on
     * {@code hostId}, ordered by database and node: what the replica lag sampler reads, in one query.
     */
    public List<InstanceRow> ofReplicatedNodesWithPrimaryOn(String hostId) {
        return jdbc.sql("""
                select i.* from instances i
                where exists (select 1 from instances p
                              where p.database_uuid = i.database_uuid and p.node_name = i.node_name
                                and p.host_id = ? and p.role = 'primary' and p.state = 'available')
                  and exists (select 1 from instances o
                              where o.database_uuid = i.database_uuid and o.node_name = i.node_name and o.id <> i.id)
                order by i.database_uuid, i.node_name, i.role, i.host_id""").param(hostId).query(this::map).list();
    }

    public Optional<InstanceRow> find(String id) {
        return jdbc.sql("select * from instances where id = ?")
                .param(id)
                .query(this::map)
                .optional();
    }

    /** Moves the row from {@code from} to {@code to} only if it is still in {@code from}. */
    public boolean compareAndSetState(String id, InstanceState from, InstanceState to, String error) {
        return jdbc.sql("update instances set state = ?, error = ?, updated_at = now() where id = ? and state = ?")
                        .params(to.label(), error, id, from.label())
                        .update()
                == 1;
    }

    /** Records why an instance stays in its state (e.g. the restart policy gave up) without moving it. */
    public void setError(String id, String error) {
        jdbc.sql("update instances set error = ?, updated_at = now() where id = ?")
                .params(error, id)
                .update();
    }

    public void setPendingRestart(String id, boolean pending) {
        jdbc.sql("update instances set pending_restart = ?, updated_at = now() where id = ?")
                .params(pending, id)
                .update();
    }

    /** The instance now listens on {@code port} (after the restart that moved it). */
    public void setPort(String id, int port) {
        jdbc.sql("update instances set port = ?, updated_at = now() where id = ?")
                .params(port, id)
                .update();
    }

    public void setPoolerPort(String id, Integer port) {
        jdbc.sql("update instances set pooler_port = ?, updated_at = now() where id = ?")
                .params(port, id)
                .update();
    }

    public void setPoolerPassword(String id, byte[] encrypted) {
        jdbc.sql("update instances set pooler_password_enc = ? where id = ?")
                .params(encrypted, id)
                .update();
    }

    /** Records what the last role verification found; returns whether that differs from before. */
    public boolean setDrift(String id, List<String> drift) {
        return jdbc.sql(
                                "update instances set drift = ?::jsonb, drift_checked_at = now() where id = ? and drift <> ?::jsonb")
                        .params(json.write(drift), id, json.write(drift))
                        .update()
                == 1;
    }

    public void delete(String id) {
        jdbc.sql("delete from instances where id = ?").param(id).update();
    }

    InstanceRow map(ResultSet rs, int rowNum) throws SQLException {
        return new InstanceRow(
                rs.getString("id"),
                rs.getObject("database_uuid", UUID.class),
                rs.getString("node_name"),
                rs.getString("host_id"),
                rs.getString("postgres_version"),
                rs.getInt("port"),
                (Integer) rs.getObject("pooler_port"),
                InstanceState.fromLabel(rs.getString("state")),
                rs.getBoolean("pending_restart"),
                rs.getString("error"),
                rs.getBytes("superuser_password_enc"),
                JdbcDatabaseRepository.instant(rs.getTimestamp("created_at")),
                JdbcDatabaseRepository.instant(rs.getTimestamp("updated_at")),
                json.readStringList(rs.getString("drift")),
                rs.getBytes("pooler_password_enc"),
                rs.getString("role"),
                rs.getBoolean("needs_rejoin"));
    }
}
