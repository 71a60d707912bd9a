package io.pgfleet.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.pgfleet.server.support.Api;
import io.pgfleet.server.support.CatalogPostgres;
import io.pgfleet.server.support.Postgres;
import io.pgfleet.server.support.ReplicaFleet;
import io.pgfleet.server.support.ServerProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import tools.jackson.databind.JsonNode;

/**
 * A replicated node on a fleet of three pgfleet hosts (child processes on 127.0.0.1-3, one catalog),
 * shared by the tests in order: one primary and two streaming replicas, switchover under a writer,
 * failover after SIGKILL of the primary's host agent and postmaster, the old primary's rejoin. A
 * checker thread asserts throughout that no two instances of the node accept writes at once.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReplicasIT {
    private static final String PW = "ha-owner-pw";
    private static final Postgres.Login OWNER = Postgres.login("owner", PW, 10);
    private ReplicaFleet fleet;

    private final List<String> violations = new CopyOnWriteArrayList<>();
    private final AtomicBoolean checking = new AtomicBoolean();
    private final AtomicLong checks = new AtomicLong();
    private Thread checker;
    private List<JsonNode> instances = List.of();

    @BeforeAll
    void startFleet() throws Exception {
        assumeTrue(CatalogPostgres.isInstalled(), "the replica test needs Debian's postgresql-15");
        fleet = ReplicaFleet.start("replicas", 7992, 7950, 7989);
    }

    @AfterAll
    void stopFleet() throws Exception {
        checking.set(false);
        if (checker != null) {
            checker.join(5000);
        }
        if (fleet != null) {
            fleet.close();
        }
    }

    private Api api(int host) {
        return fleet.api(host);
    }

    private Api liveApi() {
        return fleet.liveApi();
    }

    @Test
    @Order(1)
    void aNodeOnThreeHostsHasOnePrimaryAndTwoStreamingReplicas() throws Exception {
        JsonNode accepted =
                api(2).post("/v1/databases", """
                        {"id": "ha", "spec": {"database_name": "app", "synchronous_replication": true,
                         "nodes": [{"name": "n1", "host_ids": ["host-1", "host-2", "host-3"]}],
                         "database_users": [{"username": "owner", "password": "%s", "db_owner": true}]}}""".formatted(PW)).expect(202).body();
        api(2).awaitTask("ha", accepted);
        JsonNode db = api(1).database("ha");
        assertThat(db.path("state").asString()).isEqualTo("available");
        instances = new ArrayList<>();
        db.path("instances").forEach(instances::add);
        assertThat(instances).hasSize(3);
        assertThat(instances.stream().filter(i -> i.path("role").asString().equals("primary")))
                .singleElement()
                .satisfies(p -> assertThat(p.path("host_id").asString()).isEqualTo("host-1"));
        startChecker();
        OWNER.execute(primaryUrl(), "create table t (id bigint primary key)", "insert into t values (1), (2), (3)");
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            JsonNode now = api(3).database("ha");
            for (JsonNode instance : now.path("instances")) {
                if (instance.path("role").asString().equals("replica")) {
                    assertThat(instance.path("replication").path("state").asString())
                            .as(instance.toString())
                            .isEqualTo("streaming");
                    assertThat(instance.path("replication").path("lag_bytes").isNumber())
                            .isTrue();
                }
            }
        });
        for (JsonNode instance : instances) {
            if (instance.path("role").asString().equals("replica")) {
                String url = direct(instance);
                await().atMost(Duration.ofSeconds(10))
                        .untilAsserted(() -> assertThat(OWNER.query(url, "select count(*) from t"))
                                .isEqualTo("3"));
                SQLException refused = null;
                try {
                    OWNER.execute(url, "insert into t values (99)");
                } catch (SQLException e) {
                    refused = e;
                }
                assertThat((Object) refused).as("a write on a replica").isNotNull();
                assertThat(refused.getSQLState()).isEqualTo("25006"); // read_only_sql_transaction
            }
        }
        JsonNode connection =
                api(1).get("/v1/databases/ha/connection").expect(200).body();
        JsonNode node = connection.path("nodes").get(0);
        assertThat(node.path("primary_url").asString()).contains("target_session_attrs=read-write");
        assertThat(node.path("read_only_url").asString()).contains("target_session_attrs=read-only");
        assertThat(OWNER.query(primaryUrl(), "select inet_server_addr()::text")).startsWith("127.0.0.1");
    }

    @Test
    @Order(2)
    void aManualFailoverOfAHealthyPrimaryIsRefusedWithoutSkipValidation() {
        Api.Response refused = api(1).post("/v1/databases/ha/failover", "{\"node\": \"n1\"}");
        assertThat(refused.status()).isEqualTo(409);
        assertThat(refused.body().path("detail").asString()).contains("healthy").contains("skip_validation");
        assertThat(api(1).post("/v1/databases/ha/failover", "{\"node\": \"n9\"}")
                        .status())
                .isEqualTo(404);
    }

    /**
     * The switchover's coordinator is SIGKILLed right after the catalog swapped the roles (a pause
     * point) and started again: the task resumes at its first unfinished step and the old primary
     * still rejoins, while the writer goes on against the new primary.
     */
    @Test
    @Order(3)
    void aSwitchoverUnderAWriterLosesNoAcknowledgedRowAndResumesAfterItsCoordinatorIsKilled() throws Exception {
        Writer writer = new Writer(1000);
        writer.start();
        Thread.sleep(500);
        Files.writeString(fleet.pausePoints(), "switchover:SwapRoles\n");
        long switchStarted = System.nanoTime();
        JsonNode accepted = api(3).post("/v1/databases/ha/switchover", "{\"node\": \"n1\"}")
                .expect(202)
                .body();
        Api.Response second = api(2).post("/v1/databases/ha/switchover", "{\"node\": \"n1\"}");
        assertThat(second.status()).isEqualTo(409);
        int coordinator = await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(100))
                .until(
                        () -> {
                            for (int i = 0; i < 3; i++) {
                                if (Files.exists(fleet.log(i + 1))
                                        && ServerProcess.read(fleet.log(i + 1))
                                                .contains("pausing after step SwapRoles")) {
                                    return i + 1;
                                }
                            }
                            return 0;
                        },
                        i -> i > 0);
        long swappedMs = (System.nanoTime() - switchStarted) / 1_000_000;
        Files.writeString(fleet.pausePoints(), "");
        fleet.host(coordinator).kill();
        fleet.set(coordinator, fleet.launch(coordinator));
        liveApi().awaitTask("ha", accepted);
        long switchedMs = (System.nanoTime() - switchStarted) / 1_000_000;
        String taskId = accepted.path("task").path("task_id").asString();
        String taskLog = liveApi()
                .get("/v1/databases/ha/tasks/" + taskId + "/log")
                .expect(200)
                .body()
                .toString();
        assertThat(taskLog).contains("resuming it at its first unfinished step");
        assertThat(taskLog.split("switchover started", -1))
                .as("started twice, the first time and once resumed (never by two hosts at once): " + taskLog)
                .hasSize(3);
        Thread.sleep(500);
        writer.stopAndJoin();
        System.out.println("replicas: switchover writer stall " + writer.maxStallMs() + " ms, " + writer.acked.size()
                + " rows acknowledged; roles swapped after " + swappedMs + " ms; coordinator host-" + coordinator
                + " killed there and restarted, task completed after " + switchedMs + " ms");
        JsonNode primary = primaryInstance();
        assertThat(primary.path("host_id").asString()).isNotEqualTo("host-1");
        assertAllAcknowledgedRowsOn(writer);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            JsonNode old = instanceOn("host-1");
            assertThat(old.path("role").asString()).isEqualTo("replica");
            assertThat(old.path("state").asString()).isEqualTo("available");
        });
        assertThat(violations).isEmpty();
    }

    @Test
    @Order(4)
    void sigkillOfThePrimaryHostGivesAWritablePrimaryWithinTenSecondsAndLosesNoAcknowledgedWrite() throws Exception {
        JsonNode primary = primaryInstance();
        int hostNo = Integer.parseInt(primary.path("host_id").asString().substring(5));
        Writer writer = new Writer(100_000);
        writer.start();
        Thread.sleep(500);
        Path data = fleet.home(hostNo)
                .resolve("instances")
                .resolve(primary.path("id").asString())
                .resolve("data");
        ReplicaFleet.killPostmaster(data);
        fleet.host(hostNo).kill();
        long killedAt = System.nanoTime();
        String oldAddress = "127.0.0." + hostNo;
        // The first write acknowledged after the kill by another server than the killed one.
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> writer.lastAckNanos.get() > killedAt
                        && !writer.lastAckServer.get().startsWith(oldAddress));
        long failoverMs = (writer.lastAckNanos.get() - killedAt) / 1_000_000;
        System.out.println("replicas: SIGKILL of host-" + hostNo + " agent and postmaster -> writable primary in "
                + failoverMs + " ms");
        // The old primary's host returns (its JVM starts while the rows are checked): its instance must
        // rejoin as a replica with the new primary's rows.
        java.util.concurrent.CompletableFuture<ServerProcess> returning =
                java.util.concurrent.CompletableFuture.supplyAsync(() -> fleet.launch(hostNo));
        Thread.sleep(500);
        writer.stopAndJoin();
        assertThat(failoverMs).isLessThanOrEqualTo(10_000 + 3_000); // +3 s for a loaded machine
        await().atMost(Duration.ofSeconds(30))
                .ignoreExceptions()
                .untilAsserted(() -> assertAllAcknowledgedRowsOn(writer));
        JsonNode now = primaryInstance();
        assertThat(now.path("host_id").asString()).isNotEqualTo("host-" + hostNo);
        JsonNode log =
                liveApi().get("/v1/databases/ha/tasks?limit=5").expect(200).body();
        assertThat(log.toString()).contains("failover");

        fleet.set(hostNo, returning.join());
        String oldId = primary.path("id").asString();
        await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> {
            JsonNode old = instanceById(oldId);
            assertThat(old.path("role").asString()).isEqualTo("replica");
            assertThat(old.path("state").asString()).isEqualTo("available");
        });
        String url = direct(instanceById(oldId));
        await().atMost(Duration.ofSeconds(20))
                .untilAsserted(
                        () -> assertThat(OWNER.query(url, "select count(*) >= " + writer.acked.size() + " from t"))
                                .isEqualTo("t"));
        assertThat(violations).isEmpty();
        assertThat(checks.get()).isPositive();
    }

    /**
     * Every step of a replicated create and of a switchover applied twice in a row on every host
     * (pause point {@code twice:twice}, read by each host at each step, so the other tests run as usual):
     * the clone, MarkStandby, AwaitStreaming, the old primary's stop and RecordShutdownLsn, Promote,
     * SwapRoles, CreateSlots, RewindToPrimary, MarkRejoined. The second application must be harmless: the
     * switchover completes, no row is lost, the demoted primary streams from the new one. Then the node
     * is switched over twice more, back and forth, without pause points, and failed over (forced) with
     * every step applied twice again.
     */
    @Test
    @Order(5)
    void everyStepOfACloneAndASwitchoverAppliedTwiceIsHarmless() throws Exception {
        Files.writeString(fleet.pausePoints(), "twice:twice\n");
        try {
            JsonNode created = liveApi()
                    .post("/v1/databases", """
                            {"id": "twice", "spec": {"database_name": "app",
                             "nodes": [{"name": "n1", "host_ids": ["host-2", "host-3"]}],
                             "database_users": [{"username": "owner", "password": "%s", "db_owner": true}]}}""".formatted(PW))
                    .expect(202)
                    .body();
            awaitTwice(created);
            JsonNode before = twiceInstanceOn("host-2");
            assertThat(before.path("role").asString()).isEqualTo("primary");
            OWNER.execute(direct(before), "create table t (id bigint primary key)", "insert into t values (1), (2)");
            JsonNode accepted = liveApi()
                    .post("/v1/databases/twice/switchover", "{\"node\": \"n1\"}")
                    .expect(202)
                    .body();
            awaitTwice(accepted);
            Set<String> twice = appliedTwice(created, accepted);
            System.out.println("replicas: steps applied twice: " + twice);
            assertThat(twice)
                    .contains(
                            "CloneFromPrimary",
                            "MarkStandby",
                            "AwaitStreaming",
                            "ChooseCandidate",
                            "StopPostgres",
                            "RecordShutdownLsn",
                            "MarkStopped",
                            "AwaitCandidateReplay",
                            "Promote",
                            "SwapRoles",
                            "CreateSlots",
                            "RewindToPrimary",
                            "MarkRejoined");
            JsonNode primary = twiceInstanceOn("host-3");
            assertThat(primary.path("role").asString()).isEqualTo("primary");
            OWNER.execute(direct(primary), "insert into t values (3)");
            awaitStreamingReplicaOf("host-2", "3");
        } finally {
            Files.writeString(fleet.pausePoints(), "");
        }
        // Back and forth at once: each old primary is rewound from a replica promoted moments before
        // (pg_rewind reads its control file, stale until a checkpoint), and must still rejoin.
        for (int round = 2; round <= 3; round++) {
            String from = round == 2 ? "host-3" : "host-2";
            String to = round == 2 ? "host-2" : "host-3";
            // Pages the replica has replayed and not yet written: its checkpoint after the promotion
            // takes long, so the next rewind reads a control file that may still name the old timeline.
            OWNER.execute(
                    direct(twiceInstanceOn(from)),
                    "create table if not exists filler (x bigint)",
                    "insert into filler select generate_series(1, 100000)");
            JsonNode moved = liveApi()
                    .post("/v1/databases/twice/switchover", "{\"node\": \"n1\"}")
                    .expect(202)
                    .body();
            awaitTwice(moved);
            JsonNode primary = twiceInstanceOn(to);
            assertThat(primary.path("role").asString())
                    .as("switchover " + round)
                    .isEqualTo("primary");
            OWNER.execute(direct(primary), "insert into t values (" + (round + 2) + ")");
            String rows = Integer.toString(round + 2);
            awaitStreamingReplicaOf(from, rows);
        }
        // A forced failover with every step applied twice: the node ends with one primary, on host-2, and
        // the fenced one (host-3) rewound and streaming from it.
        Files.writeString(fleet.pausePoints(), "twice:twice\n");
        JsonNode failover;
        try {
            failover = liveApi()
                    .post("/v1/databases/twice/failover", "{\"node\": \"n1\", \"skip_validation\": true}")
                    .expect(202)
                    .body();
            awaitTwice(failover);
        } finally {
            Files.writeString(fleet.pausePoints(), "");
        }
        assertThat(appliedTwice(failover))
                .contains(
                        "ChooseCandidate",
                        "FenceOldPrimary",
                        "StopFencedPrimary",
                        "Promote",
                        "MakePrimary",
                        "CreateSlots",
                        "RewindToPrimary",
                        "MarkRejoined");
        JsonNode failedOver = twiceInstanceOn("host-2");
        assertThat(failedOver.path("role").asString()).isEqualTo("primary");
        OWNER.execute(direct(failedOver), "insert into t values (6)");
        awaitStreamingReplicaOf("host-3", "6");
        liveApi()
                .awaitTask(
                        "twice",
                        liveApi().delete("/v1/databases/twice").expect(202).body());
    }

    /**
     * The coordinator of a replicated create is lost in the create's last step, with the primary's host
     * (or, when one host is both, with a replica's host: two hosts of three are lost). The node still gets a writable primary on a surviving host: the failover
     * goes past the task whose coordinator is gone, and is recorded once (the leader's watch does not
     * record one every round while it waits). When the hosts return, the create completes, the old
     * primary and the lost replica stream from the new primary, and one instance accepts writes.
     */
    @Test
    @Order(6)
    void aFailoverIsNotHeldBackByATaskWhoseCoordinatorIsLost() throws Exception {
        Files.writeString(fleet.pausePoints(), "create:lost/ReloadStreamingSettings\n");
        JsonNode accepted;
        int coordinator;
        try {
            accepted = liveApi()
                    .post("/v1/databases", """
                            {"id": "lost", "spec": {"database_name": "app",
                             "nodes": [{"name": "n1", "host_ids": ["host-1", "host-2", "host-3"]}],
                             "database_users": [{"username": "owner", "password": "%s", "db_owner": true}]}}""".formatted(PW))
                    .expect(202)
                    .body();
            coordinator = await().atMost(Duration.ofSeconds(120))
                    .pollInterval(Duration.ofMillis(200))
                    .until(
                            () -> {
                                for (int i = 1; i <= 3; i++) {
                                    if (Files.exists(fleet.log(i))
                                            && ServerProcess.read(fleet.log(i))
                                                    .contains("/ReloadStreamingSettings (pgfleet.test-pause")) {
                                        return i;
                                    }
                                }
                                return 0;
                            },
                            i -> i > 0);
        } finally {
            Files.writeString(fleet.pausePoints(), "");
        }
        // The replicas' lanes go on beside the paused one: both stream before the hosts are lost.
        await().atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(250))
                .until(() -> lostInstances().stream()
                                .filter(i -> i.path("role").asString().equals("replica"))
                                .filter(i -> i.path("state").asString().equals("available"))
                                .count()
                        == 2);
        JsonNode primary = lostInstances().stream()
                .filter(i -> i.path("role").asString().equals("primary"))
                .findFirst()
                .orElseThrow();
        int primaryHost = Integer.parseInt(primary.path("host_id").asString().substring(5));
        // Two hosts are lost: the coordinator's and the primary's, or, when they are one, a replica's too,
        // whose replica must then rejoin the new primary on its return instead of waiting for the old one.
        Set<Integer> killed = new java.util.TreeSet<>(List.of(coordinator, primaryHost));
        if (killed.size() == 1) {
            killed.add(primaryHost % 3 + 1);
        }
        ReplicaFleet.killPostmaster(fleet.home(primaryHost)
                .resolve("instances")
                .resolve(primary.path("id").asString())
                .resolve("data"));
        for (int host : killed) {
            fleet.host(host).kill();
        }
        long killedAt = System.nanoTime();
        JsonNode promoted = await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(250))
                .ignoreExceptions()
                .until(
                        () -> lostInstances().stream()
                                .filter(i -> i.path("role").asString().equals("primary"))
                                .filter(i -> !i.path("id")
                                        .asString()
                                        .equals(primary.path("id").asString()))
                                .findFirst()
                                .orElse(null),
                        java.util.Objects::nonNull);
        String url = direct(promoted);
        await().atMost(Duration.ofSeconds(20)).ignoreExceptions().untilAsserted(() -> OWNER.execute(url, "select 1"));
        assertThat(OWNER.query(url, "select not pg_is_in_recovery()")).isEqualTo("t");
        System.out.println("replicas: coordinator host-" + coordinator + " and primary host-" + primaryHost
                + " lost during the create: writable primary on "
                + promoted.path("host_id").asString() + " after "
                + (System.nanoTime() - killedAt) / 1_000_000 + " ms");
        Thread.sleep(3000); // three more rounds of the leader's watch
        long failovers = 0;
        for (JsonNode task : liveApi()
                .get("/v1/databases/lost/tasks?limit=50")
                .expect(200)
                .body()
                .path("tasks")) {
            if (task.path("type").asString().equals("failover")) {
                failovers++;
            }
        }
        assertThat(failovers).as("failovers recorded for node n1 of lost").isEqualTo(1);

        // The coordinator's host last: the create resumes when it returns, and would fail (naming the
        // host) if another host it works on were still unreachable then.
        for (int host : killed) {
            if (host != coordinator) {
                fleet.set(host, fleet.launch(host));
            }
        }
        fleet.set(coordinator, fleet.launch(coordinator));
        // The create resumes, re-planned: it completes, and the fenced old primary rejoins as a replica.
        String taskId = accepted.path("task").path("task_id").asString();
        String oldId = primary.path("id").asString();
        await().atMost(Duration.ofSeconds(150))
                .pollInterval(Duration.ofMillis(500))
                .untilAsserted(() -> {
                    assertThat(liveApi().task("lost", taskId).path("status").asString())
                            .isEqualTo("completed");
                    JsonNode old = lostInstances().stream()
                            .filter(i -> i.path("id").asString().equals(oldId))
                            .findFirst()
                            .orElseThrow();
                    assertThat(old.path("role").asString()).isEqualTo("replica");
                    for (JsonNode i : lostInstances()) {
                        assertThat(i.path("state").asString()).as(i.toString()).isEqualTo("available");
                        if (i.path("role").asString().equals("replica")) {
                            assertThat(i.path("replication").path("state").asString())
                                    .as(i.toString())
                                    .isEqualTo("streaming");
                        }
                    }
                    long writable = 0;
                    for (JsonNode i : lostInstances()) {
                        try {
                            if ("t".equals(OWNER.query(direct(i), "select not pg_is_in_recovery()"))) {
                                writable++;
                            }
                        } catch (SQLException e) {
                            // down or starting: not writable
                        }
                    }
                    assertThat(writable)
                            .as("instances of lost accepting writes")
                            .isEqualTo(1);
                });
        assertThat(OWNER.query(url, "select not pg_is_in_recovery()")).isEqualTo("t");
    }

    private List<JsonNode> lostInstances() {
        List<JsonNode> result = new ArrayList<>();
        liveApi().database("lost").path("instances").forEach(result::add);
        return result;
    }

    /**
     * A task of database twice completed: up to 180 s, every step of it runs twice and a clone twice
     * has taken 30 s on a loaded machine.
     */
    private void awaitTwice(JsonNode accepted) {
        String task = accepted.path("task").path("task_id").asString();
        String status = await().atMost(Duration.ofSeconds(180))
                .pollInterval(Duration.ofMillis(250))
                .until(
                        () -> liveApi().task("twice", task).path("status").asString(),
                        s -> s.equals("completed") || s.equals("failed") || s.equals("canceled"));
        assertThat(status)
                .as("task " + task + ": " + liveApi().task("twice", task).path("error"))
                .isEqualTo("completed");
    }

    /** The steps the tasks applied twice (pause point twice:twice). */
    private Set<String> appliedTwice(JsonNode... accepted) {
        Set<String> twice = new java.util.TreeSet<>();
        for (JsonNode task : accepted) {
            for (JsonNode entry : liveApi()
                    .get("/v1/databases/twice/tasks/"
                            + task.path("task").path("task_id").asString() + "/log?limit=1000")
                    .expect(200)
                    .body()
                    .path("entries")) {
                if (entry.path("fields").has("applied_twice")) {
                    twice.add(entry.path("fields").path("applied_twice").asString());
                }
            }
        }
        return twice;
    }

    /** Waits (30 s) until twice's instance on {@code host} is an available, streaming replica with {@code rows} rows. */
    private void awaitStreamingReplicaOf(String host, String rows) {
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            JsonNode old = twiceInstanceOn(host);
            assertThat(old.path("role").asString()).isEqualTo("replica");
            assertThat(old.path("state").asString()).isEqualTo("available");
            assertThat(old.path("replication").path("state").asString()).isEqualTo("streaming");
            assertThat(OWNER.query(direct(old), "select count(*) from t")).isEqualTo(rows);
        });
    }

    private JsonNode twiceInstanceOn(String host) {
        for (JsonNode i : liveApi().database("twice").path("instances")) {
            if (i.path("host_id").asString().equals(host)) {
                return i;
            }
        }
        throw new AssertionError("no instance of twice on " + host);
    }

    // ---- helpers ----

    private JsonNode primaryInstance() {
        for (JsonNode i : liveApi().database("ha").path("instances")) {
            if (i.path("role").asString().equals("primary")) {
                return i;
            }
        }
        throw new AssertionError("no primary");
    }

    private JsonNode instanceOn(String host) {
        for (JsonNode i : liveApi().database("ha").path("instances")) {
            if (i.path("host_id").asString().equals(host)) {
                return i;
            }
        }
        throw new AssertionError("no instance on " + host);
    }

    private JsonNode instanceById(String id) {
        for (JsonNode i : liveApi().database("ha").path("instances")) {
            if (i.path("id").asString().equals(id)) {
                return i;
            }
        }
        throw new AssertionError("no instance " + id);
    }

    private static String address(JsonNode instance) {
        return "127.0.0." + instance.path("host_id").asString().substring(5);
    }

    private static String direct(JsonNode instance) {
        return "jdbc:postgresql://" + address(instance) + ":"
                + instance.path("port").asInt() + "/app";
    }

    private String primaryUrl() {
        List<String> hostsAndPorts = new ArrayList<>();
        for (JsonNode i : instances) {
            hostsAndPorts.add(address(i) + ":" + i.path("port").asInt());
        }
        return "jdbc:postgresql://" + String.join(",", hostsAndPorts) + "/app?targetServerType=primary";
    }

    private void assertAllAcknowledgedRowsOn(Writer writer) throws SQLException {
        Set<Long> present = ConcurrentHashMap.newKeySet();
        try (Connection c = OWNER.connect(primaryUrl());
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select id from t")) {
            while (rs.next()) {
                present.add(rs.getLong(1));
            }
        }
        List<Long> missing =
                writer.acked.stream().filter(id -> !present.contains(id)).toList();
        assertThat(missing).as("acknowledged rows missing after the move").isEmpty();
    }

    private void startChecker() {
        checking.set(true);
        List<JsonNode> watched = List.copyOf(instances);
        checker = new Thread(
                () -> {
                    while (checking.get()) {
                        List<String> writable = new ArrayList<>();
                        for (JsonNode i : watched) {
                            try (Connection c = OWNER.connect(direct(i));
                                    Statement st = c.createStatement();
                                    ResultSet rs = st.executeQuery("select not pg_is_in_recovery()")) {
                                rs.next();
                                if (rs.getBoolean(1)) {
                                    writable.add(i.path("host_id").asString());
                                }
                            } catch (SQLException e) {
                                // down or starting: not writable
                            }
                        }
                        checks.incrementAndGet();
                        if (writable.size() > 1) {
                            violations.add(System.currentTimeMillis() + ": writable at once on " + writable);
                        }
                        try {
                            Thread.sleep(100);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                },
                "two-primaries-checker");
        checker.setDaemon(true);
        checker.start();
    }

    /** Inserts rows through the primary URL, reconnecting after a failure; records what was acknowledged. */
    private final class Writer extends Thread {
        final List<Long> acked = new CopyOnWriteArrayList<>();
        final AtomicLong lastAckNanos = new AtomicLong();
        final java.util.concurrent.atomic.AtomicReference<String> lastAckServer =
                new java.util.concurrent.atomic.AtomicReference<>("");
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final long base;
        private long maxStallNanos;

        Writer(long base) {
            super("writer");
            this.base = base;
            setDaemon(true);
        }

        @Override
        public void run() {
            long next = base;
            Connection c = null;
            long last = System.nanoTime();
            while (running.get()) {
                try {
                    if (c == null) {
                        c = OWNER.connect(primaryUrl());
                    }
                    String server;
                    try (PreparedStatement ps =
                            c.prepareStatement("insert into t values (?) returning inet_server_addr()::text")) {
                        ps.setLong(1, next);
                        try (ResultSet rs = ps.executeQuery()) {
                            rs.next();
                            server = rs.getString(1);
                        }
                    }
                    acked.add(next);
                    long now = System.nanoTime();
                    lastAckServer.set(server);
                    maxStallNanos = Math.max(maxStallNanos, now - last);
                    last = now;
                    lastAckNanos.set(now);
                    next++;
                    Thread.sleep(20);
                } catch (SQLException e) {
                    next++; // unknown outcome: never counted as acknowledged
                    try {
                        if (c != null) {
                            c.close();
                        }
                    } catch (SQLException ignored) {
                        // the connection is gone anyway
                    }
                    c = null;
                    try {
                        Thread.sleep(50);
                    } catch (InterruptedException ie) {
                        return;
                    }
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        void stopAndJoin() throws InterruptedException {
            running.set(false);
            join(30_000);
        }

        long maxStallMs() {
            return maxStallNanos / 1_000_000;
        }
    }
}
