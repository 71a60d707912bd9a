package io.pgfleet.server.catalog;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/** API keys: only a hash of each secret is stored. */
@Repository
public class JdbcApiKeyRepository {
    /** A key as stored; {@code secretHash} is SHA-256 of the secret part. */
    public record ApiKeyRow(
            String id,
            UUID tenantId,
            String name,
            String role,
            byte[] secretHash,
            String createdBy,
            Instant createdAt,
            Instant lastUsedAt,
            Instant revokedAt) {}

    private final JdbcClient jdbc;

    public JdbcApiKeyRepository(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    public void insert(ApiKeyRow row) {
        jdbc.sql("insert into api_keys (id, tenant_id, name, role, secret_hash, created_by) values (?, ?, ?, ?, ?, ?)")
                .params(row.id(), row.tenantId(), row.name(), row.role(), row.secretHash(), row.createdBy())
                .update();
    }

    public Optional<ApiKeyRow> find(String id) {
        return jdbc.sql("select * from api_keys where id = ?")
                .param(id)
                .query(this::map)
                .optional();
    }

    /** Keys of one tenant, or of all tenants when {@code tenantId} is null. */
    public List<ApiKeyRow> list(UUID tenantId) {
        if (tenantId == null) {
            return jdbc.sql("select * from api_keys order by created_at, id")
                    .query(this::map)
                    .list();
        }
        return jdbc.sql("select * from api_keys where tenant_id = ? order by created_at, id")
                .param(tenantId)
                .query(this::map)
                .list();
    }

    /** Tenant names change never (there is no rename), so they are remembered after the first read. */
    public String tenantName(UUID tenantId) {
        return tenantNames.computeIfAbsent(
                tenantId,
                id -> jdbc.sql("select name from tenants where id = ?")
                        .param(id)
                        .query(String.class)
                        .single());
    }

    private final java.util.concurrent.ConcurrentHashMap<UUID, String> tenantNames =
            new java.util.concurrent.ConcurrentHashMap<>();

    public boolean anyActiveAdmin() {
        return jdbc.sql("select count(*) from api_keys where role = 'admin' and revoked_at is null")
                        .query(Long.class)
                        .single()
                > 0;
    }

    /**
     * Serializes the first-start bootstrap across the hosts of a fleet (a transaction-scoped advisory
     * lock): two hosts starting at once on an empty catalog create one admin key, not two.
     */
    public void lockBootstrap() {
        jdbc.sql("select 1 from (select pg_advisory_xact_lock(hashtext('pgfleet bootstrap'))) as locked")
                .query(Integer.class)
                .single();
    }

    public boolean revoke(String id) {
        return jdbc.sql("update api_keys set revoked_at = now() where id = ? and revoked_at is null")
                        .param(id)
                        .update()
                == 1;
    }

    /** Records use, at most once a minute per key, so a busy key does not write on every request. */
    public void touch(String id) {
        jdbc.sql("update api_keys set last_used_at = now() where id = ?"
                        + " and (last_used_at is null or last_used_at < now() - interval '1 minute')")
                .param(id)
                .update();
    }

    private ApiKeyRow map(ResultSet rs, int n) throws SQLException {
        return new ApiKeyRow(
                rs.getString("id"),
                rs.getObject("tenant_id", UUID.class),
                rs.getString("name"),
                rs.getString("role"),
                rs.getBytes("secret_hash"),
                rs.getString("created_by"),
                instant(rs.getTimestamp("created_at")),
                instant(rs.getTimestamp("last_used_at")),
                instant(rs.getTimestamp("revoked_at")));
    }

    private static Instant instant(Timestamp t) {
        return t == null ? null : t.toInstant();
    }
}
