package io.pgfleet.server.api;

import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.PathItem;
import io.swagger.v3.oas.models.examples.Example;
import io.swagger.v3.oas.models.media.MediaType;
import java.util.List;
import java.util.Map;

/** The request examples of the OpenAPI document: pgEdge Control Plane's documented bodies, on one host. */
final class PgEdgeExamples {
    private PgEdgeExamples() {}

    private static final Map<String, Object> ADMIN = Map.of(
            "username", "admin", "password", "password", "db_owner", true, "attributes", List.of("SUPERUSER", "LOGIN"));

    static void add(OpenAPI openApi) {
        example(
                openApi,
                "/v1/databases",
                "minimal",
                "Two nodes on one host: spec.port for n2, n1 on a port of its own",
                Map.of(
                        "id",
                        "example",
                        "spec",
                        Map.of(
                                "database_name",
                                "example",
                                "database_users",
                                List.of(ADMIN),
                                "port",
                                6001,
                                "nodes",
                                List.of(
                                        Map.of("name", "n1", "host_ids", List.of("host-1"), "port", 6002),
                                        Map.of("name", "n2", "host_ids", List.of("host-1"))))));
        example(
                openApi,
                "/v1/databases",
                "tuned",
                "pgEdge's resource and configuration fields, spec-wide and per node",
                Map.of(
                        "id",
                        "example",
                        "spec",
                        Map.of(
                                "database_name", "example",
                                "postgres_version", "17",
                                "database_users", List.of(ADMIN),
                                "cpus", "2",
                                "memory", "4GiB",
                                "postgresql_conf", Map.of("max_connections", "200"),
                                "nodes",
                                        List.of(Map.of(
                                                "name",
                                                "n1",
                                                "host_ids",
                                                List.of("host-1"),
                                                "memory",
                                                "8GiB",
                                                "postgresql_conf",
                                                Map.of("work_mem", "16MB"))))));
        example(
                openApi,
                "/v1/databases/{databaseId}",
                "add a node",
                "The whole desired spec; passwords may be left out to keep them",
                Map.of(
                        "spec",
                        Map.of(
                                "database_name",
                                "example",
                                "database_users",
                                List.of(Map.of(
                                        "username",
                                        "admin",
                                        "db_owner",
                                        true,
                                        "attributes",
                                        List.of("SUPERUSER", "LOGIN"))),
                                "port",
                                6001,
                                "nodes",
                                List.of(
                                        Map.of("name", "n1", "host_ids", List.of("host-1"), "port", 6002),
                                        Map.of("name", "n2", "host_ids", List.of("host-1")),
                                        Map.of("name", "n3", "host_ids", List.of("host-1"), "port", 6003)))));
        example(
                openApi,
                "/v1/databases/{databaseId}/instances/{instanceId}/restart",
                "scheduled",
                "A restart at a time (cancel it with GET …/tasks/{task_id}/cancel)",
                Map.of("scheduled_at", "2026-12-01T03:00:00Z"));
    }

    private static void example(OpenAPI openApi, String path, String name, String summary, Object value) {
        PathItem item = openApi.getPaths().get(path);
        Operation post = item == null ? null : item.getPost();
        if (post == null
                || post.getRequestBody() == null
                || post.getRequestBody().getContent() == null) {
            return;
        }
        MediaType json = post.getRequestBody().getContent().get("application/json");
        if (json != null) {
            json.addExamples(name, new Example().summary(summary).value(value));
        }
    }
}
