package io.pgfleet.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgfleet.server.support.Api;
import io.pgfleet.server.support.Postgres;
import io.pgfleet.server.support.ServerUnderTest;
import java.nio.file.Path;
import java.sql.Connection;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Settings are checked before any work and written so nothing can break the configuration file: a
 * create's postgresql_conf against its version's pg_settings, values with backslashes and quotes read
 * back exactly after a restart, and a database whose Postgres will not start repaired by an update
 * while no instance runs.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SettingsIT {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private Path home;
    private ServerUnderTest server;
    private Api api;

    @BeforeAll
    void startServer() {
        home = ServerUnderTest.newHome("sett");
        server = ServerUnderTest.start(home, 7870, 7889);
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
    void aCreateWithABadSettingIsRefusedBeforeAnyWork() {
        Api.Response lots = api.post("/v1/databases", create("lots", "{\"work_mem\": \"lots\"}", "always"))
                .expect(422);
        assertThat(lots.contentType()).startsWith("application/problem+json");
        assertThat(lots.body().toString())
                .contains("spec.postgresql_conf.work_mem")
                .contains("lots");
        Api.Response unknown = api.post("/v1/databases", create("unknown", "{\"no_such_setting\": \"1\"}", "always"))
                .expect(422);
        assertThat(unknown.body().toString()).contains("spec.postgresql_conf.no_such_setting");
        Api.Response range = api.post("/v1/databases", create("range", "{\"max_connections\": \"0\"}", "always"))
                .expect(422);
        assertThat(range.body().toString()).contains("spec.postgresql_conf.max_connections");
        Api.Response enumValue = api.post("/v1/databases", create("enum", "{\"wal_level\": \"loud\"}", "always"))
                .expect(422);
        assertThat(enumValue.body().toString()).contains("spec.postgresql_conf.wal_level");
        for (String id : new String[] {"lots", "unknown", "range", "enum"}) {
            assertThat(api.get("/v1/databases/" + id).status()).isEqualTo(404);
        }
    }

    @Test
    void valuesWithABackslashOrAQuoteReadBackExactlyAndTheInstanceRestarts() throws Exception {
        String prefix = "%m [%p] it's \\";
        String conf = JSON.writeValueAsString(java.util.Map.of("log_line_prefix", prefix, "work_mem", "8MB"));
        // The admin key makes app a superuser, so the test can read every setting and pg_file_settings.
        String spec = create("quoted", conf, "always")
                .replace("\"db_owner\": true}", "\"db_owner\": true, \"attributes\": [\"LOGIN\", \"SUPERUSER\"]}");
        JsonNode created = api.post("/v1/databases", spec).expect(202).body();
        api.awaitTask("quoted", created);
        int port = api.instance("quoted", "n1").path("port").asInt();
        try (Connection c = Postgres.connect(port, "app", "app", "app-pass-1")) {
            assertThat(Postgres.queryOne(c, "SHOW log_line_prefix")).isEqualTo(prefix);
        }
        api.awaitTask(
                "quoted",
                api.post("/v1/databases/quoted/instances/n1/restart", "{}")
                        .expect(202)
                        .body());
        assertThat(api.instanceState("quoted", "n1")).isEqualTo("available");

        String changed = "x\\'; shared_preload_libraries = 'evil' #";
        String update = """
                {"spec": {"database_name": "app", "nodes": [{"name": "n1"}],
                 "database_users": [{"username": "app", "db_owner": true, "attributes": ["LOGIN", "SUPERUSER"]}],
                 "postgresql_conf": %s}}""".formatted(JSON.writeValueAsString(java.util.Map.of("log_line_prefix", changed)));
        api.awaitTask(
                "quoted", api.post("/v1/databases/quoted", update).expect(202).body());
        try (Connection c = Postgres.connect(port, "app", "app", "app-pass-1")) {
            assertThat(Postgres.queryOne(c, "SHOW log_line_prefix")).isEqualTo(changed);
            assertThat(Postgres.queryOne(c, "SHOW shared_preload_libraries")).isEmpty();
            assertThat(Postgres.queryOne(c, "SELECT count(*) FROM pg_file_settings WHERE error IS NOT NULL"))
                    .isEqualTo("0");
        }
        api.awaitTask(
                "quoted",
                api.post("/v1/databases/quoted/instances/n1/restart", "{}")
                        .expect(202)
                        .body());
        assertThat(api.instanceState("quoted", "n1")).isEqualTo("available");
        api.awaitTask("quoted", api.delete("/v1/databases/quoted").expect(202).body());
    }

    @Test
    void anUpdatePostgresWouldNotApplyFailsAndIsRolledBack() throws Exception {
        api.awaitTask(
                "tz",
                api.post("/v1/databases", create("tz", "{\"log_timezone\": \"Europe/Paris\"}", "always"))
                        .expect(202)
                        .body());
        // A string setting: its value passes the pg_settings check, and Postgres' own check rejects it.
        JsonNode task = api.post("/v1/databases/tz", """
                        {"spec": {"database_name": "app", "nodes": [{"name": "n1"}],
                         "database_users": [{"username": "app", "password": "app-pass-1", "db_owner": true}],
                         "postgresql_conf": {"log_timezone": "Mars/Olympus_Mons"}}}""").expect(202).body();
        String taskId = task.path("task").path("task_id").asString();
        org.awaitility.Awaitility.await()
                .atMost(java.time.Duration.ofSeconds(60))
                .until(() -> java.util.List.of("failed", "completed")
                        .contains(api.task("tz", taskId).path("status").asString()));
        JsonNode ended = api.task("tz", taskId);
        assertThat(ended.path("status").asString()).isEqualTo("failed");
        assertThat(ended.path("error").asString()).contains("log_timezone", "Mars/Olympus_Mons");
        assertThat(api.database("tz")
                        .path("spec")
                        .path("postgresql_conf")
                        .path("log_timezone")
                        .asString())
                .isEqualTo("Europe/Paris");
        int port = api.instance("tz", "n1").path("port").asInt();
        try (Connection c = Postgres.connect(port, "app", "app", "app-pass-1")) {
            assertThat(Postgres.queryOne(c, "SHOW log_timezone")).isEqualTo("Europe/Paris");
        }
        assertThat(api.instanceState("tz", "n1")).isEqualTo("available");
    }

    @Test
    void aDatabaseWhosePostgresWillNotStartIsRepairedByAnUpdateWhileNothingRuns() {
        // Within pg_settings' range, but no machine here has a terabyte of shared memory to give.
        JsonNode created = api.post("/v1/databases", create("broken", "{\"shared_buffers\": \"1TB\"}", "never"))
                .expect(202)
                .body();
        api.awaitTask("broken", created, "failed");
        assertThat(api.instanceState("broken", "n1")).isIn("failed", "error");
        String repaired = """
                {"spec": {"database_name": "app", "nodes": [{"name": "n1"}], "restart_policy": "never",
                 "database_users": [{"username": "app", "db_owner": true}],
                 "postgresql_conf": {"shared_buffers": "32MB"}}}""";
        api.awaitTask(
                "broken", api.post("/v1/databases/broken", repaired).expect(202).body());
        api.awaitTask(
                "broken",
                api.post("/v1/databases/broken/instances/n1/start", "{}")
                        .expect(202)
                        .body());
        assertThat(api.instanceState("broken", "n1")).isEqualTo("available");
        api.awaitTask("broken", api.delete("/v1/databases/broken").expect(202).body());
    }

    private static String create(String id, String conf, String restartPolicy) {
        return """
                {"id": "%s", "spec": {"database_name": "app", "nodes": [{"name": "n1"}], "restart_policy": "%s",
                 "database_users": [{"username": "app", "password": "app-pass-1", "db_owner": true}],
                 "postgresql_conf": %s}}""".formatted(id, restartPolicy, conf);
    }
}
