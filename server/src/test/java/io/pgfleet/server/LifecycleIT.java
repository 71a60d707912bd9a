package io.pgfleet.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgfleet.server.support.Api;
import io.pgfleet.server.support.Postgres;
import io.pgfleet.server.support.ServerUnderTest;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;

/** The single-host lifecycle end to end through the REST API, on real Postgres processes. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LifecycleIT {
    private static final int FIRST_PORT = ServerUnderTest.port(7300);
    /** Quotes, a backslash, spaces and unicode: each one has broken some control plane's quoting. */
    private static final String OWNER_PASSWORD = "owner 'pw' \"q\" \\ end ü";

    private Path home;
    private ServerUnderTest server;
    private Api api;

    @BeforeAll
    void startServer() {
        home = ServerUnderTest.newHome("lifecycle");
        server = ServerUnderTest.start(home, 7300, 7349);
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
    void twoNodeDatabaseLivesThroughStopStartRestartAndDelete() throws Exception {
        int explicitPort = FIRST_PORT + 40;
        JsonNode created = api.post("/v1/databases", """
                        {"id": "example", "labels": {"team": "billing"},
                         "spec": {"database_name": "shop",
                                  "nodes": [{"name": "n1", "port": %d}, {"name": "n2"}],
                                  "database_users": [
                                     {"username": "admin", "password": "%s", "db_owner": true},
                                     {"username": "app"}]}}""".formatted(explicitPort, json(OWNER_PASSWORD)))
                .expect(202)
                .body();
        assertThat(created.path("database").path("state").asString()).isEqualTo("creating");
        api.awaitTask("example", created);

        JsonNode db = api.database("example");
        assertThat(db.path("state").asString()).isEqualTo("available");
        assertThat(db.path("spec")
                        .path("database_users")
                        .get(0)
                        .path("password")
                        .isNull())
                .as("passwords are never shown in the spec")
                .isTrue();
        int n1Port = api.instance("example", "n1").path("port").asInt();
        int n2Port = api.instance("example", "n2").path("port").asInt();
        assertThat(n1Port).isEqualTo(explicitPort);
        assertThat(n2Port).isBetween(FIRST_PORT, FIRST_PORT + 49).isNotEqualTo(explicitPort);
        assertThat(api.instance("example", "n1").path("id").asString()).matches("[0-9a-f-]{36}-n1-[a-z0-9]{8}");

        for (int port : List.of(n1Port, n2Port)) {
            try (Connection owner = Postgres.connect(port, "shop", "admin", OWNER_PASSWORD)) {
                Postgres.execute(owner, "create table orders(id int primary key)");
                Postgres.execute(owner, "insert into orders values (42)");
                assertThat(Postgres.queryOne(
                                owner,
                                "select pg_catalog.pg_get_userbyid(datdba) from pg_database"
                                        + " where datname = 'shop'"))
                        .isEqualTo("admin");
            }
        }
        // The generated password of 'app' comes from the connection endpoint, and only with reveal=true.
        String url = api.get("/v1/databases/example/connection?user=app&reveal=true")
                .expect(200)
                .body()
                .path("instances")
                .get(0)
                .path("direct_url")
                .asString();
        String appPassword = java.net.URLDecoder.decode(
                url.substring(url.indexOf(':', "postgresql://".length()) + 1, url.indexOf('@')),
                java.nio.charset.StandardCharsets.UTF_8);
        assertThat(appPassword).hasSizeGreaterThanOrEqualTo(24);
        JsonNode hidden =
                api.get("/v1/databases/example/connection?user=app").expect(200).body();
        assertThat(hidden.path("instances").get(0).path("direct_url").asString())
                .contains("app:****@")
                .doesNotContain(appPassword);
        try (Connection app = Postgres.connect(n1Port, "shop", "app", appPassword)) {
            assertThat(Postgres.queryOne(app, "select current_user")).isEqualTo("app");
        }

        // Stop n1, addressed by its node name.
        api.awaitTask(
                "example",
                api.post("/v1/databases/example/instances/n1/stop", "")
                        .expect(202)
                        .body());
        assertThat(api.instanceState("example", "n1")).isEqualTo("stopped");
        assertThat(api.instanceState("example", "n2")).isEqualTo("available");
        assertThat(api.database("example").path("state").asString()).isEqualTo("degraded");
        assertThat(Postgres.isListening(n1Port))
                .as("nothing listens on a stopped instance's port")
                .isFalse();
        assertThat(api.database("example").path("instances")).hasSize(2);
        JsonNode taken =
                api.post("/v1/databases", """
                        {"id": "thief", "spec": {"database_name": "t", "nodes": [{"name": "n1", "port": %d}]}}""".formatted(n1Port)).expect(409).body();
        assertThat(taken.path("code").asString()).isEqualTo("port_conflict");
        assertThat(taken.path("detail").asString()).contains("n1").contains("example");
        assertThat(api.get("/v1/databases/thief").status())
                .as("a refused create leaves nothing")
                .isEqualTo(404);

        // Start n1: same port, same data.
        api.awaitTask(
                "example",
                api.post("/v1/databases/example/instances/n1/start", "")
                        .expect(202)
                        .body());
        assertThat(api.instance("example", "n1").path("port").asInt()).isEqualTo(n1Port);
        try (Connection owner = Postgres.connect(n1Port, "shop", "admin", OWNER_PASSWORD)) {
            assertThat(Postgres.queryOne(owner, "select id from orders")).isEqualTo("42");
        }

        // Restart n2 with pgEdge's spelling of the route: a new postmaster, the same data.
        String startedBefore = postmasterStart(n2Port);
        api.awaitTask(
                "example",
                api.post("/v1/databases/example/instances/n2/restart-instance", "{}")
                        .expect(202)
                        .body());
        assertThat(postmasterStart(n2Port)).isNotEqualTo(startedBefore);
        assertThat(api.instanceState("example", "n2")).isEqualTo("available");

        // The task endpoints tell the story.
        JsonNode tasks =
                api.get("/v1/databases/example/tasks").expect(200).body().path("tasks");
        assertThat(tasks).hasSize(4);
        assertThat(tasks.get(0).path("type").asString()).isEqualTo("restart_instance");
        JsonNode createLog = api.get("/v1/databases/example/tasks/"
                        + created.path("task").path("task_id").asString() + "/log")
                .expect(200)
                .body();
        assertThat(createLog.path("task_status").asString()).isEqualTo("completed");
        assertThat(createLog.path("entries").toString())
                .contains("n1")
                .contains("n2")
                .contains("available");
        assertThat(createLog.path("entries").toString()).doesNotContain(OWNER_PASSWORD);
        JsonNode all = api.get("/v1/tasks?scope=database&entity_id=example&limit=2")
                .expect(200)
                .body();
        assertThat(all.path("tasks")).hasSize(2);

        // Delete: connections ended, processes stopped, directories removed, ports free again.
        List<Path> dirs;
        try (var list = Files.list(home.resolve("instances"))) {
            dirs = list.toList();
        }
        assertThat(dirs).hasSize(2);
        Connection lingering = Postgres.connect(n1Port, "shop", "admin", OWNER_PASSWORD);
        api.awaitTask("example", api.delete("/v1/databases/example").expect(202).body());
        assertThat(api.get("/v1/databases/example").status()).isEqualTo(404);
        assertThat(dirs).allSatisfy(dir -> assertThat(dir).doesNotExist());
        assertThat(lingering.isValid(2)).isFalse();
        lingering.close();
        assertThat(Postgres.isListening(n1Port)).isFalse();
        assertThat(Postgres.isListening(n2Port)).isFalse();
        JsonNode reuse =
                api.post("/v1/databases", """
                        {"id": "reuse", "spec": {"database_name": "r", "nodes": [{"name": "n1", "port": %d}]}}""".formatted(n1Port)).expect(202).body();
        api.awaitTask("reuse", reuse);
        api.awaitTask("reuse", api.delete("/v1/databases/reuse").expect(202).body());
    }

    @Test
    void startRefusesWhenAnotherProcessHoldsThePort() throws Exception {
        api.awaitTask("squat", api.post("/v1/databases", """
                        {"id": "squat", "spec": {"database_name": "s", "nodes": [{"name": "n1"}],
                         "database_users": [{"username": "own", "password": "squat-pw", "db_owner": true}]}}""").expect(202).body());
        int port = api.instance("squat", "n1").path("port").asInt();
        try (Connection owner = Postgres.connect(port, "s", "own", "squat-pw")) {
            Postgres.execute(owner, "create table kept as select 7 as n");
        }
        api.awaitTask(
                "squat",
                api.post("/v1/databases/squat/instances/n1/stop", "")
                        .expect(202)
                        .body());
        try (ServerSocket intruder = new ServerSocket(port)) {
            JsonNode refused = api.post("/v1/databases/squat/instances/n1/start", "")
                    .expect(409)
                    .body();
            assertThat(refused.path("code").asString()).isEqualTo("port_conflict");
            assertThat(refused.path("detail").asString()).contains(Integer.toString(port));
            assertThat(api.instanceState("squat", "n1")).isEqualTo("stopped");
        }
        api.awaitTask(
                "squat",
                api.post("/v1/databases/squat/instances/n1/start", "")
                        .expect(202)
                        .body());
        assertThat(api.instanceState("squat", "n1")).isEqualTo("available");
        assertThat(api.instance("squat", "n1").path("port").asInt()).isEqualTo(port);
        try (Connection owner = Postgres.connect(port, "s", "own", "squat-pw")) {
            assertThat(Postgres.queryOne(owner, "select n from kept"))
                    .as("the data survived the refused start")
                    .isEqualTo("7");
        }
        api.awaitTask("squat", api.delete("/v1/databases/squat").expect(202).body());
    }

    @Test
    void createWithAnotherProcessOnTheExplicitPortIsRefusedAndLeavesNothing() throws Exception {
        try (ServerSocket intruder = new ServerSocket(FIRST_PORT + 45)) {
            JsonNode refused = api.post("/v1/databases", """
                            {"id": "blocked", "spec": {"database_name": "b", "nodes": [{"name": "n1", "port": %d}]}}""".formatted(FIRST_PORT + 45))
                    .expect(409)
                    .body();
            assertThat(refused.path("code").asString()).isEqualTo("port_conflict");
            assertThat(api.get("/v1/databases/blocked").status()).isEqualTo(404);
        }
    }

    @Test
    void aStartThatNeverBecomesReadyFailsWithTheServerLog() {
        // shared_buffers within pg_settings' range but larger than any machine: the postmaster exits at start;
        // nothing may say available.
        JsonNode created = api.post("/v1/databases", """
                        {"id": "doomed", "spec": {"database_name": "d", "nodes": [{"name": "n1"}],
                         "postgresql_conf": {"shared_buffers": "1TB"}}}""").expect(202).body();
        JsonNode task = api.awaitTask("doomed", created, "failed");
        assertThat(task.path("error").asString()).contains("n1");
        JsonNode log = api.get(
                        "/v1/databases/doomed/tasks/" + task.path("task_id").asString() + "/log")
                .expect(200)
                .body();
        assertThat(log.path("entries").toString()).containsIgnoringCase("shared_buffers");
        JsonNode instance = api.instance("doomed", "n1");
        assertThat(instance.path("state").asString()).isEqualTo("failed");
        assertThat(Postgres.isListening(instance.path("port").asInt())).isFalse();
        assertThat(api.database("doomed").path("state").asString()).isEqualTo("failed");
        api.awaitTask("doomed", api.delete("/v1/databases/doomed").expect(202).body());
    }

    @Test
    void twoConcurrentOperationsOnOneInstanceOneWinsTheOtherGets409() throws Exception {
        api.awaitTask("race", api.post("/v1/databases", """
                        {"id": "race", "spec": {"database_name": "r", "nodes": [{"name": "n1"}]}}""").expect(202).body());
        for (int round = 0; round < 3; round++) {
            CyclicBarrier barrier = new CyclicBarrier(2);
            List<CompletableFuture<Api.Response>> calls = new ArrayList<>();
            for (String op : List.of("stop", "restart")) {
                calls.add(CompletableFuture.supplyAsync(() -> {
                    arrive(barrier);
                    return api.post("/v1/databases/race/instances/n1/" + op, "{}");
                }));
            }
            List<Api.Response> responses =
                    calls.stream().map(CompletableFuture::join).toList();
            assertThat(responses).extracting(Api.Response::status).containsExactlyInAnyOrder(202, 409);
            Api.Response winner = responses.stream()
                    .filter(r -> r.status() == 202)
                    .findFirst()
                    .orElseThrow();
            Api.Response loser = responses.stream()
                    .filter(r -> r.status() == 409)
                    .findFirst()
                    .orElseThrow();
            assertThat(loser.code()).isIn("operation_in_progress", "invalid_state");
            assertThat(loser.contentType()).startsWith("application/problem+json");
            api.awaitTask("race", winner.body());
            if (api.instanceState("race", "n1").equals("stopped")) {
                api.awaitTask(
                        "race",
                        api.post("/v1/databases/race/instances/n1/start", "")
                                .expect(202)
                                .body());
            }
        }
        api.awaitTask("race", api.delete("/v1/databases/race").expect(202).body());
    }

    @Test
    void twoConcurrentCreatesWithOneIdOneWinsTheOtherGets409() {
        CyclicBarrier barrier = new CyclicBarrier(2);
        List<CompletableFuture<Api.Response>> calls = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            calls.add(CompletableFuture.supplyAsync(() -> {
                arrive(barrier);
                return api.post("/v1/databases", """
                        {"id": "twin", "spec": {"database_name": "t", "nodes": [{"name": "n1"}]}}""");
            }));
        }
        List<Api.Response> responses =
                calls.stream().map(CompletableFuture::join).toList();
        assertThat(responses).extracting(Api.Response::status).containsExactlyInAnyOrder(202, 409);
        Api.Response winner =
                responses.stream().filter(r -> r.status() == 202).findFirst().orElseThrow();
        assertThat(responses.stream()
                        .filter(r -> r.status() == 409)
                        .findFirst()
                        .orElseThrow()
                        .code())
                .isEqualTo("already_exists");
        api.awaitTask("twin", winner.body());
        assertThat(api.database("twin").path("instances")).hasSize(1);
        api.awaitTask("twin", api.delete("/v1/databases/twin").expect(202).body());
    }

    @Test
    void instanceLogsAreReadable() {
        api.awaitTask("logs", api.post("/v1/databases", """
                        {"id": "logs", "spec": {"database_name": "l", "nodes": [{"name": "n1"}]}}""").expect(202).body());
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(api.get("/v1/databases/logs/instances/n1/logs?tail=50")
                                .expect(200)
                                .body()
                                .toString())
                        .contains("database system is ready to accept connections"));
        api.awaitTask("logs", api.delete("/v1/databases/logs").expect(202).body());
    }

    static Stream<Arguments> badRequests() {
        String ok = "{\"database_name\": \"x\", \"nodes\": [{\"name\": \"n1\"}]}";
        return Stream.of(
                Arguments.of("POST", "/v1/databases", "{\"id\": \"Bad Id\", \"spec\": " + ok + "}", 422, "id"),
                Arguments.of("POST", "/v1/databases", "{\"id\": \"-x\", \"spec\": " + ok + "}", 422, "id"),
                Arguments.of(
                        "POST",
                        "/v1/databases",
                        "{\"id\": \"" + "a".repeat(10_000) + "\", \"spec\": " + ok + "}",
                        422,
                        "id"),
                Arguments.of(
                        "POST",
                        "/v1/databases",
                        "{\"id\": \"x'; drop table databases; --\", \"spec\": " + ok + "}",
                        422,
                        "id"),
                Arguments.of(
                        "POST",
                        "/v1/databases",
                        "{\"id\": \"x\", \"spec\": {\"database_name\": \"x\", \"nodes\": [{\"name\": \"N 1\"}]}}",
                        422,
                        "spec.nodes[0].name"),
                Arguments.of(
                        "POST",
                        "/v1/databases",
                        "{\"id\": \"x\", \"spec\": {\"database_name\": \"x\", \"nodes\": []}}",
                        422,
                        "spec.nodes"),
                Arguments.of(
                        "POST",
                        "/v1/databases",
                        "{\"id\": \"x\", \"spec\": {\"database_name\": \"x\", \"nodes\": [{\"name\": \"n1\", \"port\": 80}]}}",
                        422,
                        "spec.nodes[0].port"),
                Arguments.of(
                        "POST",
                        "/v1/databases",
                        "{\"id\": \"x\", \"spec\": {\"database_name\": \"x\", \"nodes\": [{\"name\": \"n1\", \"port\": 70000}]}}",
                        422,
                        "spec.nodes[0].port"),
                Arguments.of(
                        "POST",
                        "/v1/databases",
                        "{\"id\": \"x\", \"spec\": {\"database_name\": \"x\", \"postgres_version\": \"9\", \"nodes\": [{\"name\": \"n1\"}]}}",
                        422,
                        "spec.postgres_version"),
                Arguments.of(
                        "POST",
                        "/v1/databases",
                        "{\"id\": \"x\", \"spec\": {\"database_name\": \"x\", \"nodes\": [{\"name\": \"n1\"}], \"database_users\": [{\"username\": \"postgres\"}]}}",
                        422,
                        "spec.database_users[0].username"),
                Arguments.of(
                        "POST",
                        "/v1/databases",
                        "{\"id\": \"x\", \"spec\": {\"database_name\": \"x\", \"nodes\": [{\"name\": \"n1\"}], \"postgresql_conf\": {\"port\": \"1\"}}}",
                        422,
                        "spec.postgresql_conf.port"),
                Arguments.of(
                        "POST", "/v1/databases", "{\"id\": \"x\", \"spec\": {\"nodes\": \"n1\"}}", 400, "spec.nodes"),
                Arguments.of(
                        "POST",
                        "/v1/databases",
                        "{\"id\": \"x\", \"spec\": {\"nodes\": [{\"name\": \"n1\", \"port\": \"abc\"}]}}",
                        400,
                        "spec.nodes[0].port"),
                Arguments.of(
                        "POST",
                        "/v1/databases",
                        "{\"id\": \"x\", \"spec\": " + ok + ", \"colour\": \"red\"}",
                        400,
                        "colour"),
                Arguments.of("POST", "/v1/databases", "{\"id\": \"x\",", 400, null),
                Arguments.of("POST", "/v1/databases", "", 400, null),
                Arguments.of("POST", "/v1/databases", "[]", 400, null),
                Arguments.of("GET", "/v1/databases?limit=abc", null, 400, null),
                Arguments.of("GET", "/v1/databases?limit=100000", null, 400, "limit"),
                Arguments.of("GET", "/v1/databases?state=sleepy", null, 400, "state"),
                Arguments.of("GET", "/v1/databases/nope", null, 404, null),
                Arguments.of("GET", "/v1/databases/nope/tasks/not-a-uuid", null, 400, null),
                Arguments.of("GET", "/v1/tasks?after_task_id=zzz", null, 400, null),
                Arguments.of("POST", "/v1/databases/nope/instances/n1/stop", "", 404, null),
                Arguments.of(
                        "POST",
                        "/v1/databases/nope/instances/n1/restart",
                        "{\"scheduled_at\": \"tomorrow\"}",
                        400,
                        "scheduled_at"),
                Arguments.of("DELETE", "/v1/databases/nope", null, 404, null),
                Arguments.of("GET", "/v1/no-such-route", null, 404, null),
                Arguments.of("PUT", "/v1/databases", "{}", 405, null));
    }

    @ParameterizedTest(name = "{0} {1} -> {3}")
    @MethodSource("badRequests")
    void badInputGetsAProblemWithACodeAndChangesNothing(
            String method, String path, String body, int status, String field) {
        long before = api.get("/v1/databases").expect(200).body().path("total").asLong();
        java.net.http.HttpRequest.Builder request = java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create(api.base() + path))
                .header("Content-Type", "application/json")
                .method(
                        method,
                        body == null
                                ? java.net.http.HttpRequest.BodyPublishers.noBody()
                                : java.net.http.HttpRequest.BodyPublishers.ofString(body));
        Api.Response response = api.send(request);
        assertThat(response.status()).as("status; body %s", response.body()).isEqualTo(status);
        assertThat(response.contentType()).startsWith("application/problem+json");
        assertThat(response.code()).isNotBlank();
        assertThat(response.body().path("detail").asString())
                .isNotBlank()
                .doesNotContain("Exception")
                .doesNotContain("\tat ");
        if (field != null) {
            assertThat(response.body().path("errors").findValuesAsString("field"))
                    .as("field errors of %s", response.body())
                    .contains(field);
        }
        assertThat(api.get("/v1/databases").expect(200).body().path("total").asLong())
                .isEqualTo(before);
    }

    /** The string as it goes inside a JSON string literal. */
    private static String json(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"");
    }

    private static String postmasterStart(int port) throws Exception {
        try (Connection c = Postgres.connect(port, "shop", "admin", OWNER_PASSWORD)) {
            return Postgres.queryOne(c, "select pg_postmaster_start_time()");
        }
    }

    private static void arrive(CyclicBarrier barrier) {
        try {
            barrier.await();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
