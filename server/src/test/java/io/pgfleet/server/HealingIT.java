package io.pgfleet.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgfleet.server.support.Api;
import io.pgfleet.server.support.Postgres;
import io.pgfleet.server.support.ServerUnderTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import tools.jackson.databind.JsonNode;

/**
 * Self-healing on real Postgres processes: the health monitor, the restart policy and its backoff,
 * unknown instances, the pooler, the server log endpoint, and the embedded catalog's watchdog.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HealingIT {
    private static final String PW = "healing-owner-pw";
    private Path home;
    private ServerUnderTest server;
    private Api api;

    @BeforeAll
    void startServer() {
        home = ServerUnderTest.newHome("heal");
        server = ServerUnderTest.start(
                home,
                7700,
                7739,
                "--pgfleet.health-interval=250ms",
                "--pgfleet.heal-backoff-initial=100ms",
                "--pgfleet.heal-max-failures=3",
                // Long enough for the test to see the 503s before the watchdog repairs the catalog.
                "--pgfleet.catalog-watchdog-interval=3s",
                "--pgfleet.catalog-connection-timeout=300ms");
        api = server.api();
    }

    @AfterAll
    void stopServer() {
        if (server != null) {
            server.close();
        }
        ServerUnderTest.cleanUp(home);
    }

    private void create(String id, String extraSpec) {
        api.awaitTask(
                id,
                api.post("/v1/databases", """
                                {"id": "%s", "spec": {"database_name": "app", "nodes": [{"name": "n1"}],
                                 "database_users": [{"username": "owner", "password": "%s", "db_owner": true}]%s}}""".formatted(id, PW, extraSpec))
                        .expect(202)
                        .body());
    }

    private Path instanceDir(String id) {
        return home.resolve("instances")
                .resolve(api.instance(id, "n1").path("id").asString());
    }

    private static void kill9(Path pidFile) throws IOException {
        long pid = Long.parseLong(Files.readAllLines(pidFile).get(0).trim());
        ProcessHandle.of(pid).orElseThrow().destroyForcibly();
    }

    @Test
    @Order(1)
    void aKilledPostmasterIsFailedWithinTwoSecondsThenAvailableWithItsData() throws Exception {
        create("crash", "");
        int port = api.instance("crash", "n1").path("port").asInt();
        try (Connection c = Postgres.connect(port, "app", "owner", PW)) {
            Postgres.execute(c, "create table kept(v text); insert into kept values ('still here')");
        }
        kill9(instanceDir("crash").resolve("data/postmaster.pid"));
        long killed = System.nanoTime();
        await().atMost(Duration.ofSeconds(2))
                .pollInterval(Duration.ofMillis(20))
                .until(() -> !api.instanceState("crash", "n1").equals("available"));
        assertThat((System.nanoTime() - killed) / 1_000_000).isLessThan(2000);
        JsonNode events = api.get("/v1/events?database_id=crash").expect(200).body();
        assertThat(events.toString()).contains("instance.postmaster_died").contains("server_log");

        await().atMost(Duration.ofSeconds(20))
                .until(() -> api.instanceState("crash", "n1").equals("available"));
        try (Connection c = Postgres.connect(port, "app", "owner", PW)) {
            assertThat(Postgres.queryOne(c, "select v from kept")).isEqualTo("still here");
        }
        assertThat(api.get("/v1/databases/crash/tasks").expect(200).body().toString())
                .contains("heal_instance");
    }

    @Test
    @Order(2)
    void restartPolicyNeverLeavesItFailedUntilStarted() throws Exception {
        create("never", ", \"restart_policy\": \"never\"");
        kill9(instanceDir("never").resolve("data/postmaster.pid"));
        await().atMost(Duration.ofSeconds(2))
                .until(() -> api.instanceState("never", "n1").equals("failed"));
        await().during(Duration.ofSeconds(2))
                .atMost(Duration.ofSeconds(3))
                .until(() -> api.instanceState("never", "n1").equals("failed"));
        assertThat(api.get("/v1/databases/never/tasks").expect(200).body().toString())
                .doesNotContain("heal_instance");
        api.awaitTask(
                "never",
                api.post("/v1/databases/never/instances/n1/start", "")
                        .expect(202)
                        .body());
        assertThat(api.instanceState("never", "n1")).isEqualTo("available");
    }

    @Test
    @Order(3)
    void aCrashLoopEndsFailedWhenTheBackoffGivesUpWithTheReasonInTheTaskLog() throws Exception {
        create("loop", "");
        Path dir = instanceDir("loop");
        // A setting Postgres refuses at start: every automatic restart exits at once.
        Files.writeString(
                dir.resolve("data/postgresql.auto.conf"), "\nshared_buffers = 'bogus'\n", StandardOpenOption.APPEND);
        kill9(dir.resolve("data/postmaster.pid"));
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(200))
                .until(() -> api.instance("loop", "n1").path("error").asString().startsWith("restart policy gave up"));
        assertThat(api.instanceState("loop", "n1")).isEqualTo("failed");
        JsonNode tasks = api.get("/v1/databases/loop/tasks").expect(200).body().path("tasks");
        JsonNode lastHeal = null;
        int heals = 0;
        for (JsonNode task : tasks) {
            if (task.path("type").asString().equals("heal_instance")) {
                heals++;
                if (lastHeal == null) {
                    lastHeal = task;
                }
                assertThat(task.path("status").asString()).isEqualTo("failed");
            }
        }
        assertThat(heals).isEqualTo(3);
        String log = api.get(
                        "/v1/databases/loop/tasks/" + lastHeal.path("task_id").asString() + "/log")
                .expect(200)
                .body()
                .toString();
        assertThat(log).contains("shared_buffers").contains("restart policy gave up");
        await().during(Duration.ofSeconds(1))
                .atMost(Duration.ofSeconds(2))
                .until(() -> api.instanceState("loop", "n1").equals("failed"));

        // Fixed by hand, then started by a person: available again.
        String conf = Files.readString(dir.resolve("data/postgresql.auto.conf"));
        Files.writeString(dir.resolve("data/postgresql.auto.conf"), conf.replace("shared_buffers = 'bogus'", ""));
        api.awaitTask(
                "loop",
                api.post("/v1/databases/loop/instances/n1/start", "")
                        .expect(202)
                        .body());
        assertThat(api.instanceState("loop", "n1")).isEqualTo("available");
    }

    @Test
    @Order(4)
    void anInstanceWhoseDataDirectoryIsGoneIsUnknownWithTheReason() throws Exception {
        create("gone", "");
        Path data = instanceDir("gone").resolve("data");
        Path aside = data.resolveSibling("data.aside");
        Files.move(data, aside);
        try {
            await().atMost(Duration.ofSeconds(3))
                    .until(() -> api.instanceState("gone", "n1").equals("unknown"));
            assertThat(api.instance("gone", "n1").path("error").asString()).contains("missing or unreadable");
        } finally {
            Files.move(aside, data);
        }
        await().atMost(Duration.ofSeconds(3))
                .until(() -> api.instanceState("gone", "n1").equals("available"));
    }

    @Test
    @Order(5)
    void theLogEndpointReturnsTheLinesADeliberateErrorWrote() throws Exception {
        create("logs", "");
        int port = api.instance("logs", "n1").path("port").asInt();
        try (Connection c = Postgres.connect(port, "app", "owner", PW)) {
            Postgres.queryOne(c, "select 1/0");
        } catch (java.sql.SQLException expected) {
            assertThat(expected.getMessage()).contains("division by zero");
        }
        await().atMost(Duration.ofSeconds(5))
                .until(() -> api.get("/v1/databases/logs/instances/n1/logs?tail=200&level=error")
                        .expect(200)
                        .body()
                        .toString()
                        .contains("division by zero"));
        api.get("/v1/databases/logs/instances/n1/logs?source=elsewhere").expect(400);
        api.get("/v1/databases/logs/instances/n1/logs?source=pooler").expect(200);
    }

    @Test
    @Order(6)
    void aDeadPoolerIsRestartedAndReported() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(
                Files.isExecutable(Path.of("/usr/sbin/pgbouncer")), "pgbouncer is not installed");
        create("pooled", ", \"pooler\": {\"enabled\": true}");
        Path pidFile = instanceDir("pooled").resolve("pgbouncer/pgbouncer.pid");
        long before = Long.parseLong(Files.readString(pidFile).trim());
        ProcessHandle.of(before).orElseThrow().destroyForcibly();
        await().atMost(Duration.ofSeconds(10))
                .until(() -> api.get("/v1/events?database_id=pooled")
                        .body()
                        .toString()
                        .contains("pooler.restarted"));
        await().atMost(Duration.ofSeconds(5)).until(() -> {
            long now = Long.parseLong(Files.readString(pidFile).trim());
            return now != before && ProcessHandle.of(now).isPresent();
        });
        int poolerPort = api.instance("pooled", "n1").path("pooler_port").asInt();
        try (Connection c = Postgres.connectPooled(poolerPort, "app", "owner", PW)) {
            assertThat(Postgres.queryOne(c, "select 1")).isEqualTo("1");
        }
        // The PID file the killed pgbouncer left did not fail the restart first.
        assertThat(api.get("/v1/events?database_id=pooled&limit=500").body().toString())
                .doesNotContain("pidfile exists")
                .doesNotContain("could not be restarted");
        assertThat(api.get("/v1/databases/pooled/instances/n1/logs?source=pooler&tail=50")
                        .expect(200)
                        .body()
                        .path("lines")
                        .size())
                .isPositive();
    }

    @Test
    @Order(10)
    void aKilledCatalogMeans503sThenRecoveryWithoutARestartOfPgfleet() throws Exception {
        api.get("/v1/databases").expect(200);
        kill9(home.resolve("catalog/data/postmaster.pid"));
        await().atMost(Duration.ofSeconds(5))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> {
                    Api.Response r = api.get("/v1/databases");
                    return r.status() == 503;
                });
        Api.Response refused = api.get("/v1/databases/crash");
        if (refused.status() == 503) {
            assertThat(refused.code()).isEqualTo("catalog_unavailable");
            assertThat(refused.contentType()).contains("application/problem+json");
        }
        await().atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> api.get("/v1/databases").status() == 200);
        assertThat(api.instanceState("crash", "n1")).isEqualTo("available");
        // Its postmaster.pid, left by the SIGKILL, did not fail the watchdog's first try.
        assertThat(server.bean(io.pgfleet.server.catalog.CatalogWatchdog.class).failedRestarts())
                .isZero();
        api.awaitTask(
                "crash",
                api.post("/v1/databases/crash/instances/n1/restart", "{}")
                        .expect(202)
                        .body());
    }

    /**
     * The monitor keeps the host's rows in memory: a state another writer puts in the catalog (here
     * straight in SQL, as the fleet's leader marks a lost host's instances) must reach it through the
     * catalog's notification within a few rounds, not after its 30 s full read.
     */
    @Test
    @Order(11)
    void aStateWrittenIntoTheCatalogByAnotherWriterIsSeenWithinAFewRounds() {
        String id = api.instance("crash", "n1").path("id").asString();
        await().atMost(Duration.ofSeconds(60))
                .until(() -> api.instanceState("crash", "n1").equals("available"));
        org.springframework.jdbc.core.simple.JdbcClient catalog =
                server.bean(org.springframework.jdbc.core.simple.JdbcClient.class);
        assertThat(catalog.sql("update instances set state = 'unknown' where id = ? and state = 'available'")
                        .param(id)
                        .update())
                .isEqualTo(1);
        long written = System.nanoTime();
        // Unknown without a lost host behind it: observed, answering, so available again.
        await().atMost(Duration.ofSeconds(5))
                .pollInterval(Duration.ofMillis(20))
                .until(() -> api.instanceState("crash", "n1").equals("available"));
        assertThat((System.nanoTime() - written) / 1_000_000).isLessThan(5000);
    }

    /** After the catalog came back (its LISTEN connection too), a crash is still found within rounds. */
    @Test
    @Order(12)
    void aCrashAfterTheCatalogCameBackIsStillFoundWithinTwoSeconds() throws Exception {
        await().atMost(Duration.ofSeconds(60))
                .until(() -> api.instanceState("crash", "n1").equals("available"));
        kill9(instanceDir("crash").resolve("data/postmaster.pid"));
        await().atMost(Duration.ofSeconds(2))
                .pollInterval(Duration.ofMillis(20))
                .until(() -> !api.instanceState("crash", "n1").equals("available"));
        await().atMost(Duration.ofSeconds(30))
                .until(() -> api.instanceState("crash", "n1").equals("available"));
    }
}
