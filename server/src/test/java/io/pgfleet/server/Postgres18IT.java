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

/** PostgreSQL 18 is bundled beside 17 and 16 and chosen with "postgres_version": "18"; 17 stays the default. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class Postgres18IT {
    private Path home;
    private ServerUnderTest server;
    private Api api;

    @BeforeAll
    void startServer() {
        home = ServerUnderTest.newHome("pg18");
        server = ServerUnderTest.start(home, 7900, 7909);
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
    void aDatabaseOnPostgres18RunsItsLifecycleWithItsPooler() throws Exception {
        api.awaitTask("eighteen", api.post("/v1/databases", """
                        {"id": "eighteen", "spec": {"database_name": "app", "postgres_version": "18",
                          "nodes": [{"name": "n1"}],
                          "database_users": [{"username": "web", "password": "web-pw-18", "db_owner": true}],
                          "pooler": {"enabled": true}}}""").expect(202).body());
        JsonNode instance = api.instance("eighteen", "n1");
        assertThat(api.database("eighteen")
                        .path("spec")
                        .path("postgres_version")
                        .asString())
                .isEqualTo("18");
        int port = instance.path("port").asInt();
        try (Connection c = Postgres.connect(port, "app", "web", "web-pw-18")) {
            assertThat(Postgres.queryOne(c, "SHOW server_version")).startsWith("18.7");
        }
        api.awaitTask(
                "eighteen",
                api.post("/v1/databases/eighteen/instances/n1/restart", "{}")
                        .expect(202)
                        .body());
        try (Connection pooled =
                Postgres.connectPooled(instance.path("pooler_port").asInt(), "app", "web", "web-pw-18")) {
            assertThat(Postgres.queryOne(pooled, "SELECT current_user")).isEqualTo("web");
        }
        api.awaitTask(
                "eighteen", api.delete("/v1/databases/eighteen").expect(202).body());
    }

    @Test
    void seventeenStaysTheDefault() throws Exception {
        api.awaitTask(
                "default-version", api.post("/v1/databases", """
                        {"id": "default-version", "spec": {"database_name": "app", "nodes": [{"name": "n1"}],
                          "database_users": [{"username": "web", "password": "web-pw-17", "db_owner": true}]}}""").expect(202).body());
        assertThat(api.database("default-version")
                        .path("spec")
                        .path("postgres_version")
                        .asString())
                .isEqualTo("17");
        int port = api.instance("default-version", "n1").path("port").asInt();
        try (Connection c = Postgres.connect(port, "app", "web", "web-pw-17")) {
            assertThat(Postgres.queryOne(c, "SHOW server_version")).startsWith("17.");
        }
        api.awaitTask(
                "default-version",
                api.delete("/v1/databases/default-version").expect(202).body());
    }
}
