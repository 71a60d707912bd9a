package io.pgfleet.server.catalog;

import io.pgfleet.core.DatabaseSpec;
import io.pgfleet.server.catalog.CatalogRows.DatabaseRow;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/** Databases and their users' encrypted passwords. */
@Repository
public class JdbcDatabaseRepository {
    private final JdbcClient jdbc;
    private final Json json;

    public JdbcDatabaseRepository(JdbcClient jdbc, Json json) {
        this.jdbc = jdbc;
        this.json = json;
    }

    public void insert(DatabaseRow row) {
        jdbc.sql("insert into databases (uuid, tenant_id, id, labels, spec) values (?, ?, ?, ?::jsonb, ?::jsonb)")
                .params(
                        row.uuid(),
                        row.tenantId(),
                        row.id(),
                        json.write(row.labels()),
                        json.write(row.spec().redacted()))
                .update();
    }

    public boolean exists(String tenantId, String id) {
        return jdbc.sql("select count(*) from databases where tenant_id = ? and id = ?")
                        .params(tenantId, id)
                        .query(Long.class)
                        .single()
                > 0;
    }

    public Optional<DatabaseRow> find(String tenantId, String id) {
        return jdbc.sql("select * from databases where tenant_id = ? and id = ?")
                .params(tenantId, id)
                .query(this::map)
                .optional();
    }

    /** Locks the row until the transaction ends: the one place requests for a database serialize. */
    public Optional<DatabaseRow> findForUpdate(String tenantId, String id) {
        return jdbc.sql("select * from databases where tenant_id = ? and id = ? for update")
                .params(tenantId, id)
                .query(this::map)
                .optional();
    }

    public Optional<DatabaseRow> lockByUuid(UUID uuid) {
        return jdbc.sql("select * from databases where uuid = ? for update")
                .param(uuid)
                .query(this::map)
                .optional();
    }

    public Optional<DatabaseRow> findByUuid(UUID uuid) {
        return jdbc.sql("select * from databases where uuid = ?")
                .param(uuid)
                .query(this::map)
                .optional();
    }

    /** The rows of these databases (those that still exist), in one query. */
    public List<DatabaseRow> findByUuids(java.util.Collection<UUID> uuids) {
        if (uuids.isEmpty()) {
            return List.of();
        }
        return jdbc.sql("select * from databases where uuid = any(?)")
                .param(uuids.toArray(UUID[]::new))
                .query(this::map)
                .list();
    }

    /**
     * One page ordered by id, after {@code cursor} (an id), filtered by labels and state. Keyset paging
     * on the unique (tenant, id): rows inserted meanwhile neither repeat nor shift a page.
     */
    public List<DatabaseRow> list(String tenantId, Map<String, String> labels, String state, String cursor, int limit) {
        StringBuilder sql = new StringBuilder("select * from databases where tenant_id = ?");
        List<Object> params = new ArrayList<>(List.of(tenantId));
        filters(sql, params, labels, state);
        if (cursor != null) {
            sql.append(" and id > ?");
            params.add(cursor);
        }
        sql.append(" order by id limit ?");
        params.add(limit);
        return jdbc.sql(sql.toString()).params(params).query(this::map).list();
    }

    /** Sets or clears (null) the suspension and its reason. */
    public void setSuspended(UUID uuid, String reason) {
        jdbc.sql("update databases set suspended = ?, suspended_reason = ?, updated_at = now() where uuid = ?")
                .params(reason != null, reason, uuid)
                .update();
    }

    public String suspendedReason(UUID uuid) {
        return jdbc.sql("select suspended_reason from databases where uuid = ?")
                .param(uuid)
                .query(String.class)
                .optional()
                .orElse(null);
    }

    /** Stores the derived state; returns the previous one, so a change can be recorded as an event. */
    public String updateState(UUID uuid, String state) {
        String old = jdbc.sql("select state from databases where uuid = ? for update")
                .param(uuid)
                .query(String.class)
                .optional()
                .orElse(null);
        if (old != null && !old.equals(state)) {
            jdbc.sql("update databases set state = ?, updated_at = now() where uuid = ?")
                    .params(state, uuid)
                    .update();
        }
        return old;
    }

