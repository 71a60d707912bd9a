package io.pgfleet.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgfleet.server.support.Api;
import io.pgfleet.server.support.Api.Response;
import io.pgfleet.server.support.Postgres;
import io.pgfleet.server.support.ServerUnderTest;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import tools.jackson.databind.JsonNode;

/**
 * pgEdge Control Plane's documented example requests (docs/using/*.md and the API design's examples),
 * replayed against a real pgfleet with only the key header added, and the host ids and ports made
 * those of this one host. Each response must carry pgEdge's documented fields with pgEdge's values.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PgEdgeConformanceIT {
    // pgEdge's value sets (api/apiv1/design): task.go, database.go, instance.go and docs/using/database-instances.md.
    static final Set<String> TASK_STATUSES =
            Set.of("pending", "running", "completed", "canceled", "canceling", "failed", "unknown");
    static final Set<String> DATABASE_STATES =
            Set.of("creating", "modifying", "available", "deleting", "degraded", "failed", "restoring", "unknown");
    static final Set<String> INSTANCE_STATES = Set.of(
            "creating",
            "modifying",
            "backing_up",
            "available",
            "degraded",
            "failed",
            "stopped",
            "unknown",
            // docs/using/database-instances.md lists these too
            "starting",
            "stopping",
            "restarting",
            "error");
    static final Set<String> ENDED = Set.of("completed", "failed", "canceled");

    private static final int SPEC_PORT = ServerUnderTest.port(7700);
    private static final int N1_PORT = ServerUnderTest.port(7701);

    private Path home;
    private ServerUnderTest server;
    private Api api;
    private String createTaskId;

    @BeforeAll
    void startServer() {
        home = ServerUnderTest.newHome("pged");
        server = ServerUnderTest.start(home, 7702, 7729);
        api = server.api();
    }

    @AfterAll
    void stopServer() {
        if (server != null) {
            server.close();
        }
        ServerUnderTest.cleanUp(home);
    }

    @Test
    @Order(1)
    void versionAnswersWithPgEdgesFields() {
        JsonNode version = api.get("/v1/version").expect(200).body();
        assertThat(version.path("version").asString()).isNotBlank();
        assertThat(version.has("revision")).isTrue();
        assertThat(version.has("revision_time")).isTrue();
        assertThat(version.path("arch").asString()).isIn("amd64", "arm64", System.getProperty("os.arch"));
    }

    @Test
    @Order(2)
    void createWithUsersNodesConfCpusAndMemory() throws Exception {
        // docs/using/create-db.md, "Customizing Database Configuration", on one host: spec.port for n2,
        // n1 its own port; cpus and memory in pgEdge's formats.
        Response created = api.post("/v1/databases", """
                {
                    "id": "example",
                    "spec": {
                        "database_name": "example",
                        "database_users": [
                            {
                                "username": "admin",
                                "password": "password",
                                "db_owner": true,
                                "attributes": ["SUPERUSER", "LOGIN"]
                            }
                        ],
                        "port": %d,
                        "cpus": "500m",
                        "memory": "512M",
                        "postgresql_conf": {
                            "max_connections": 50
                        },
                        "nodes": [
                            {
                                "name": "n1",
                                "host_ids": ["host-1"],
                                "port": %d
                            },
                            { "name": "n2", "host_ids": ["host-1"], "postgresql_conf": {"work_mem": "8MB"} }
                        ]
                    }
                }""".formatted(SPEC_PORT, N1_PORT));
        created.expect(202);
        JsonNode body = created.body();
        assertDatabase(body.path("database"));
        assertThat(body.path("database").path("spec").path("cpus").asString()).isEqualTo("500m");
        assertTask(body.path("task"), "create");
        createTaskId = body.path("task").path("task_id").asString();
        assertThat(api.awaitTask("example", body).path("status").asString()).isEqualTo("completed");

        JsonNode db = api.get("/v1/databases/example").expect(200).body();
        assertDatabase(db);
        assertThat(db.path("state").asString()).isEqualTo("available");
        for (JsonNode instance : db.path("instances")) {
            assertInstance(instance);
            int expected = instance.path("node_name").asString().equals("n1") ? N1_PORT : SPEC_PORT;
            assertThat(instance.path("connection_info").path("port").asInt())
                    .as("spec.port is every node's port unless the node names its own")
                    .isEqualTo(expected);
        }
        try (Connection c = Postgres.connect(SPEC_PORT, "example", "admin", "password")) {
            // 512M = 488 MiB: a quarter of it as shared_buffers, as memory_mb would derive.
            assertThat(Postgres.queryOne(c, "show shared_buffers")).isEqualTo("122MB");
            assertThat(Postgres.queryOne(c, "show max_connections")).isEqualTo("50");
            assertThat(Postgres.queryOne(c, "show work_mem"))
                    .as("n2's own postgresql_conf")
                    .isEqualTo("8MB");
        }
        try (Connection c = Postgres.connect(N1_PORT, "example", "admin", "password")) {
            assertThat(Postgres.queryOne(c, "show work_mem"))
                    .as("n1: derived from memory")
                    .isEqualTo("7MB");
        }
    }

    @Test
    @Order(3)
    void taskLogTailLoopSeesEveryEntryOnce() {
        // docs/using/tasks-logs.md: fetch the log, then only what follows last_entry_id.
        String path = "/v1/databases/example/tasks/" + createTaskId + "/log";
        JsonNode first = api.get(path).expect(200).body();
        assertTaskLog(first);
        List<String> all = new ArrayList<>();
        first.path("entries").forEach(e -> all.add(e.path("message").asString()));
        JsonNode page = first;
        int rounds = 0;
        do {
            page = api.get(path + "?after_entry_id="
                            + page.path("last_entry_id").asString())
                    .expect(200)
                    .body();
            assertTaskLog(page);
            page.path("entries").forEach(e -> all.add(e.path("message").asString()));
            rounds++;
        } while (!page.path("entries").isEmpty() && rounds < 100);
        assertThat(page.path("entries")).isEmpty();
        assertThat(page.path("last_entry_id").asString())
                .isEqualTo(first.path("last_entry_id").asString());
        assertThat(all).hasSize(first.path("entries").size()).doesNotHaveDuplicates();

        JsonNode recent = api.get(path + "?limit=2").expect(200).body();
        assertThat(recent.path("entries")).hasSize(2);
        assertThat(recent.path("entries").get(1).path("message").asString())
                .as("limit gives the most recent entries")
                .isEqualTo(all.get(all.size() - 1));

        assertThat(api.get(path + "?after_entry_id=0d639fbe-72bf-41ca-a81d-f7a524083cd4")
                        .expect(400)
                        .body()
                        .path("message")
                        .asString())
                .contains("after_entry_id");
    }

    @Test
    @Order(4)
    void listAndUpdateWithPgEdgesVersionFormat() {
        JsonNode list = api.get("/v1/databases").expect(200).body();
        assertThat(list.path("databases")).hasSize(1);
        assertDatabase(list.path("databases").get(0));

        String minor =
                api.instance("example", "n1").path("postgres").path("version").asString();
        assertThat(minor).matches("\\d+\\.\\d+");
        // docs/using/update-db.md: the whole spec again, without the password.
        Response updated = api.post("/v1/databases/example", """
                {
                    "spec": {
                        "database_name": "example",
                        "postgres_version": "%s",
                        "database_users": [
                            {
                                "username": "admin",
                                "db_owner": true,
                                "attributes": ["SUPERUSER", "LOGIN"]
                            }
                        ],
                        "port": %d,
                        "cpus": "500m",
                        "memory": "512M",
                        "postgresql_conf": {
                            "max_connections": 60
                        },
                        "nodes": [
                            { "name": "n1", "host_ids": ["host-1"], "port": %d },
                            { "name": "n2", "host_ids": ["host-1"], "postgresql_conf": {"work_mem": "8MB"} }
                        ]
                    }
                }""".formatted(minor, SPEC_PORT, N1_PORT));
        updated.expect(202);
        assertTask(updated.body().path("task"), "update");
        assertDatabase(updated.body().path("database"));
        assertThat(api.awaitTask("example", updated.body()).path("status").asString())
                .isEqualTo("completed");
    }

    @Test
    @Order(5)
    void stopStartAndRestartAnInstance() {
        String n1 = api.instance("example", "n1").path("id").asString();
        String base = "/v1/databases/example/instances/" + n1;

        JsonNode stop = api.post(base + "/stop-instance", "").expect(202).body();
        assertTask(stop.path("task"), "stop_instance");
        assertThat(stop.path("task").path("instance_id").asString()).isEqualTo(n1);
        assertThat(stop.path("task").path("node_name").asString()).isEqualTo("n1");
        assertThat(stop.path("task").path("host_id").asString()).isEqualTo("host-1");
        api.awaitTask("example", stop);
        JsonNode stopped = api.instance("example", "n1");
        assertInstance(stopped);
        assertThat(stopped.path("state").asString()).isEqualTo("stopped");
        assertThat(DATABASE_STATES)
                .contains(api.database("example").path("state").asString());

        JsonNode start = api.post(base + "/start-instance", "").expect(202).body();
        assertTask(start.path("task"), "start_instance");
        api.awaitTask("example", start);
        assertThat(api.instanceState("example", "n1")).isEqualTo("available");

        Response restart = api.post(base + "/restart", "{}").expect(202);
        assertThat(restart.location())
                .isEqualTo("/v1/databases/example/tasks/"
                        + restart.body().path("task").path("task_id").asString());
        assertTask(restart.body().path("task"), "restart_instance");
        api.awaitTask("example", restart.body());
        assertThat(api.instanceState("example", "n1")).isEqualTo("available");
    }

    @Test
    @Order(6)
    void aScheduledRestartIsListedAndCanceledWithPgEdgesGet() {
        String n2 = api.instance("example", "n2").path("id").asString();
        String at = Instant.now().plus(Duration.ofHours(1)).toString();
        JsonNode scheduled = api.post(
                        "/v1/databases/example/instances/" + n2 + "/restart", "{\"scheduled_at\": \"" + at + "\"}")
                .expect(202)
                .body();
        String taskId = scheduled.path("task").path("task_id").asString();
        assertThat(scheduled.path("task").path("scheduled_at").asString()).isNotBlank();

        JsonNode tasks = api.get("/v1/databases/example/tasks").expect(200).body();
        assertThat(tasks.path("tasks")).isNotEmpty();
        List<String> ids = new ArrayList<>();
        for (JsonNode task : tasks.path("tasks")) {
            assertTask(task, null);
            ids.add(task.path("task_id").asString());
        }
        assertThat(ids).contains(taskId, createTaskId);
        assertThat(api.get("/v1/databases/example/tasks?limit=1&sort_order=asc")
                        .expect(200)
                        .body()
                        .path("tasks")
                        .get(0)
                        .path("task_id")
                        .asString())
                .isEqualTo(createTaskId);
        assertTask(api.task("example", taskId), "restart_instance");

        // pgEdge's cancel is a GET that answers the task itself.
        JsonNode canceled = api.get("/v1/databases/example/tasks/" + taskId + "/cancel")
                .expect(200)
                .body();
        assertTask(canceled, "restart_instance");
        assertThat(canceled.path("status").asString()).isEqualTo("canceled");
        assertThat(api.get("/v1/tasks?scope=database&entity_id=example")
                        .expect(200)
                        .body()
                        .path("tasks"))
                .isNotEmpty();
    }

    @Test
    @Order(7)
    void pgEdgeOnlyFieldsAndClashingPortsAre422sThatSayWhy() {
        Response spock = api.post("/v1/databases", """
                {"id": "spock", "spec": {"database_name": "spock", "spock_version": "5",
                 "nodes": [{"name": "n1", "host_ids": ["host-1"], "patroni_port": 8888}]}}""");
        spock.expect(422);
        assertProblem(spock.body());
        assertThat(spock.body().path("errors").toString())
                .as("every pgEdge-only field is named, with the reason")
                .contains("spec.spock_version", "without Spock", "spec.nodes[0].patroni_port", "Patroni");

        Response patroni = api.post("/v1/databases", """
                {"id": "pat", "spec": {"database_name": "pat",
                 "nodes": [{"name": "n1", "host_ids": ["host-1"], "patroni_port": 8888}]}}""");
        patroni.expect(422);
        assertThat(patroni.body().path("message").asString()).contains("spec.nodes[0].patroni_port", "Patroni");

        // docs/using/create-db.md's first example, on one host: spec.port for both nodes clashes.
        Response clash = api.post("/v1/databases", """
                {"id": "clash", "spec": {"database_name": "clash", "port": %d,
                 "nodes": [{"name": "n1", "host_ids": ["host-1"]}, {"name": "n2", "host_ids": ["host-1"]}]}}""".formatted(ServerUnderTest.port(7710)));
        clash.expect(422);
        assertThat(clash.body().path("message").asString()).contains("nodes n1 and n2", "port");

        Response version = api.post("/v1/databases", """
                {"id": "old", "spec": {"database_name": "old", "postgres_version": "17.6",
                 "nodes": [{"name": "n1", "host_ids": ["host-1"]}]}}""");
        version.expect(422);
        assertThat(version.body().path("message").asString()).contains("'17.6' is not available", "17");

        Response seeded =
                api.post("/v1/databases/example", """
                {"spec": {"database_name": "example", "port": %d,
                 "database_users": [{"username": "admin", "db_owner": true, "attributes": ["SUPERUSER", "LOGIN"]}],
                 "nodes": [{"name": "n1", "host_ids": ["host-1"], "port": %d},
                           {"name": "n2", "host_ids": ["host-1"]},
                           {"name": "n3", "host_ids": ["host-1"], "port": %d, "source_node": "n9"}]}}""".formatted(SPEC_PORT, N1_PORT, ServerUnderTest.port(7711)));
        seeded.expect(422);
        assertThat(seeded.body().path("message").asString()).contains("source_node", "'n9' is not a node");

        Response noKey = api.withKey(null).get("/v1/databases");
        noKey.expect(401);
        assertProblem(noKey.body());
    }

    @Test
    @Order(8)
    void deleteAndTheTasksStay() {
        JsonNode deleted = api.delete("/v1/databases/example").expect(202).body();
        assertTask(deleted.path("task"), "delete");
        api.awaitTask("example", deleted);
        assertThat(api.get("/v1/databases/example")
                        .expect(404)
                        .body()
                        .path("name")
                        .asString())
                .isEqualTo("not_found");
        assertTask(api.task("example", createTaskId), "create");
    }

    private static void assertDatabase(JsonNode db) {
        assertThat(db.path("id").asString()).isEqualTo("example");
        assertThat(Instant.parse(db.path("created_at").asString())).isNotNull();
        assertThat(Instant.parse(db.path("updated_at").asString())).isNotNull();
        assertThat(DATABASE_STATES).contains(db.path("state").asString());
        assertThat(db.path("spec").path("database_name").asString()).isEqualTo("example");
        assertThat(db.path("spec").path("nodes")).hasSize(2);
        assertThat(db.path("spec").path("database_users").get(0).has("password")
                        && !db.path("spec")
                                .path("database_users")
                                .get(0)
                                .path("password")
                                .isNull())
                .as("passwords are never shown")
                .isFalse();
        for (JsonNode instance : db.path("instances")) {
            assertInstance(instance);
        }
    }

    private static void assertInstance(JsonNode instance) {
        for (String field : List.of("id", "host_id", "node_name", "created_at", "updated_at", "state")) {
            assertThat(instance.path(field).asString())
                    .as(field + " of " + instance)
                    .isNotBlank();
        }
        assertThat(INSTANCE_STATES).contains(instance.path("state").asString());
        assertThat(instance.path("postgres").path("version").asString()).matches("\\d+(\\.\\d+)?");
        assertThat(instance.path("postgres").path("pending_restart").isBoolean())
                .isTrue();
        assertThat(instance.path("postgres").path("role").asString()).isIn("primary", "replica");
        assertThat(instance.path("connection_info").path("hostname").asString()).isNotBlank();
        assertThat(instance.path("connection_info").path("port").asInt()).isPositive();
    }

    private static void assertTask(JsonNode task, String type) {
        assertThat(task.path("scope").asString()).isEqualTo("database");
        assertThat(task.path("entity_id").asString()).isEqualTo("example");
        assertThat(task.path("database_id").asString()).isEqualTo("example");
        assertThat(task.path("task_id").asString()).matches("[0-9a-f-]{36}");
        assertThat(Instant.parse(task.path("created_at").asString())).isNotNull();
        // pgfleet's own "scheduled" is the one status beyond pgEdge's (README: Coming from pgEdge).
        assertThat(task.path("status").asString()).isIn(union(TASK_STATUSES, "scheduled"));
        if (type != null) {
            assertThat(task.path("type").asString()).isEqualTo(type);
        }
    }

    private static void assertTaskLog(JsonNode log) {
        assertThat(log.path("scope").asString()).isEqualTo("database");
        assertThat(log.path("entity_id").asString()).isEqualTo("example");
        assertThat(log.path("task_id").asString()).matches("[0-9a-f-]{36}");
        assertThat(TASK_STATUSES).contains(log.path("task_status").asString());
        assertThat(log.path("entries").isArray()).isTrue();
        assertThat(log.path("last_entry_id").asString()).isNotBlank();
        for (JsonNode entry : log.path("entries")) {
            assertThat(Instant.parse(entry.path("timestamp").asString())).isNotNull();
            assertThat(entry.path("message").asString()).isNotBlank();
        }
    }

    private static void assertProblem(JsonNode problem) {
        // pgEdge's APIError members beside RFC 9457's.
        assertThat(problem.path("name").asString()).isNotBlank();
        assertThat(problem.path("message").asString()).isNotBlank();
        assertThat(problem.path("name").asString())
                .isEqualTo(problem.path("code").asString());
        assertThat(problem.path("message").asString())
                .isEqualTo(problem.path("detail").asString());
    }

    private static Set<String> union(Set<String> set, String extra) {
        Set<String> all = new java.util.HashSet<>(set);
        all.add(extra);
        return all;
    }
}
