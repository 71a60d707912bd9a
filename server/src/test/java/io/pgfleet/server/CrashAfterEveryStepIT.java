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
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tools.jackson.databind.JsonNode;

/**
 * pgfleet SIGKILLed after every step of a create (2 nodes, pooler) and of an update (a user added, a
 * password changed, a setting reloaded), then started again: every task ends {@code completed} and
 * the spec holds on every node. The kill points are the steps a reference run of each workflow
 * recorded in the catalog, so a new step is covered without touching this test. To keep it quick,
 * one server process holds every kill point of a workflow at once: database {@code c-i} pauses
 * after step i ({@code pgfleet.test-pause-at-step}, read from a file the test writes as it goes),
 * and one SIGKILL cuts them all off: three pgfleet processes in all.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CrashAfterEveryStepIT {
    private static final String PW = "owner-pw-1";
    private static final String NEW_PW = "owner-pw-2 'quoted'";
    private static final String APP_PW = "app-pw-1";
    private Path home;
    private Path log;
    private Path pauses;
    private ServerProcess server;

    @BeforeAll
    void prepare() throws Exception {
        home = ServerUnderTest.newHome("step");
        log = Files.createDirectories(Path.of("target/it-logs")).resolve("crash-steps-" + home.getFileName() + ".log");
        pauses = home.resolve("test-pauses");
    }

    @AfterAll
    void cleanUp() {
        if (server != null && server.isAlive()) {
            server.kill();
        }
        ServerUnderTest.cleanUp(home);
    }

    /** Starts pgfleet with the kill points it reads, at each step, from {@link #pauses}. */
    private Api start() {
        server = ServerProcess.start(
                home, 7800, 7899, log, "-Dpgfleet.workers=24", "-Dpgfleet.test-pause-at-step=@" + pauses);
        return server.api();
    }

    private void pauseAfter(List<String> points) throws java.io.IOException {
        Files.writeString(pauses, String.join("\n", points));
    }

    private static String createBody(String id) {
        return """
                {"id": "%s", "spec": {"database_name": "app",
                 "nodes": [{"name": "n1"}, {"name": "n2"}],
                 "database_users": [{"username": "owner", "password": "%s", "db_owner": true}],
                 "pooler": {"enabled": true}}}""".formatted(id, PW);
    }

    /** A user added, the owner's password changed, a reloadable setting changed. */
    private static String updateBody() {
        return """
                {"spec": {"database_name": "app",
                 "nodes": [{"name": "n1"}, {"name": "n2"}],
                 "database_users": [{"username": "owner", "password": "%s", "db_owner": true},
                                    {"username": "app", "password": "%s"}],
                 "postgresql_conf": {"work_mem": "12MB"},
                 "pooler": {"enabled": true}}}""".formatted(NEW_PW, APP_PW);
    }

    private static String taskId(Api.Response accepted) {
        return accepted.expect(202).body().path("task").path("task_id").asString();
    }

    private static void awaitStatus(Api api, String db, String task, String status) {
        await().atMost(Duration.ofSeconds(180))
                .pollInterval(Duration.ofMillis(200))
                .until(() -> api.task(db, task).path("status").asString(), s -> {
                    if (!s.equals(status) && (s.equals("failed") || s.equals("completed"))) {
                        throw new AssertionError("task " + task + " of " + db + " ended " + s + ": "
                                + api.task(db, task).path("error").asString());
                    }
                    return s.equals(status);
                });
    }

    /** How many lanes have reported their pause after the task's kill point. */
    private static long pauses(Api api, String db, String task) {
        long n = 0;
        for (JsonNode entry : api.get("/v1/databases/" + db + "/tasks/" + task + "/log")
                .body()
                .path("entries")) {
            if (entry.path("fields").has("test_pause")) {
                n++;
            }
        }
        return n;
    }

    @Test
    void killedAfterAnyStepOfACreateOrAnUpdateTheTaskCompletesAndTheSpecHoldsOnEveryNode() throws Exception {
        // Run 1: a reference create and update, whose recorded steps are the kill points; then
        // database c-i pauses after create step i, and pgfleet is killed with all of them held.
        Api api = start();
        String refCreate = taskId(api.post("/v1/databases", createBody("ref")));
        awaitStatus(api, "ref", refCreate, "completed");
        String refUpdate = taskId(api.post("/v1/databases/ref", updateBody()));
        awaitStatus(api, "ref", refUpdate, "completed");
        Map<String, Integer> createSteps = finishedSteps(refCreate);
        Map<String, Integer> updateSteps = finishedSteps(refUpdate);
        assertThat(createSteps).containsKeys("InitDataDirectory", "StartPostgres", "StartPooler", "MarkAvailable");
        assertThat(updateSteps).containsKeys("Reload", "ReconcileRoles", "MarkAvailable");

        int count = Math.max(createSteps.size(), updateSteps.size());
        List<String> createKills = new ArrayList<>(createSteps.keySet());
        List<String> updateKills = new ArrayList<>(updateSteps.keySet());
        List<String> points = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            points.add("create:c-" + i + "/" + createKills.get(Math.min(i, createKills.size() - 1)));
        }
        pauseAfter(points);
        Map<String, String> creates = new LinkedHashMap<>();
        for (int i = 0; i < count; i++) {
            creates.put("c-" + i, taskId(api.post("/v1/databases", createBody("c-" + i))));
        }
        awaitAllPaused(api, creates, createKills, createSteps);
        server.kill();

        // Run 2: the creates resume and complete; then database c-i pauses after update step i.
        points.clear();
        for (int i = 0; i < updateKills.size(); i++) {
            points.add("update:c-" + i + "/" + updateKills.get(i));
        }
        // Database rb: an update that fails on n2 (its new port taken) is killed in the middle of its rollback.
        points.add("update:rb/RestorePostgres");
        pauseAfter(points);
        Api api2 = start();
        String rbCreate = taskId(api2.post("/v1/databases", createBody("rb")));
        for (Map.Entry<String, String> create : creates.entrySet()) {
            awaitStatus(api2, create.getKey(), create.getValue(), "completed");
        }
        for (String db : creates.keySet()) {
            assertCreated(api2, db);
        }
        awaitStatus(api2, "rb", rbCreate, "completed");
        int rbPort = api2.instance("rb", "n2").path("port").asInt();
        int rbNewPort = ServerUnderTest.port(7899);
        String rbUpdate = taskId(api2.post("/v1/databases/rb", failingUpdateBody(rbNewPort)));
        try (java.net.ServerSocket squatter = new java.net.ServerSocket()) {
            squatter.bind(new java.net.InetSocketAddress(rbNewPort));
            awaitAllPaused(api2, Map.of("rb", rbUpdate), List.of("RestorePostgres"), Map.of("RestorePostgres", 2));
        }
        Map<String, String> updates = new LinkedHashMap<>();
        for (int i = 0; i < updateKills.size(); i++) {
            updates.put("c-" + i, taskId(api2.post("/v1/databases/c-" + i, updateBody())));
        }
        awaitAllPaused(api2, updates, updateKills, updateSteps);
        server.kill();

        // Run 3: the updates resume and complete with the spec applied on both nodes.
        pauseAfter(List.of());
        Api api3 = start();
        for (Map.Entry<String, String> update : updates.entrySet()) {
            awaitStatus(api3, update.getKey(), update.getValue(), "completed");
        }
        for (String db : updates.keySet()) {
            assertUpdated(api3, db);
        }
        assertRolledBackAfterItsCrash(api3, rbUpdate, rbPort);
        server.terminate();
    }

    /** Waits until every lane of every task reports its pause (a node step pauses in each node). */
    private static void awaitAllPaused(
            Api api, Map<String, String> tasks, List<String> kills, Map<String, Integer> lanes) {
        int i = 0;
        for (Map.Entry<String, String> task : tasks.entrySet()) {
            String step = kills.get(Math.min(i++, kills.size() - 1));
            int expected = lanes.get(step);
            try {
                await().atMost(Duration.ofSeconds(180))
                        .pollInterval(Duration.ofMillis(200))
                        .until(() -> {
                            String status = api.task(task.getKey(), task.getValue())
                                    .path("status")
                                    .asString();
                            if (status.equals("failed") || status.equals("completed")) {
                                throw new AssertionError(
                                        task.getKey() + " ended " + status + " before pausing after " + step);
                            }
                            return pauses(api, task.getKey(), task.getValue()) >= expected;
                        });
            } catch (org.awaitility.core.ConditionTimeoutException e) {
                // Say where it stood: the CI's clone and its server log are gone when the report is read.
                JsonNode entries = api.get("/v1/databases/" + task.getKey() + "/tasks/" + task.getValue() + "/log")
                        .body()
                        .path("entries");
                List<String> last = new ArrayList<>();
                for (JsonNode entry : entries) {
                    last.add(entry.path("message").asString());
                }
                throw new AssertionError(
                        task.getKey() + " did not pause after " + step + " in " + expected
                                + " lanes within 180 s; its log ends: "
                                + String.join(" | ", last.subList(Math.max(0, last.size() - 12), last.size())),
                        e);
            }
        }
    }

    /** The update of n2 to {@code port}, a password and a setting with it; the test takes the port. */
    private static String failingUpdateBody(int port) {
        return """
                {"spec": {"database_name": "app",
                 "nodes": [{"name": "n1"}, {"name": "n2", "port": %d}],
                 "database_users": [{"username": "owner", "password": "%s", "db_owner": true}],
                 "postgresql_conf": {"work_mem": "12MB"},
                 "pooler": {"enabled": true}}}""".formatted(port, NEW_PW);
    }

    /** Killed in its rollback, the update carried it on: both nodes on the previous spec, stored once. */
    private void assertRolledBackAfterItsCrash(Api api, String task, int n2Port) throws SQLException {
        awaitStatus(api, "rb", task, "failed");
        assertThat(api.task("rb", task).path("error").asString())
                .contains("rolled back: every instance is on the previous spec again");
        String log = api.get("/v1/databases/rb/tasks/" + task + "/log").body().toString();
        assertThat(log).contains("the rollback of this update was interrupted; carrying it on");
        assertCreated(api, "rb");
        assertThat(api.instance("rb", "n2").path("port").asInt()).isEqualTo(n2Port);
        for (JsonNode instance : api.database("rb").path("instances")) {
            try (Connection c = Postgres.connect(instance.path("port").asInt(), "app", "owner", PW)) {
                assertThat(Postgres.queryOne(c, "show work_mem")).isNotEqualTo("12MB");
            }
        }
        assertThat(api.database("rb")
                        .path("spec")
                        .path("postgresql_conf")
                        .path("work_mem")
                        .isMissingNode())
                .isTrue();
        assertThat(api.get("/v1/events?database_id=rb&type=database.update_rolled_back")
                        .body()
                        .path("total")
                        .asLong())
                .as("the previous spec is stored once")
                .isEqualTo(1);
    }

    private void assertCreated(Api api, String db) throws SQLException {
        JsonNode database = api.database(db);
        assertThat(database.path("state").asString()).as(db).isEqualTo("available");
        for (JsonNode instance : database.path("instances")) {
            assertThat(instance.path("state").asString()).isEqualTo("available");
            try (Connection c = Postgres.connect(instance.path("port").asInt(), "app", "owner", PW)) {
                assertThat(Postgres.queryOne(c, "select current_user")).isEqualTo("owner");
            }
            try (Connection c =
                    Postgres.connectPooled(instance.path("pooler_port").asInt(), "app", "owner", PW)) {
                assertThat(Postgres.queryOne(c, "select 1")).isEqualTo("1");
            }
        }
    }

    private void assertUpdated(Api api, String db) throws SQLException {
        JsonNode database = api.database(db);
        assertThat(database.path("state").asString()).as(db).isEqualTo("available");
        assertThat(database.path("instances")).hasSize(2);
        for (JsonNode instance : database.path("instances")) {
            assertThat(instance.path("state").asString()).as(db).isEqualTo("available");
            int port = instance.path("port").asInt();
            try (Connection c = Postgres.connect(port, "app", "owner", NEW_PW)) {
                assertThat(Postgres.queryOne(c, "show work_mem")).as(db).isEqualTo("12MB");
            }
            try (Connection c = Postgres.connect(port, "app", "app", APP_PW)) {
                assertThat(Postgres.queryOne(c, "select current_user")).isEqualTo("app");
            }
            try (Connection c =
                    Postgres.connectPooled(instance.path("pooler_port").asInt(), "app", "owner", NEW_PW)) {
                assertThat(Postgres.queryOne(c, "select 1")).isEqualTo("1");
            }
        }
    }

    /**
     * The names of the steps a finished task recorded, in the order they finished, each with the
     * number of lanes that ran it (2 for a step of each node).
     */
    private Map<String, Integer> finishedSteps(String taskId) throws Exception {
        List<String> pid = Files.readAllLines(home.resolve("catalog/data/postmaster.pid"));
        Properties props = new Properties();
        props.setProperty("user", "postgres");
        props.setProperty(
                "password",
                Files.readString(home.resolve("secrets/catalog.password")).trim());
        Map<String, Integer> steps = new LinkedHashMap<>();
        try (Connection c = DriverManager.getConnection(
                        "jdbc:postgresql://127.0.0.1:" + pid.get(3).trim() + "/postgres", props);
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(
                        "select step from task_steps where task_id = '" + taskId + "' order by finished_at, step")) {
            while (rs.next()) {
                String key = rs.getString(1);
                steps.merge(key.substring(key.indexOf('/') + 1), 1, Integer::sum);
            }
        }
        return steps;
    }
}