    /** Whether the catalog holds any database of any tenant (a host joins a fleet only empty). */
    public boolean anyDatabase() {
        return jdbc.sql("select exists (select 1 from databases)")
                .query(Boolean.class)
                .single();
    }

    /** How many databases of a tenant match, for the list's {@code total}. */
    public long count(String tenantId, Map<String, String> labels, String state) {
        StringBuilder sql = new StringBuilder("select count(*) from databases where tenant_id = ?");
        List<Object> params = new ArrayList<>(List.of(tenantId));
        filters(sql, params, labels, state);
        return jdbc.sql(sql.toString()).params(params).query(Long.class).single();
    }

    private void filters(StringBuilder sql, List<Object> params, Map<String, String> labels, String state) {
        if (!labels.isEmpty()) {
            sql.append(" and labels @> ?::jsonb");
            params.add(json.write(labels));
        }
        if (state != null) {
            sql.append(" and state = ?");
            params.add(state);
        }
    }

    public void delete(UUID uuid) {
        jdbc.sql("delete from databases where uuid = ?").param(uuid).update();
    }

    /** Stores the desired spec (redacted) and labels of an update. */
    public void update(UUID uuid, DatabaseSpec spec, Map<String, String> labels) {
        jdbc.sql("update databases set spec = ?::jsonb, labels = ?::jsonb, updated_at = now() where uuid = ?")
                .params(json.write(spec.redacted()), json.write(labels), uuid)
                .update();
    }

    public void deleteUserPassword(UUID databaseUuid, String username) {
        jdbc.sql("delete from database_users where database_uuid = ? and username = ?")
                .params(databaseUuid, username)
                .update();
    }

    public void saveUserPassword(UUID databaseUuid, String username, byte[] encrypted) {
        jdbc.sql("""
                insert into database_users (database_uuid, username, password_enc) values (?, ?, ?)
                on conflict (database_uuid, username) do update set password_enc = excluded.password_enc""").params(databaseUuid, username, encrypted).update();
    }

    public Map<String, byte[]> userPasswords(UUID databaseUuid) {
        Map<String, byte[]> result = new java.util.LinkedHashMap<>();
        jdbc.sql("select username, password_enc from database_users where database_uuid = ? order by username")
                .param(databaseUuid)
                .query(rs -> {
                    result.put(rs.getString(1), rs.getBytes(2));
                });
        return result;
    }

    /** {@link #userPasswords} of several databases in one query, by database. */
    public Map<UUID, Map<String, byte[]>> userPasswordsOf(java.util.Collection<UUID> uuids) {
        Map<UUID, Map<String, byte[]>> result = new java.util.HashMap<>();
        if (uuids.isEmpty()) {
            return result;
        }
        jdbc.sql("select database_uuid, username, password_enc from database_users"
                        + " where database_uuid = any(?) order by database_uuid, username")
                .param(uuids.toArray(UUID[]::new))
                .query(rs -> {
                    result.computeIfAbsent(rs.getObject(1, UUID.class), u -> new java.util.LinkedHashMap<>())
                            .put(rs.getString(2), rs.getBytes(3));
                });
        return result;
    }

    private DatabaseRow map(ResultSet rs, int rowNum) throws SQLException {
        return new DatabaseRow(
                rs.getObject("uuid", UUID.class),
                rs.getString("tenant_id"),
                rs.getString("id"),
                json.readStrings(rs.getString("labels")),
                json.read(rs.getString("spec"), DatabaseSpec.class),
                rs.getBoolean("suspended"),
                instant(rs.getTimestamp("created_at")),
                instant(rs.getTimestamp("updated_at")));
    }

    static java.time.Instant instant(Timestamp ts) {
        return ts == null ? null : ts.toInstant();
    }
}
