package io.pgfleet.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgfleet.server.support.Api;
import io.pgfleet.server.support.Postgres;
import io.pgfleet.server.support.ServerProcess;
import io.pgfleet.server.support.ServerUnderTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tools.jackson.databind.JsonNode;

/**
 * pgfleet SIGKILLed in the middle of workflows (inside a step, and at a step boundary held by the
 * test-only {@code pgfleet.test-pause-at-step}), then started again: everything converges.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CrashSafetyIT {
    private static final String PW = "crash-owner-pw";
    private Path home;
    private Path log;
    private ServerProcess server;

    @BeforeAll
    void prepare() throws Exception {
        home = ServerUnderTest.newHome("kill");
        log = Files.createDirectories(Path.of("target/it-logs")).resolve("crash-safety-" + home.getFileName() + ".log");
    }

    @AfterAll
    void cleanUp() {
        if (server != null && server.isAlive()) {
            server.kill();
        }
        ServerUnderTest.cleanUp(home);
    }

    private ServerProcess start(String... properties) {
        server = ServerProcess.start(home, 7740, 7799, log, properties);
        return server;
    }

    private static String create(Api api, String id, int nodes) {
        String nodeList = nodes == 1 ? "[{\"name\": \"n1\"}]" : "[{\"name\": \"n1\"}, {\"name\": \"n2\"}]";
        return api.post("/v1/databases", """
                        {"id": "%s", "spec": {"database_name": "app", "nodes": %s,
                         "database_users": [{"username": "owner", "password": "%s", "db_owner": true}]}}""".formatted(id, nodeList, PW))
                .expect(202)
                .body()
                .path("task")
                .path("task_id")
                .asString();
    }

    private static String taskLog(Api api, String db, String taskId) {
        return api.get("/v1/databases/" + db + "/tasks/" + taskId + "/log")
                .body()
                .toString();
    }

    @Test
    void killedMidWorkflowItConvergesWithoutOrphansOrLostData() throws Exception {
        // Run 1: a kept database with data and a scheduled restart; a create killed inside StartPostgres.
        Api api = start().api();
        String keepTask = create(api, "keep", 1);
        await().atMost(Duration.ofSeconds(60))
                .until(() -> api.get("/v1/databases/keep/tasks/" + keepTask)
                        .body()
                        .path("status")
                        .asString()
                        .equals("completed"));
        int keepPort = api.instance("keep", "n1").path("port").asInt();
        try (Connection c = Postgres.connect(keepPort, "app", "owner", PW)) {
            Postgres.execute(c, "create table kept(v text); insert into kept values ('survives')");
        }
        String scheduled = api.post(
                        "/v1/databases/keep/instances/n1/restart",
                        "{\"scheduled_at\": \"" + Instant.now().plusSeconds(30) + "\"}")
                .expect(202)
                .body()
                .path("task")
                .path("task_id")
                .asString();
        String goneTask = create(api, "gone", 1);
        await().atMost(Duration.ofSeconds(60))
                .until(() -> api.get("/v1/databases/gone/tasks/" + goneTask)
                        .body()
                        .path("status")
                        .asString()
                        .equals("completed"));
        String goneDir = api.instance("gone", "n1").path("id").asString();

        String midTask = create(api, "mid", 2);
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(5))
                .until(() -> taskLog(api, "mid", midTask).contains("StartPostgres"));
        server.kill(); // inside StartPostgres: pg_ctl may be launching, the readiness wait under way

        // Run 2: the create resumes; a delete is held after StopPooler (before RemoveFiles) and killed there.
        Api api2 = start("-Dpgfleet.test-pause-at-step=StopPooler").api();
        await().atMost(Duration.ofSeconds(60))
                .until(() -> api2.get("/v1/databases/mid/tasks/" + midTask)
                        .body()
                        .path("status")
                        .asString()
                        .equals("completed"));
        assertThat(taskLog(api2, "mid", midTask)).contains("resuming");
        assertThat(api2.database("mid").path("state").asString()).isEqualTo("available");
        String deleteTask = api2.delete("/v1/databases/gone")
                .expect(202)
                .body()
                .path("task")
                .path("task_id")
                .asString();
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(20))
                .until(() -> taskLog(api2, "gone", deleteTask).contains("test pause after n1/StopPooler"));
        server.kill(); // the postmaster is stopped, its files are still there

        // Run 3: the delete resumes to completion; the scheduled restart still fires.
        Api api3 = start().api();
        await().atMost(Duration.ofSeconds(60))
                .until(() -> api3.get("/v1/databases/gone").status() == 404);
        assertThat(api3.get("/v1/databases/gone/tasks/" + deleteTask)
                        .expect(200)
                        .body()
                        .path("status")
                        .asString())
                .isEqualTo("completed");
        assertThat(home.resolve("instances").resolve(goneDir)).doesNotExist();
        await().atMost(Duration.ofSeconds(60))
                .until(() -> api3.get("/v1/databases/keep/tasks/" + scheduled)
                        .body()
                        .path("status")
                        .asString()
                        .equals("completed"));
        await().atMost(Duration.ofSeconds(10))
                .until(() -> api3.database("keep").path("state").asString().equals("available"));
        try (Connection c = Postgres.connect(keepPort, "app", "owner", PW)) {
            assertThat(Postgres.queryOne(c, "select v from kept")).isEqualTo("survives");
        }
        assertThat(api3.database("mid").path("state").asString()).isEqualTo("available");

        // ps shows exactly the postmasters pgfleet knows: the catalog and one per available instance.
        Set<String> known = new HashSet<>();
        known.add(home.resolve("catalog/data").toString());
        for (String db : List.of("keep", "mid")) {
            for (JsonNode instance : api3.database(db).path("instances")) {
                assertThat(instance.path("state").asString()).isEqualTo("available");
                known.add(home.resolve("instances")
                        .resolve(instance.path("id").asString())
                        .resolve("data")
                        .toString());
            }
        }
        assertThat(new HashSet<>(ServerProcess.postmastersUnder(home))).isEqualTo(known);

        // SIGTERM is graceful and leaves the databases running.
        server.terminate();
        assertThat(Postgres.isListening(keepPort)).isTrue();
    }
}
