package io.pgfleet.server.events;

import io.pgfleet.server.catalog.Json;
import java.util.Map;
import java.util.UUID;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/** Appends events; callers run it inside the transaction of the change it records. */
@Repository
public class JdbcEventRepository {
    private final JdbcClient jdbc;
    private final Json json;

    public JdbcEventRepository(JdbcClient jdbc, Json json) {
        this.jdbc = jdbc;
        this.json = json;
    }

    public void record(
            String tenantId,
            String databaseId,
            UUID databaseUuid,
            String instanceId,
            String type,
            String message,
            Map<String, Object> fields) {
        jdbc.sql(
                        "insert into events (tenant_id, database_id, database_uuid, instance_id, type, message, fields) values (?, ?, ?, ?, ?, ?, ?::jsonb)")
                .params(tenantId, databaseId, databaseUuid, instanceId, type, message, json.write(fields))
                .update();
    }

    /** One stored event. */
    public record EventRow(
            long eventId,
            java.time.Instant at,
            String databaseId,
            String instanceId,
            String type,
            String message,
            Map<String, Object> fields) {}

    /** What a reader wants: all of it optional but the tenant. */
    public record EventFilter(String tenantId, String databaseId, String instanceId, String type) {}

    /** Events of a tenant after {@code afterId}, oldest first. */
    public java.util.List<EventRow> list(EventFilter filter, long afterId, int limit) {
        java.util.List<Object> params = new java.util.ArrayList<>();
        String where = where(filter, params);
        params.add(afterId);
        params.add(limit);
        return jdbc.sql("select * from events where " + where + " and event_id > ? order by event_id limit ?")
                .params(params)
                .query((rs, n) -> new EventRow(
                        rs.getLong("event_id"),
                        rs.getTimestamp("at").toInstant(),
                        rs.getString("database_id"),
                        rs.getString("instance_id"),
                        rs.getString("type"),
                        rs.getString("message"),
                        json.readObject(rs.getString("fields"))))
                .list();
    }

    public long latestId(String tenantId) {
        return jdbc.sql("select coalesce(max(event_id), 0) from events where tenant_id = ?")
                .param(tenantId)
                .query(Long.class)
                .single();
    }

    public long count(EventFilter filter) {
        java.util.List<Object> params = new java.util.ArrayList<>();
        return jdbc.sql("select count(*) from events where " + where(filter, params))
                .params(params)
                .query(Long.class)
                .single();
    }

    private static String where(EventFilter filter, java.util.List<Object> params) {
        StringBuilder where = new StringBuilder("tenant_id = ?");
        params.add(filter.tenantId());
        if (filter.databaseId() != null) {
            where.append(" and database_id = ?");
            params.add(filter.databaseId());
        }
        if (filter.instanceId() != null) {
            where.append(" and instance_id = ?");
            params.add(filter.instanceId());
        }
        if (filter.type() != null) {
            where.append(" and type = ?");
            params.add(filter.type());
        }
        return where.toString();
    }
}
