package io.pgfleet.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.pgfleet.server.support.Api;
import io.pgfleet.server.support.CatalogPostgres;
import io.pgfleet.server.support.ServerProcess;
import io.pgfleet.server.support.ServerUnderTest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import tools.jackson.databind.JsonNode;

/**
 * A fleet of three pgfleet hosts on one machine: each a child process with its own home, API and
 * loopback alias (127.0.0.1, .2, .3: its API and its instances listen there), all on one catalog
 * PostgreSQL the test starts. One fleet for the class; the methods run in order and build on it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FleetIT {
    private static final String PW = "fleet-owner-pw";
    private static final Duration HOST_TIMEOUT = Duration.ofSeconds(5);
    private final List<Path> homes = new ArrayList<>();
    private final List<ServerProcess> hosts = new ArrayList<>();
    private final List<Path> logs = new ArrayList<>();
    private CatalogPostgres catalog;

    @BeforeAll
    void startFleet() throws Exception {
        assumeTrue(CatalogPostgres.isInstalled(), "the fleet test needs Debian's postgresql-15 for its catalog");
        catalog = CatalogPostgres.start(ServerUnderTest.port(7990));
        Path logDir = Files.createDirectories(Path.of("target/it-logs"));
        for (int i = 1; i <= 3; i++) {
            Path home = ServerUnderTest.newHome("flt" + i);
            homes.add(home);
            logs.add(logDir.resolve("fleet-host-" + i + "-" + home.getFileName() + ".log"));
        }
        hosts.add(launch(1, fleetCatalog(), null));
        String adminKey = api(1).key();
        // Host 2 joins at its start with a join token (pgEdge's GET /v1/cluster/join-token); it is told
        // neither the catalog nor its password, and holds no key but the one the fleet sends.
        JsonNode token = api(1).get("/v1/cluster/join-token").expect(200).body();
        assertThat(token.path("server_url").asString())
                .isEqualTo(hosts.get(0).api().base());
        hosts.add(launch(
                2,
                List.of(
                        "--join-url",
                        token.path("server_url").asString(),
                        "--join-token",
                        token.path("token").asString()),
                adminKey));
        // Host 3 starts alone (its embedded catalog), then joins through pgEdge's POST /v1/cluster/join.
        ServerProcess alone = launch(3, List.of(), null);
        hosts.add(alone);
        JsonNode init = api(1).get("/v1/cluster/init").expect(200).body();
        alone.api()
                .post("/v1/cluster/join", """
                        {"token": "%s", "server_url": "%s"}""".formatted(
                        init.path("token").asString(), init.path("server_url").asString()))
                .expect(202);
        hosts.set(2, alone.withKey(adminKey));
        await().atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(250))
                .ignoreExceptions() // refused while it starts again
                .until(() -> api(3).get("/v1/hosts").status() == 200
                        && api(3).get("/v1/hosts").body().path("hosts").size() == 3);
    }

    private List<String> fleetCatalog() {
        return List.of("--catalog-url", catalog.jdbcUrl(), "--catalog-user", "pgfleet");
    }

    private ServerProcess launch(int i, List<String> catalogOptions, String adminKey) {
        String address = "127.0.0." + i;
        List<String> options = new ArrayList<>(List.of(
                "--host-id",
                "host-" + i,
                "--advertise-host",
                address,
                "--listen-addresses",
                address,
                // The same range on every host: ports are unique per host, not per fleet.
                "--port-range",
                ServerUnderTest.port(7900) + "-" + ServerUnderTest.port(7949),
                "--host-timeout",
                HOST_TIMEOUT.toSeconds() + "s",
                // The system's PostgreSQL 15: nothing to unpack on each host, a faster test.
                "--pg-bin-dir",
                CatalogPostgres.BIN.toString()));
        options.addAll(catalogOptions);
        return ServerProcess.launch(homes.get(i - 1), logs.get(i - 1), address, List.of(), options, adminKey);
    }

    @AfterAll
    void stopFleet() {
        for (ServerProcess host : hosts) {
            if (host != null && host.isAlive()) {
                host.thaw();
                host.kill();
            }
        }
        homes.forEach(ServerUnderTest::cleanUp);
        if (catalog != null) {
            catalog.close();
        }
    }

    private Api api(int host) {
        return hosts.get(host - 1).api();
    }

    @Test
    @Order(1)
    void everyHostListsEveryHostHealthyWithWhatItRegistered() {
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            JsonNode list = api(2).get("/v1/hosts").expect(200).body().path("hosts");
            assertThat(list).hasSize(3);
            for (JsonNode host : list) {
                assertThat(host.path("state").asString()).as(host.toString()).isEqualTo("healthy");
            }
        });
        JsonNode host3 = api(1).get("/v1/hosts/host-3").expect(200).body();
        assertThat(host3.path("advertise_host").asString()).isEqualTo("127.0.0.3");
        assertThat(host3.path("api_url").asString()).startsWith("http://127.0.0.3:");
        assertThat(host3.path("postgres_versions")).isNotEmpty();
        assertThat(host3.path("capacity").path("cores").asInt()).isPositive();
        assertThat(host3.path("last_seen_at").asString()).isNotEmpty();
        JsonNode cluster = api(3).get("/v1/cluster").expect(200).body();
        assertThat(cluster.path("leader").asString()).startsWith("host-");
        // Every host accepts the fleet's one admin key.
        assertThat(api(2).key()).isEqualTo(api(1).key());
        api(3).get("/v1/databases").expect(200);
        assertThat(api(1).get("/v1/hosts/host-9").status()).isEqualTo(404);
    }

    @Test
    @Order(2)
    void aThreeNodeDatabaseCreatedThroughHost3RunsOneNodeOnEachHost() throws Exception {
        JsonNode accepted = api(3).post("/v1/databases", spec("orders", "host-1", "host-2", "host-3"))
                .expect(202)
                .body();
        api(3).awaitTask("orders", accepted);
        JsonNode db = api(1).database("orders");
        assertThat(db.path("state").asString()).isEqualTo("available");
        for (int i = 1; i <= 3; i++) {
            JsonNode instance = api(2).instance("orders", "n" + i);
            assertThat(instance.path("host_id").asString()).isEqualTo("host-" + i);
            String id = instance.path("id").asString();
            for (int h = 1; h <= 3; h++) {
                assertThat(Files.exists(homes.get(h - 1).resolve("instances").resolve(id)))
                        .as("files of n%d on host-%d", i, h)
                        .isEqualTo(h == i);
                assertThat(ServerProcess.postmastersUnder(homes.get(h - 1)).stream()
                                .anyMatch(d -> d.contains(id)))
                        .as("postmaster of n%d on host-%d", i, h)
                        .isEqualTo(h == i);
            }
            assertThat(query("127.0.0." + i, instance.path("port").asInt(), "select current_user"))
                    .isEqualTo("owner");
        }
        JsonNode connection =
                api(1).get("/v1/databases/orders/connection").expect(200).body();
        assertThat(connection.toString()).contains("@127.0.0.2:").contains("@127.0.0.3:");
    }

    @Test
    @Order(3)
    void aNodeIsStoppedAndStartedThroughAnotherHostsApi() throws Exception {
        String id = api(1).instance("orders", "n1").path("id").asString();
        JsonNode stop = api(2).post("/v1/databases/orders/instances/n1/stop", "{}")
                .expect(202)
                .body();
        api(2).awaitTask("orders", stop);
        assertThat(api(3).instanceState("orders", "n1")).isEqualTo("stopped");
        assertThat(ServerProcess.postmastersUnder(homes.get(0))).noneMatch(d -> d.contains(id));
        assertThat(api(1).instanceState("orders", "n2")).isEqualTo("available");
        JsonNode start = api(3).post("/v1/databases/orders/instances/n1/start", "{}")
                .expect(202)
                .body();
        api(3).awaitTask("orders", start);
        assertThat(api(1).instanceState("orders", "n1")).isEqualTo("available");
        int port = api(1).instance("orders", "n1").path("port").asInt();
        assertThat(query("127.0.0.1", port, "select 1")).isEqualTo("1");
    }

    @Test
    @Order(4)
    void anyHostServesTheLogOfAnInstanceOnAnotherHost() throws Exception {
        JsonNode log = api(1).get("/v1/databases/orders/instances/n2/logs?tail=20")
                .expect(200)
                .body();
        assertThat(log.path("node_name").asString()).isEqualTo("n2");
        assertThat(log.path("file").asString()).startsWith(homes.get(1).toString());
        assertThat(log.path("lines")).isNotEmpty();
        // A call that claims to come from another host without the fleet's signature is refused.
        HttpRequest forged = HttpRequest.newBuilder(
                        URI.create(api(2).base() + "/v1/databases/orders/instances/n2/logs?tail=5"))
                .header("Authorization", "Bearer " + api(2).key())
                .header("X-Pgfleet-Forwarded-By", "host-1")
                .header("X-Pgfleet-Fleet-Signature", "0".repeat(64))
                .build();
        HttpResponse<String> response = HttpClient.newHttpClient().send(forged, HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(403);
        assertThat(response.headers().firstValue("Content-Type").orElse("")).contains("problem+json");
    }

    @Test
    @Order(5)
    void placementSpreadsNodesOverTheHostsAndNamesAnUnknownHost() {
        JsonNode accepted =
                api(2).post("/v1/databases", """
                        {"id": "spread", "spec": {"database_name": "app",
                         "nodes": [{"name": "n1"}, {"name": "n2"}, {"name": "n3"}],
                         "database_users": [{"username": "owner", "password": "%s", "db_owner": true}]}}""".formatted(PW)).expect(202).body();
        api(2).awaitTask("spread", accepted);
        Set<String> placed = new HashSet<>();
        for (JsonNode instance : api(1).database("spread").path("instances")) {
            placed.add(instance.path("host_id").asString());
        }
        assertThat(placed).containsExactlyInAnyOrder("host-1", "host-2", "host-3");
        Api.Response unknown = api(1).post("/v1/databases", spec("nowhere", "host-1", "host-7", "host-3"));
        assertThat(unknown.status()).isEqualTo(422);
        assertThat(unknown.body().toString()).contains("host-7");
        // A draining host takes no new node.
        api(1).post("/v1/hosts/host-3/drain", "{}").expect(200);
        Api.Response drained = api(1).post("/v1/databases", spec("drained", "host-3"));
        assertThat(drained.status()).isEqualTo(409);
        assertThat(drained.body().path("detail").asString()).contains("host-3").contains("draining");
        api(1).post("/v1/hosts/host-3/undrain", "{}").expect(200);
        api(2).awaitTask(
                        "spread",
                        api(2).delete("/v1/databases/spread").expect(202).body());
    }

    @Test
    @Order(6)
    void aFrozenHostBecomesUnreachableAndComesBack() throws Exception {
        ServerProcess host2 = hosts.get(1);
        long frozenAt = System.nanoTime();
        host2.freeze();
        try {
            await().atMost(HOST_TIMEOUT.plusSeconds(4))
                    .pollInterval(Duration.ofMillis(100))
                    .untilAsserted(() -> {
                        assertThat(api(1).get("/v1/hosts/host-2")
                                        .expect(200)
                                        .body()
                                        .path("state")
                                        .asString())
                                .isEqualTo("unreachable");
                        assertThat(api(3).instanceState("orders", "n2")).isEqualTo("unknown");
                    });
            long detectedMs = (System.nanoTime() - frozenAt) / 1_000_000;
            System.out.println("fleet: host-2 frozen -> unreachable and its instance unknown in " + detectedMs + " ms");
            assertThat(detectedMs).isLessThanOrEqualTo(HOST_TIMEOUT.toMillis() + 1000 + 2000); // +2 s: loaded machine
            Api.Response refused = api(1).post("/v1/databases/orders/instances/n2/restart", "{}");
            assertThat(refused.status()).isEqualTo(409);
            assertThat(refused.body().path("code").asString()).isEqualTo("host_unavailable");
            assertThat(refused.body().path("detail").asString()).contains("host-2");
            assertThat(api(3).get("/v1/databases/orders/instances/n2/logs").status())
                    .isEqualTo(409);
            assertThat(api(1).instanceState("orders", "n1")).isEqualTo("available");
            assertThat(api(1).instanceState("orders", "n3")).isEqualTo("available");
            // Its Postgres was never touched: a frozen control plane does not stop a database.
            int port = api(1).instance("orders", "n2").path("port").asInt();
            assertThat(query("127.0.0.2", port, "select 1")).isEqualTo("1");
        } finally {
            host2.thaw();
        }
        long thawedAt = System.nanoTime();
        await().atMost(Duration.ofSeconds(6))
                .pollInterval(Duration.ofMillis(100))
                .untilAsserted(() -> {
                    assertThat(api(1).get("/v1/hosts/host-2")
                                    .expect(200)
                                    .body()
                                    .path("state")
                                    .asString())
                            .isEqualTo("healthy");
                    assertThat(api(3).instanceState("orders", "n2")).isEqualTo("available");
                });
        long backMs = (System.nanoTime() - thawedAt) / 1_000_000;
        System.out.println("fleet: host-2 thawed -> healthy and its instance available in " + backMs + " ms");
        assertThat(backMs).isLessThanOrEqualTo(3000 + 2000); // 3 s, +2 s for a loaded machine
    }

    @Test
    @Order(7)
    void aKilledAgentAdoptsItsPostmasterWhenItStartsAgain() throws Exception {
        JsonNode n3 = api(1).instance("orders", "n3");
        String id = n3.path("id").asString();
        Path pidFile = homes.get(2).resolve("instances").resolve(id).resolve("data/postmaster.pid");
        String pidBefore = Files.readAllLines(pidFile).get(0);
        hosts.get(2).kill();
        // Killed, its database keeps serving.
        assertThat(query("127.0.0.3", n3.path("port").asInt(), "select 1")).isEqualTo("1");
        // Started again with no catalog option: it uses the catalog it learned when it joined.
        hosts.set(2, launch(3, List.of(), api(1).key()));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(api(1).get("/v1/hosts/host-3")
                            .expect(200)
                            .body()
                            .path("state")
                            .asString())
                    .isEqualTo("healthy");
            assertThat(api(2).instanceState("orders", "n3")).isEqualTo("available");
        });
        assertThat(Files.readAllLines(pidFile).get(0)).isEqualTo(pidBefore);
        assertThat(ServerProcess.postmastersUnder(homes.get(2)).stream()
                        .filter(d -> d.contains(id))
                        .count())
                .isEqualTo(1);
        assertThat(api(3).instanceState("orders", "n3")).isEqualTo("available");
        // The restarted host works as before: a stop and start of its node through host-1.
        api(1).awaitTask(
                        "orders",
                        api(1).post("/v1/databases/orders/instances/n3/restart", "{}")
                                .expect(202)
                                .body());
        assertThat(api(2).instanceState("orders", "n3")).isEqualTo("available");
    }

    @Test
    @Order(8)
    void aCatalogOutageAnswers503AndEverythingResumes() throws Exception {
        int port = api(1).instance("orders", "n1").path("port").asInt();
        long changesBefore = stateChanges();
        catalog.stop();
        try {
            Api.Response down = api(1).get("/v1/databases");
            assertThat(down.status()).isEqualTo(503);
            assertThat(down.contentType()).contains("problem+json");
            assertThat(down.body().path("code").asString()).isEqualTo("catalog_unavailable");
            assertThat(query("127.0.0.1", port, "select 1")).isEqualTo("1");
            Thread.sleep(HOST_TIMEOUT.toMillis() + 1000); // longer than the host timeout: nothing may be judged on it
        } finally {
            catalog.start();
        }
        await().atMost(Duration.ofSeconds(20))
                .untilAsserted(
                        () -> assertThat(api(1).get("/v1/databases").status()).isEqualTo(200));
        // The heartbeats resume (right after the outage every last_seen_at is old, so a host reads
        // unreachable until its next one) ...
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            for (JsonNode host : api(2).get("/v1/hosts").expect(200).body().path("hosts")) {
                assertThat(host.path("state").asString()).as(host.toString()).isEqualTo("healthy");
            }
        });
        // ... and nothing was decided on stale heartbeats: no host declared lost, no instance unknown.
        for (int i = 0; i < 12; i++) {
            for (JsonNode host : api(2).get("/v1/hosts").expect(200).body().path("hosts")) {
                assertThat(host.path("state").asString()).as(host.toString()).isEqualTo("healthy");
            }
            for (JsonNode instance : api(3).database("orders").path("instances")) {
                assertThat(instance.path("state").asString()).isEqualTo("available");
            }
            Thread.sleep(500);
        }
        assertThat(stateChanges())
                .as("no instance changed state through the outage")
                .isEqualTo(changesBefore);
    }

    @Test
    @Order(9)
    void aDeleteThroughAnyHostRemovesTheFilesOnEveryHost() throws Exception {
        List<String> ids = new ArrayList<>();
        for (JsonNode instance : api(1).database("orders").path("instances")) {
            ids.add(instance.path("id").asString());
        }
        api(2).awaitTask(
                        "orders",
                        api(2).delete("/v1/databases/orders").expect(202).body());
        assertThat(api(1).get("/v1/databases/orders").status()).isEqualTo(404);
        for (Path home : homes) {
            for (String id : ids) {
                assertThat(Files.exists(home.resolve("instances").resolve(id))).isFalse();
            }
            assertThat(ServerProcess.postmastersUnder(home)).isEmpty();
        }
    }

    @Test
    @Order(10)
    void aFailedUpdateIsRolledBackOnEveryHost() throws Exception {
        JsonNode created =
                api(1).post("/v1/databases", """
                        {"id": "undo", "spec": {"database_name": "app",
                         "nodes": [{"name": "n1", "host_ids": ["host-1"]}, {"name": "n2", "host_ids": ["host-2"]}],
                         "database_users": [{"username": "owner", "password": "%s", "db_owner": true}],
                         "postgresql_conf": {"work_mem": "4MB"}}}""".formatted(PW)).expect(202).body();
        api(1).awaitTask("undo", created);
        int n1Port = api(1).instance("undo", "n1").path("port").asInt();
        int n2Port = api(1).instance("undo", "n2").path("port").asInt();
        int newPort = ServerUnderTest.port(7948);
        String newPw = "fleet-owner-pw-2";
        JsonNode task;
        // The new port is taken on host-2 before the update is sent: host-1's API checks it only
        // against the catalog's reservations (it cannot bind-test another host's ports), so the
        // update is accepted and n2 fails on host-2 as it restarts on that port, every time.
        try (java.net.ServerSocket squatter = new java.net.ServerSocket()) {
            squatter.bind(new java.net.InetSocketAddress("127.0.0.2", newPort));
            // Through host-1's API: it checks the settings on n1's own pg_settings (a host without an
            // instance would start a throwaway server for them, slow on a loaded machine).
            JsonNode accepted = api(1).post("/v1/databases/undo", """
                            {"spec": {"database_name": "app",
                             "nodes": [{"name": "n1", "host_ids": ["host-1"]},
                                       {"name": "n2", "host_ids": ["host-2"], "port": %d}],
                             "database_users": [{"username": "owner", "password": "%s", "db_owner": true}],
                             "postgresql_conf": {"work_mem": "16MB"}}}""".formatted(newPort, newPw))
                    .expect(202)
                    .body();
            task = api(2).awaitTask("undo", accepted, "failed");
        }
        String error = task.path("error").asString();
        assertThat(error)
                .contains("port " + newPort)
                .contains("rolled back: every instance is on the previous spec again")
                .contains("hosts host-1, host-2");
        String log = api(1).get(
                        "/v1/databases/undo/tasks/" + task.path("task_id").asString() + "/log")
                .expect(200)
                .body()
                .toString();
        // n1 had taken the new spec on host-1 before host-2 failed; each host put its own node back.
        assertThat(log)
                .contains("node n1: up to date")
                .contains("node n1: previous settings reloaded")
                .contains("node n2: starting on port " + n2Port + " with the previous configuration")
                .contains("node n1: back on the previous spec", "node n2: back on the previous spec")
                .doesNotContain(PW, newPw);
        JsonNode db = api(2).database("undo");
        assertThat(db.path("state").asString()).isEqualTo("available");
        assertThat(db.path("spec").path("postgresql_conf").path("work_mem").asString())
                .isEqualTo("4MB");
        assertThat(db.path("spec").path("nodes").get(1).path("port").isMissingNode()
                        || db.path("spec").path("nodes").get(1).path("port").isNull())
                .as("n2 has no explicit port again: " + db.path("spec"))
                .isTrue();
        int[] ports = {n1Port, n2Port};
        for (int i = 1; i <= 2; i++) {
            JsonNode instance = api(3).instance("undo", "n" + i);
            assertThat(instance.path("state").asString()).as("n" + i).isEqualTo("available");
            assertThat(instance.path("port").asInt()).as("n" + i).isEqualTo(ports[i - 1]);
            String address = "127.0.0." + i;
            assertThat(query(address, ports[i - 1], "show work_mem"))
                    .as("n" + i)
                    .isEqualTo("4MB");
            assertThat(logsIn(address, ports[i - 1], newPw))
                    .as("n" + i + " with the new password")
                    .isFalse();
        }
        assertThat(api(1).get("/v1/events?database_id=undo&type=database.update_rolled_back")
                        .expect(200)
                        .body()
                        .path("total")
                        .asLong())
                .as("the previous spec is stored once")
                .isEqualTo(1);
        api(1).awaitTask("undo", api(1).delete("/v1/databases/undo").expect(202).body());
    }

    private static boolean logsIn(String address, int port, String password) {
        Properties props = new Properties();
        props.setProperty("user", "owner");
        props.setProperty("password", password);
        props.setProperty("connectTimeout", "5");
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://" + address + ":" + port + "/app", props)) {
            return c.isValid(2);
        } catch (java.sql.SQLException e) {
            return false;
        }
    }

    private long stateChanges() {
        return api(1).get("/v1/events?type=instance.state_changed&limit=1")
                .expect(200)
                .body()
                .path("total")
                .asLong();
    }

    private static String spec(String id, String... hostIds) {
        StringBuilder nodes = new StringBuilder();
        for (int i = 0; i < hostIds.length; i++) {
            nodes.append(i == 0 ? "" : ", ")
                    .append("{\"name\": \"n")
                    .append(i + 1)
                    .append("\", \"host_ids\": [\"")
                    .append(hostIds[i])
                    .append("\"]}");
        }
        return """
                {"id": "%s", "spec": {"database_name": "app", "nodes": [%s],
                 "database_users": [{"username": "owner", "password": "%s", "db_owner": true}]}}""".formatted(id, nodes, PW);
    }

    private static String query(String address, int port, String sql) throws Exception {
        Properties props = new Properties();
        props.setProperty("user", "owner");
        props.setProperty("password", PW);
        props.setProperty("connectTimeout", "5");
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://" + address + ":" + port + "/app", props);
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }
}
