package io.pgfleet.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.pgfleet.server.support.Api;
import io.pgfleet.server.support.CatalogPostgres;
import io.pgfleet.server.support.Postgres;
import io.pgfleet.server.support.ReplicaFleet;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.SQLException;
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
 * pgfleet's own base backup (pg_backup_start / pg_backup_stop, files streamed host to host) on a fleet
 * of three hosts running the bundled PostgreSQL 17, which has no pg_basebackup: a replica cloned with
 * it streams from its primary and refuses writes; the route that serves the copy answers no API key;
 * a node added with {@code source_node} starts with the other node's data as a primary of its own.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LowLevelCloneIT {
    private static final String PW = "clone-owner-pw";
    private static final Postgres.Login OWNER = Postgres.login("owner", PW, 30);
    private static final Duration TASK_BOUND = Duration.ofMinutes(4);
    private ReplicaFleet fleet;

    @BeforeAll
    void startFleet() throws Exception {
        assumeTrue(CatalogPostgres.isInstalled(), "the fleet's catalog needs Debian's postgresql-15");
        fleet = ReplicaFleet.start("lowlevelclone", 7670, 7640, 7669, true);
    }

    @AfterAll
    void stopFleet() {
        if (fleet != null) {
            fleet.close();
        }
    }

    private Api api(int host) {
        return fleet.api(host);
    }

    @Test
    @Order(1)
    void aReplicaOfTheBundledVersionIsClonedWithTheLowLevelBackupApiAndStreams() throws Exception {
        JsonNode accepted =
                api(1).post("/v1/databases", """
                        {"id": "ll", "spec": {"database_name": "app",
                         "nodes": [{"name": "n1", "host_ids": ["host-1", "host-2"]}],
                         "database_users": [{"username": "owner", "password": "%s", "db_owner": true}]}}""".formatted(PW)).expect(202).body();
        String log = awaitCompleted(api(1), "ll", accepted);
        assertThat(log).contains("low-level backup API").doesNotContain("pg_basebackup from");
        JsonNode primary = instance("ll", "primary");
        JsonNode replica = instance("ll", "replica");
        assertThat(primary.path("postgres").path("version").asString()).startsWith("17");
        OWNER.execute(url(primary), "create table t (id bigint primary key)", "insert into t values (1), (2), (3)");
        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> assertThat(OWNER.query(url(replica), "select count(*) from t"))
                        .isEqualTo("3"));
        SQLException refused = null;
        try {
            OWNER.execute(url(replica), "insert into t values (99)");
        } catch (SQLException e) {
            refused = e;
        }
        assertThat((Object) refused).as("a write on the replica").isNotNull();
        assertThat(refused.getSQLState()).isEqualTo("25006"); // read_only_sql_transaction
        await().atMost(Duration.ofSeconds(20))
                .untilAsserted(() -> assertThat(instance("ll", "replica")
                                .path("replication")
                                .path("state")
                                .asString())
                        .isEqualTo("streaming"));
        Path data = fleet.home(2)
                .resolve("instances")
                .resolve(replica.path("id").asString())
                .resolve("data");
        assertThat(Files.getPosixFilePermissions(data)).isEqualTo(PosixFilePermissions.fromString("rwx------"));
        assertThat(data.resolve("standby.signal")).exists();
        assertThat(fleet.home(2)
                        .resolve("instances")
                        .resolve(replica.path("id").asString())
                        .resolve("clone.incomplete"))
                .doesNotExist();
    }

    @Test
    @Order(2)
    void theBaseBackupRouteAnswersNoApiKeyOnlyTheFleetsSignature() {
        String primaryId = instance("ll", "primary").path("id").asString();
        String path = "/fleet/v1/instances/" + primaryId + "/base-backup?label=x&at=" + System.currentTimeMillis();
        Api admin = api(1);
        Api.Response withKey = admin.get(path);
        assertThat(withKey.status()).isEqualTo(401);
        assertThat(withKey.contentType()).contains("problem+json");
        Api.Response forged = admin.send(HttpRequest.newBuilder(URI.create(admin.base() + path))
                .header("X-Pgfleet-Forwarded-By", "host-2")
                .header("X-Pgfleet-Fleet-Signature", "AAAAforged")
                .GET());
        assertThat(forged.status()).isEqualTo(403);
        assertThat(forged.contentType()).contains("problem+json");
    }

    @Test
    @Order(3)
    void aNodeAddedWithSourceNodeStartsWithItsDataAsAPrimaryOfItsOwn() throws Exception {
        String spec = """
                {"database_name": "app",
                 "database_users": [{"username": "owner", "password": "%s", "db_owner": true}],
                 "nodes": [{"name": "n1", "host_ids": ["host-1"]}%s]}""";
        JsonNode created = api(2).post("/v1/databases", "{\"id\": \"seed\", \"spec\": " + spec.formatted(PW, "") + "}")
                .expect(202)
                .body();
        awaitCompleted(api(2), "seed", created);
        JsonNode n1 = node("seed", "n1");
        OWNER.execute(
                url(n1),
                "create table t (id bigint primary key, note text)",
                "insert into t select g, 'row ' || g from generate_series(1, 1000) g");
        // Every step of the seeding applied twice in a row, as one redone after a crash: harmless.
        Files.writeString(fleet.pausePoints(), "twice:seed\n");
        String log;
        try {
            JsonNode updated = api(1).post(
                            "/v1/databases/seed",
                            "{\"spec\": "
                                    + spec.formatted(
                                            PW,
                                            ", {\"name\": \"n2\", \"host_ids\": [\"host-3\"], \"source_node\": \"n1\"}")
                                    + "}")
                    .expect(202)
                    .body();
            log = awaitCompleted(api(1), "seed", updated);
        } finally {
            Files.writeString(fleet.pausePoints(), "");
        }
        assertThat(log)
                .contains("\"applied_twice\":\"SeedFromNode\"")
                .contains("\"applied_twice\":\"PromoteSeed\"")
                .contains("\"applied_twice\":\"DropSeedSlot\"")
                .contains("low-level backup API")
                .contains("promoted");
        JsonNode n2 = node("seed", "n2");
        assertThat(n2.path("host_id").asString()).isEqualTo("host-3");
        assertThat(OWNER.query(url(n2), "select count(*) from t")).isEqualTo("1000");
        assertThat(OWNER.query(url(n2), "select pg_is_in_recovery()")).isEqualTo("f");
        assertThat(Long.parseLong(
                        OWNER.query(url(n2), "select substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)"), 16))
                .as("n2's timeline")
                .isGreaterThan(1);
        OWNER.execute(url(n2), "insert into t values (5001, 'only on n2')");
        OWNER.execute(url(n1), "insert into t values (5002, 'only on n1')");
        assertThat(OWNER.query(url(n2), "select count(*) from t")).isEqualTo("1001");
        assertThat(OWNER.query(url(n1), "select count(*) from t where id = 5001"))
                .isEqualTo("0");
        assertThat(OWNER.query(url(n1), "select count(*) from pg_replication_slots"))
                .isEqualTo("0");
        Path data = fleet.home(3)
                .resolve("instances")
                .resolve(n2.path("id").asString())
                .resolve("data");
        assertThat(data.resolve("standby.signal")).doesNotExist();
        assertThat(api(1).database("seed").path("state").asString()).isEqualTo("available");
    }

    /**
     * The replica's host is SIGKILLed while it receives the copy (the marker of a copy under way is
     * there). Started again: when it coordinated the task, the task resumes, wipes the half copy, copies
     * again and the replica streams; when another host coordinated it, the task failed while host-2 was
     * silent and the half copy is still marked as one, never taken for a finished copy.
     */
    @Test
    @Order(4)
    void aCopyCutOffByACrashOfTheReplicasHostIsMadeAgainWhenItReturns() throws Exception {
        JsonNode accepted =
                api(1).post("/v1/databases", """
                        {"id": "crash", "spec": {"database_name": "app",
                         "nodes": [{"name": "n1", "host_ids": ["host-1", "host-2"]}],
                         "database_users": [{"username": "owner", "password": "%s", "db_owner": true}]}}""".formatted(PW)).expect(202).body();
        String taskId = accepted.path("task").path("task_id").asString();
        String logPath = "/v1/databases/crash/tasks/" + taskId + "/log";
        await().atMost(TASK_BOUND)
                .pollInterval(Duration.ofMillis(20))
                .until(() -> api(1).get(logPath).body().toString().contains("cloning the replica"));
        Path instances = fleet.home(2).resolve("instances");
        await().atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(5))
                .until(() -> {
                    try (var dirs = Files.list(instances)) {
                        return dirs.anyMatch(d -> d.getFileName().toString().contains("-n1-")
                                && Files.exists(d.resolve("clone.incomplete"))
                                && Files.isDirectory(d.resolve("data")));
                    }
                });
        fleet.host(2).kill();
        String replicaId = instance("crash", "replica").path("id").asString();
        assertThat(instances.resolve(replicaId).resolve("clone.incomplete"))
                .as("the copy was cut off")
                .exists();
        fleet.set(2, fleet.launch(2));
        String log = awaitEnded(api(1), "crash", accepted);
        if (log.contains("became unreachable before its part of this task finished")) {
            // Another host coordinated the task and failed it while host-2 was silent: the half copy is
            // still marked as one, so no later try can take it for a finished copy.
            assertThat(instances.resolve(replicaId).resolve("clone.incomplete")).exists();
            return;
        }
        // host-2 coordinated it: resumed after its restart, the copy was wiped and made again.
        assertThat(log).contains("\"task_status\":\"completed\"");
        assertThat(log.split("cloned with the low-level backup API", -1)).hasSize(2);
        assertThat(instances.resolve(replicaId).resolve("clone.incomplete")).doesNotExist();
        JsonNode primary = instance("crash", "primary");
        JsonNode replica = instance("crash", "replica");
        OWNER.execute(url(primary), "create table t (id int)", "insert into t values (1)");
        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> assertThat(OWNER.query(url(replica), "select count(*) from t"))
                        .isEqualTo("1"));
    }

    /** Waits (bounded) for the task to end, whatever its end; returns its log. */
    private String awaitEnded(Api api, String database, JsonNode accepted) {
        String taskId = accepted.path("task").path("task_id").asString();
        await().atMost(TASK_BOUND).pollInterval(Duration.ofMillis(200)).until(() -> {
            String status = api.task(database, taskId).path("status").asString();
            return status.equals("completed") || status.equals("failed") || status.equals("canceled");
        });
        return api.get("/v1/databases/" + database + "/tasks/" + taskId + "/log")
                .expect(200)
                .body()
                .toString();
    }

    /** Waits (bounded) for the task to end; fails with its log unless it completed; returns the log. */
    private String awaitCompleted(Api api, String database, JsonNode accepted) {
        String taskId = accepted.path("task").path("task_id").asString();
        await().atMost(TASK_BOUND).pollInterval(Duration.ofMillis(200)).until(() -> {
            String status = api.task(database, taskId).path("status").asString();
            return status.equals("completed") || status.equals("failed") || status.equals("canceled");
        });
        String log = api.get("/v1/databases/" + database + "/tasks/" + taskId + "/log?limit=1000")
                .expect(200)
                .body()
                .toString();
        assertThat(api.task(database, taskId).path("status").asString())
                .as("task log: %s", log)
                .isEqualTo("completed");
        return log;
    }

    private JsonNode instance(String database, String role) {
        for (JsonNode i : api(1).database(database).path("instances")) {
            if (i.path("role").asString().equals(role)) {
                return i;
            }
        }
        throw new AssertionError("no " + role + " in " + database);
    }

    private JsonNode node(String database, String node) {
        return api(1).instance(database, node);
    }

    private static String url(JsonNode instance) {
        String host = instance.path("host_id").asString();
        return "jdbc:postgresql://127.0.0." + host.substring(host.lastIndexOf('-') + 1) + ":"
                + instance.path("port").asInt() + "/app";
    }
}
