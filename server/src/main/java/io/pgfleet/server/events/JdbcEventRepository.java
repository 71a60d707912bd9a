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
}
