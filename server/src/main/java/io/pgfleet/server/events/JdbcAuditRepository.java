package io.pgfleet.server.events;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/**
 * Who did what: one row per mutating call; refused calls (401, 403) one row per caller, status and
 * minute with their {@code count} (see {@link AuditAggregator}).
 */
@Repository
public class JdbcAuditRepository {
    /** One audit record. */
    public record AuditRow(
            long auditId,
            Instant at,
            String keyId,
            String tenantId,
            String method,
            String path,
            String action,
            String target,
            String outcome,
            int status,
            String requestId,
            String client,
            String detail,
            long count,
            Instant lastAt) {

        /** One call's record. */
        public AuditRow(
                long auditId,
                Instant at,
                String keyId,
                String tenantId,
                String method,
                String path,
                String action,
                String target,
                String outcome,
                int status,
                String requestId,
                String client,
                String detail) {
            this(
                    auditId, at, keyId, tenantId, method, path, action, target, outcome, status, requestId, client,
                    detail, 1, null);
        }
    }

    private final JdbcClient jdbc;

    public JdbcAuditRepository(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    public void insert(AuditRow row) {
        jdbc.sql("insert into audit (key_id, tenant_id, method, path, action, target, outcome, status, request_id,"
                        + " client, detail) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
                .params(
                        row.keyId(),
                        row.tenantId(),
                        row.method(),
                        row.path(),
                        row.action(),
                        row.target(),
                        row.outcome(),
                        row.status(),
                        row.requestId(),
                        row.client(),
                        row.detail())
                .update();
    }

    /** Inserts the first call of an aggregate with its count so far; returns the row's id. */
    public long insertAggregate(AuditRow row) {
        return jdbc.sql("insert into audit (at, key_id, tenant_id, method, path, action, target, outcome, status,"
                        + " request_id, client, detail, count, last_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                        + " returning audit_id")
                .params(
                        java.sql.Timestamp.from(row.at()),
                        row.keyId(),
                        row.tenantId(),
                        row.method(),
                        row.path(),
                        row.action(),
                        row.target(),
                        row.outcome(),
                        row.status(),
                        row.requestId(),
                        row.client(),
                        row.detail(),
                        row.count(),
                        java.sql.Timestamp.from(row.lastAt()))
                .query(Long.class)
                .single();
    }

    /** The count and last call of an aggregate row. */
    public void updateAggregate(long auditId, long count, Instant lastAt) {
        jdbc.sql("update audit set count = ?, last_at = ? where audit_id = ?")
                .params(count, java.sql.Timestamp.from(lastAt), auditId)
                .update();
    }

    /** Newest first after {@code beforeId}; all tenants when {@code tenantId} is null. */
    public List<AuditRow> list(String tenantId, Long beforeId, int limit) {
        StringBuilder sql = new StringBuilder("select * from audit where true");
        List<Object> params = new ArrayList<>();
        if (tenantId != null) {
            sql.append(" and tenant_id = ?");
            params.add(tenantId);
        }
        if (beforeId != null) {
            sql.append(" and audit_id < ?");
            params.add(beforeId);
        }
        sql.append(" order by audit_id desc limit ?");
        params.add(limit);
        return jdbc.sql(sql.toString()).params(params).query(this::map).list();
    }

    public long count(String tenantId) {
        return tenantId == null
                ? jdbc.sql("select count(*) from audit").query(Long.class).single()
                : jdbc.sql("select count(*) from audit where tenant_id = ?")
                        .param(tenantId)
                        .query(Long.class)
                        .single();
    }

    private AuditRow map(ResultSet rs, int n) throws SQLException {
        return new AuditRow(
                rs.getLong("audit_id"),
                rs.getTimestamp("at").toInstant(),
                rs.getString("key_id"),
                rs.getString("tenant_id"),
                rs.getString("method"),
                rs.getString("path"),
                rs.getString("action"),
                rs.getString("target"),
                rs.getString("outcome"),
                rs.getInt("status"),
                rs.getString("request_id"),
                rs.getString("client"),
                rs.getString("detail"),
                rs.getLong("count"),
                rs.getTimestamp("last_at") == null
                        ? null
                        : rs.getTimestamp("last_at").toInstant());
    }
}
