package io.pgfleet.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.pgfleet.server.support.Api;
import io.pgfleet.server.support.CatalogPostgres;
import io.pgfleet.server.support.ServerProcess;
import io.pgfleet.server.support.ServerUnderTest;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
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
    private static final Duration TASK_BOUND = Duration.ofMinutes(4);
    private final List<Path> homes = new ArrayList<>();
    private final List<ServerProcess> hosts = new ArrayList<>();
    private CatalogPostgres catalog;

    @BeforeAll
    void startFleet() throws Exception {
        assumeTrue(CatalogPostgres.isInstalled(), "the fleet's catalog needs Debian's postgresql-15");
        catalog = CatalogPostgres.start(ServerUnderTest.port(7670));
        Files.createDirectories(Path.of("target/it-logs"));
        byte[] key = new byte[32];
        new java.security.SecureRandom().nextBytes(key);
        for (int i = 1; i <= 3; i++) {
            Path home = ServerUnderTest.newHome("llc" + i);
            homes.add(home);
            Path secrets = Files.createDirectories(home.resolve("secrets"));
            Files.setPosixFilePermissions(secrets, PosixFilePermissions.fromString("rwx------"));
            Files.write(secrets.resolve("secret.key"), key);
            Files.setPosixFilePermissions(secrets.resolve("secret.key"), PosixFilePermissions.fromString("rw-------"));
        }
        List<CompletableFuture<ServerProcess>> starting = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            int host = i;
            starting.add(CompletableFuture.supplyAsync(() -> launch(host)));
        }
        for (CompletableFuture<ServerProcess> host : starting) {
            hosts.add(host.join());
        }
    }

    private ServerProcess launch(int host) {
        Path log = Path.of("target/it-logs")
                .resolve(
                        "lowlevelclone-host-" + host + "-" + homes.get(host - 1).getFileName() + ".log");
        return ServerProcess.launchSharingKey(
                homes.get(host - 1),
                log,
                "127.0.0." + host,
                List.of("-XX:+UseSerialGC"),
                List.of(
                        "--host-id",
                        "host-" + host,
                        "--catalog-url",
                        catalog.jdbcUrl(),
                        "--catalog-user",
                        "pgfleet",
                        "--advertise-host",
                        "127.0.0." + host,
                        "--listen-addresses",
                        "127.0.0." + host,
                        "--port-range",
                        ServerUnderTest.port(7640) + "-" + ServerUnderTest.port(7669)),
                this::adminKey);
    }

    private String adminKey() {
        return await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(100))
                .until(
                        () -> homes.stream()
                                .map(h -> h.resolve("secrets").resolve("admin.key"))
                                .filter(Files::exists)
                                .map(f -> ServerProcess.read(f).trim())
                                .filter(k -> !k.isEmpty())
                                .findFirst()
                                .orElse(null),
                        java.util.Objects::nonNull);
    }

    @AfterAll
    void stopFleet() throws Exception {
        for (ServerProcess host : hosts) {
            if (host.isAlive()) {
                host.kill();
            }
        }
        for (Path home : homes) {
            for (String dir : ServerProcess.postmastersUnder(home)) {
                Path pidFile = Path.of(dir).resolve("postmaster.pid");
                if (Files.exists(pidFile)) {
                    String pid = Files.readAllLines(pidFile).get(0).trim();
                    new ProcessBuilder("kill", "-9", pid).inheritIO().start().waitFor();
                }
            }
            ServerUnderTest.cleanUp(home);
        }
        if (catalog != null) {
            catalog.close();
        }
    }

    private Api api(int host) {
        return hosts.get(host - 1).api();
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
        execute(url(primary), "create table t (id bigint primary key)", "insert into t values (1), (2), (3)");
        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> assertThat(query(url(replica), "select count(*) from t"))
                        .isEqualTo("3"));
        SQLException refused = null;
        try {
            execute(url(replica), "insert into t values (99)");
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
        Path data = homes.get(1)
                .resolve("instances")
                .resolve(replica.path("id").asString())
                .resolve("data");
        assertThat(Files.getPosixFilePermissions(data)).isEqualTo(PosixFilePermissions.fromString("rwx------"));
        assertThat(data.resolve("standby.signal")).exists();
        assertThat(homes.get(1)
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
        execute(
                url(n1),
                "create table t (id bigint primary key, note text)",
                "insert into t select g, 'row ' || g from generate_series(1, 1000) g");
        JsonNode updated = api(1).post(
                        "/v1/databases/seed",
                        "{\"spec\": "
                                + spec.formatted(
                                        PW, ", {\"name\": \"n2\", \"host_ids\": [\"host-3\"], \"source_node\": \"n1\"}")
                                + "}")
                .expect(202)
                .body();
        String log = awaitCompleted(api(1), "seed", updated);
        assertThat(log)
                .contains("SeedFromNode")
                .contains("low-level backup API")
                .contains("promoted");
        JsonNode n2 = node("seed", "n2");
        assertThat(n2.path("host_id").asString()).isEqualTo("host-3");
        assertThat(query(url(n2), "select count(*) from t")).isEqualTo("1000");
        assertThat(query(url(n2), "select pg_is_in_recovery()")).isEqualTo("f");
        assertThat(Long.parseLong(query(url(n2), "select substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)"), 16))
                .as("n2's timeline")
                .isGreaterThan(1);
        execute(url(n2), "insert into t values (5001, 'only on n2')");
        execute(url(n1), "insert into t values (5002, 'only on n1')");
        assertThat(query(url(n2), "select count(*) from t")).isEqualTo("1001");
        assertThat(query(url(n1), "select count(*) from t where id = 5001")).isEqualTo("0");
        assertThat(query(url(n1), "select count(*) from pg_replication_slots")).isEqualTo("0");
        Path data = homes.get(2)
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
        Path instances = homes.get(1).resolve("instances");
        await().atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(5))
                .until(() -> {
                    try (var dirs = Files.list(instances)) {
                        return dirs.anyMatch(d -> d.getFileName().toString().contains("-n1-")
                                && Files.exists(d.resolve("clone.incomplete"))
                                && Files.isDirectory(d.resolve("data")));
                    }
                });
        hosts.get(1).kill();
        String replicaId = instance("crash", "replica").path("id").asString();
        assertThat(instances.resolve(replicaId).resolve("clone.incomplete"))
                .as("the copy was cut off")
                .exists();
        hosts.set(1, launch(2));
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
        execute(url(primary), "create table t (id int)", "insert into t values (1)");
        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> assertThat(query(url(replica), "select count(*) from t"))
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
        String log = api.get("/v1/databases/" + database + "/tasks/" + taskId + "/log")
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

    private static Connection connect(String url) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", "owner");
        props.setProperty("password", PW);
        props.setProperty("connectTimeout", "5");
        props.setProperty("socketTimeout", "30");
        return DriverManager.getConnection(url, props);
    }

    private static void execute(String url, String... sql) throws SQLException {
        try (Connection c = connect(url);
                Statement st = c.createStatement()) {
            for (String s : sql) {
                st.execute(s);
            }
        }
    }

    private static String query(String url, String sql) throws SQLException {
        try (Connection c = connect(url);
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }
}
