package io.pgfleet.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgfleet.server.support.Api;
import io.pgfleet.server.support.Postgres;
import io.pgfleet.server.support.ServerUnderTest;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tools.jackson.databind.JsonNode;

/** Restarts at a time: they fire, they can be canceled, and they survive a restart of pgfleet. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ScheduledRestartIT {
    private Path home;
    private ServerUnderTest server;

    @BeforeAll
    void startServer() {
        home = ServerUnderTest.newHome("sched");
        server = ServerUnderTest.start(home, 7350, 7379);
        Api api = server.api();
        api.awaitTask("timed", api.post("/v1/databases", """
                        {"id": "timed", "spec": {"database_name": "timed",
                         "nodes": [{"name": "n1"}, {"name": "n2"}],
                         "database_users": [{"username": "admin", "password": "admin-pass", "db_owner": true}]}}""").expect(202).body());
    }

    @AfterAll
    void stopServer() {
        if (server != null) {
            server.close();
        }
        ServerUnderTest.cleanUp(home);
    }

    @Test
    void aCanceledRestartNeverFiresWhileTheOneBesideItDoes() throws Exception {
        Api api = server.api();
        String n1Before = postmasterStart(api, "n1");
        String n2Before = postmasterStart(api, "n2");
        Instant at = Instant.now().plusSeconds(2).truncatedTo(ChronoUnit.SECONDS);
        JsonNode canceled = scheduleRestart(api, "n1", at);
        JsonNode kept = scheduleRestart(api, "n2", at.plusSeconds(1));
        assertThat(canceled.path("task").path("status").asString()).isEqualTo("scheduled");

        // Scheduled work shows in the task list before it runs.
        assertThat(api.get("/v1/tasks?scope=database&entity_id=timed")
                        .expect(200)
                        .body()
                        .toString())
                .contains(kept.path("task").path("task_id").asString());

        String canceledId = canceled.path("task").path("task_id").asString();
        assertThat(api.delete("/v1/databases/timed/tasks/" + canceledId)
                        .expect(200)
                        .body()
                        .path("task")
                        .path("status")
                        .asString())
                .isEqualTo("canceled");
        assertThat(api.delete("/v1/databases/timed/tasks/" + canceledId)
                        .expect(409)
                        .code())
                .as("canceling twice is a conflict, not a silent success")
                .isEqualTo("invalid_state");

        JsonNode fired = api.awaitTask("timed", kept);
        assertThat(Instant.parse(fired.path("started_at").asString())).isAfterOrEqualTo(at.plusSeconds(1));
        assertThat(postmasterStart(api, "n2")).isNotEqualTo(n2Before);
        assertThat(api.task("timed", canceledId).path("status").asString()).isEqualTo("canceled");
        assertThat(api.task("timed", canceledId).path("started_at").isNull()).isTrue();
        assertThat(postmasterStart(api, "n1"))
                .as("the canceled restart did not run")
                .isEqualTo(n1Before);
    }

    @Test
    void aScheduledRestartFiresAfterPgfleetItselfRestarted() throws Exception {
        Api api = server.api();
        String before = postmasterStart(api, "n1");
        Instant at = Instant.now().plusSeconds(8).truncatedTo(ChronoUnit.SECONDS);
        String taskId =
                scheduleRestart(api, "n1", at).path("task").path("task_id").asString();

        int port = api.instance("timed", "n1").path("port").asInt();
        server.close();
        // The instances are detached from pgfleet: they keep serving while it is down.
        assertThat(Postgres.isListening(port)).isTrue();
        server = ServerUnderTest.start(home, 7350, 7379);
        Api restarted = server.api();
        assertThat(restarted.task("timed", taskId).path("status").asString()).isEqualTo("scheduled");
        assertThat(restarted.instanceState("timed", "n1")).isEqualTo("available");

        await().atMost(Duration.ofSeconds(40))
                .pollInterval(Duration.ofMillis(200))
                .until(() -> restarted
                        .task("timed", taskId)
                        .path("status")
                        .asString()
                        .equals("completed"));
        assertThat(Instant.parse(
                        restarted.task("timed", taskId).path("started_at").asString()))
                .isAfterOrEqualTo(at);
        assertThat(postmasterStart(restarted, "n1")).isNotEqualTo(before);
    }

    @Test
    void aRestartScheduledInThePastIsRefused() {
        JsonNode problem = server.api()
                .post("/v1/databases/timed/instances/n1/restart", "{\"scheduled_at\": \"2001-01-01T00:00:00Z\"}")
                .expect(422)
                .body();
        assertThat(problem.path("errors").get(0).path("field").asString()).isEqualTo("scheduled_at");
    }

    private static JsonNode scheduleRestart(Api api, String node, Instant at) {
        return api.post("/v1/databases/timed/instances/" + node + "/restart", "{\"scheduled_at\": \"" + at + "\"}")
                .expect(202)
                .body();
    }

    private static String postmasterStart(Api api, String node) throws Exception {
        int port = api.instance("timed", node).path("port").asInt();
        try (Connection c = Postgres.connect(port, "timed", "admin", "admin-pass")) {
            return Postgres.queryOne(c, "select pg_postmaster_start_time()");
        }
    }
}
