package io.pgfleet.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgfleet.server.support.Api;
import io.pgfleet.server.support.Postgres;
import io.pgfleet.server.support.ServerUnderTest;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tools.jackson.databind.JsonNode;

/**
 * A failed update puts every instance back on the last spec that worked: settings, users, passwords and
 * ports, with that spec stored again and the task saying so.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class UpdateRollbackIT {
    private Path home;
    private ServerUnderTest server;
    private Api api;

    @BeforeAll
    void startServer() {
        home = ServerUnderTest.newHome("undo");
        server = ServerUnderTest.start(home, 7850, 7869);
        api = server.api();
        api.awaitTask("undo", api.post("/v1/databases", """
                        {"id": "undo", "spec": {"database_name": "shop", "nodes": [{"name": "n1"}, {"name": "n2"}],
                          "database_users": [
                            {"username": "admin", "password": "old-admin-pw", "db_owner": true},
                            {"username": "app", "password": "old-app-pw"}],
                          "postgresql_conf": {"work_mem": "4MB"},
                          "pooler": {"enabled": true}}}""").expect(202).body());
    }

    @AfterAll
    void stopServer() {
        if (server != null) {
            server.close();
        }
        ServerUnderTest.cleanUp(home);
    }

    @Test
    void anUpdateThatFailsOnItsSecondNodeLeavesBothOnThePreviousSpec() throws Exception {
        int n1Port = api.instance("undo", "n1").path("port").asInt();
        int n2Port = api.instance("undo", "n2").path("port").asInt();
        int newPort = ServerUnderTest.port(7879);
        JsonNode accepted = api.post("/v1/databases/undo", """
                        {"spec": {"database_name": "shop", "nodes": [{"name": "n1"}, {"name": "n2", "port": %d}],
                          "database_users": [
                            {"username": "admin", "password": "new-admin-pw", "db_owner": true},
                            {"username": "app", "password": "new-app-pw"},
                            {"username": "extra", "password": "extra-pw"}],
                          "postgresql_conf": {"work_mem": "16MB"},
                          "pooler": {"enabled": true}}}""".formatted(newPort))
                .expect(202)
                .body();
        JsonNode task;
        // The port was free when the update was accepted; another process takes it before n2 restarts on it.
        try (ServerSocket squatter = new ServerSocket()) {
            squatter.bind(new InetSocketAddress(newPort));
            task = api.awaitTask("undo", accepted, "failed");
        }
        String error = task.path("error").asString();
        assertThat(error)
                .contains("port " + newPort + " is in use by another process")
                .contains("rolled back: every instance is on the previous spec again");
        String log = api.get("/v1/databases/undo/tasks/" + task.path("task_id").asString() + "/log")
                .expect(200)
                .body()
                .toString();
        assertThat(log).contains("rolling back to the previous spec", "node n2: back on the previous spec");
        assertThat(log).doesNotContain("old-admin-pw", "new-admin-pw", "extra-pw");

        JsonNode db = api.database("undo");
        assertThat(db.path("state").asString()).isEqualTo("available");
        assertThat(db.path("spec").path("postgresql_conf").path("work_mem").asString())
                .isEqualTo("4MB");
        assertThat(db.path("spec").path("database_users").toString()).doesNotContain("extra");
        assertThat(db.path("spec").path("nodes").get(1).has("port")
                        && !db.path("spec").path("nodes").get(1).path("port").isNull())
                .as("n2 has no explicit port again")
                .isFalse();
        assertThat(api.instance("undo", "n1").path("port").asInt()).isEqualTo(n1Port);
        assertThat(api.instance("undo", "n2").path("port").asInt()).isEqualTo(n2Port);
        for (String node : new String[] {"n1", "n2"}) {
            JsonNode instance = api.instance("undo", node);
            assertThat(instance.path("state").asString()).as(node).isEqualTo("available");
            int port = instance.path("port").asInt();
            try (Connection admin = Postgres.connect(port, "shop", "admin", "old-admin-pw");
                    Connection app = Postgres.connect(port, "shop", "app", "old-app-pw")) {
                assertThat(Postgres.queryOne(admin, "SHOW work_mem")).as(node).isEqualTo("4MB");
                assertThat(Postgres.queryOne(admin, "SELECT count(*) FROM pg_roles WHERE rolname = 'extra'"))
                        .as(node + ": the user the failed update created is gone")
                        .isEqualTo("0");
                assertThat(Postgres.queryOne(app, "SELECT 1")).isEqualTo("1");
            }
            assertThat(logsIn(port, "admin", "new-admin-pw")).as(node).isFalse();
            int pooler = instance.path("pooler_port").asInt();
            try (Connection pooled = Postgres.connectPooled(pooler, "shop", "app", "old-app-pw")) {
                assertThat(Postgres.queryOne(pooled, "SELECT current_user")).isEqualTo("app");
            }
        }
        JsonNode revealed = api.get("/v1/databases/undo/connection?user=app&reveal=true")
                .expect(200)
                .body();
        assertThat(revealed.toString()).contains("old-app-pw").doesNotContain("new-app-pw");
        assertThat(api.get("/v1/events?database_id=undo&type=database.update_rolled_back")
                        .expect(200)
                        .body()
                        .path("total")
                        .asLong())
                .isEqualTo(1);

        // The port the failed update reserved is free again: the next update may use it.
        JsonNode retry = api.post("/v1/databases/undo", """
                        {"spec": {"database_name": "shop", "nodes": [{"name": "n1"}, {"name": "n2", "port": %d}],
                          "database_users": [
                            {"username": "admin", "db_owner": true}, {"username": "app"}],
                          "postgresql_conf": {"work_mem": "4MB"},
                          "pooler": {"enabled": true}}}""".formatted(newPort))
                .expect(202)
                .body();
        api.awaitTask("undo", retry);
        assertThat(api.instance("undo", "n2").path("port").asInt()).isEqualTo(newPort);
        assertThat(logsIn(newPort, "admin", "old-admin-pw")).isTrue();
    }

    private static boolean logsIn(int port, String user, String password) {
        try (Connection c = Postgres.connect(port, "shop", user, password)) {
            return c.isValid(2);
        } catch (SQLException e) {
            return false;
        }
    }
}
