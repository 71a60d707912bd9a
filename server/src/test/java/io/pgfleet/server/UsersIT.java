package io.pgfleet.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgfleet.server.support.Api;
import io.pgfleet.server.support.Postgres;
import io.pgfleet.server.support.ServerUnderTest;
import io.pgfleet.server.support.Urls;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Users reconciled onto every instance of a two-node database with PgBouncer in front: awkward names
 * and passwords, drift reported then repaired, hand-made roles left alone, a removed owner's table
 * reassigned, and no password in any log or response.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class UsersIT {
    private static final String ODD_USER = "o'brien \"x\"";
    private static final String ODD_PASSWORD = "it's \"quoted\" \\ and spaced";
    private static final String OPS_PASSWORD = "ops-password-given-1";
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private Path home;
    private ServerUnderTest server;
    private Api api;
    private String generatedPassword;

    @BeforeAll
    void startServer() {
        home = ServerUnderTest.newHome("users");
        server = ServerUnderTest.start(home, 7500, 7549, "--pgfleet.drift-check-interval=500ms");
        api = server.api();
        JsonNode created =
                api.post("/v1/databases", spec(true).toString()).expect(202).body();
        api.awaitTask("acct", created);
        generatedPassword =
                Urls.password(connection("app", true).get(0).path("direct_url").asString());
    }

    @AfterAll
    void stopServer() {
        if (server != null) {
            server.close();
        }
        ServerUnderTest.cleanUp(home);
    }

    /** Two nodes, the pooler on; {@code withTemp} adds a user the removal test takes away again. */
    private ObjectNode spec(boolean withTemp) {
        String users = """
                [{"username": "admin", "password": "admin-pass-1", "db_owner": true},
                 {"username": "ops", "password": "%s", "attributes": ["LOGIN", "SUPERUSER"]},
                 {"username": %s, "password": %s, "connection_limit": 5, "roles": ["pg_read_all_stats"]},
                 {"username": "app"}%s]""".formatted(
                        OPS_PASSWORD,
                        JSON.writeValueAsString(ODD_USER),
                        JSON.writeValueAsString(ODD_PASSWORD),
                        withTemp ? ", {\"username\": \"temp\", \"password\": \"temp-pass-1\"}" : "");
        return (ObjectNode) JSON.readTree("""
                {"id": "acct",
                 "spec": {"database_name": "ledger", "nodes": [{"name": "n1"}, {"name": "n2"}],
                          "database_users": %s,
                          "pooler": {"enabled": true, "pool_mode": "transaction", "default_pool_size": 5},
                          "drift_policy": "report"}}""".formatted(users));
    }

    private JsonNode update(ObjectNode body) {
        body.remove("id");
        JsonNode accepted =
                api.post("/v1/databases/acct", body.toString()).expect(202).body();
        api.awaitTask("acct", accepted);
        return accepted;
    }

    private List<JsonNode> connection(String user, boolean reveal) {
        List<JsonNode> result = new ArrayList<>();
        api.get("/v1/databases/acct/connection?user=" + java.net.URLEncoder.encode(user, StandardCharsets.UTF_8)
                        + "&reveal=" + reveal)
                .expect(200)
                .body()
                .path("instances")
                .forEach(result::add);
        return result;
    }

    private Connection superuser(JsonNode instance) throws Exception {
        return Postgres.connect(instance.path("port").asInt(), "ledger", "ops", OPS_PASSWORD);
    }

    @Test
    @Order(1)
    void anAwkwardNameAndPasswordLogInOnEveryInstanceDirectlyAndThroughThePooler() throws Exception {
        List<JsonNode> instances = connection(ODD_USER, true);
        assertThat(instances).hasSize(2);
        for (JsonNode i : instances) {
            assertThat(Urls.user(i.path("direct_url").asString())).isEqualTo(ODD_USER);
            assertThat(Urls.password(i.path("pooled_url").asString())).isEqualTo(ODD_PASSWORD);
            try (Connection direct = Postgres.connect(i.path("port").asInt(), "ledger", ODD_USER, ODD_PASSWORD);
                    Connection pooled =
                            Postgres.connectPooled(i.path("pooler_port").asInt(), "ledger", ODD_USER, ODD_PASSWORD)) {
                assertThat(Postgres.queryOne(direct, "SELECT current_user")).isEqualTo(ODD_USER);
                assertThat(Postgres.queryOne(pooled, "SELECT current_user")).isEqualTo(ODD_USER);
                assertThat(Postgres.queryOne(direct, "SELECT rolconnlimit FROM pg_roles WHERE rolname = current_user"))
                        .isEqualTo("5");
                assertThat(Postgres.queryOne(direct, "SELECT pg_has_role('pg_read_all_stats', 'MEMBER')"))
                        .isEqualTo("t");
            }
            // The generated password works too, through both doors.
            try (Connection pooled =
                    Postgres.connectPooled(i.path("pooler_port").asInt(), "ledger", "app", generatedPassword)) {
                assertThat(Postgres.queryOne(pooled, "SELECT 1")).isEqualTo("1");
            }
        }
        assertThat(generatedPassword).hasSizeGreaterThanOrEqualTo(24);
    }

    @Test
    @Order(2)
    void reservedNamesAreRefusedAndChangeNothing() {
        ObjectNode body = spec(true);
        ((tools.jackson.databind.node.ArrayNode) body.path("spec").path("database_users"))
                .add(JSON.readTree("{\"username\": \"pgfleet_sneaky\"}"));
        body.remove("id");
        Api.Response refused = api.post("/v1/databases/acct", body.toString()).expect(422);
        assertThat(refused.body().toString()).contains("spec.database_users[5].username");
        assertThat(api.get("/v1/databases/acct/tasks")
                        .body()
                        .path("tasks")
                        .get(0)
                        .path("type")
                        .asString())
                .isEqualTo("create");
    }

    @Test
    @Order(3)
    void handMadeChangesAreReportedAsDriftAndRepairedByTheNextReconcile() throws Exception {
        JsonNode n1 = api.instance("acct", "n1");
        try (Connection c = superuser(n1)) {
            assertThat(Postgres.queryOne(
                            c,
                            "SELECT string_agg(rolname || ':' || rolsuper || ':' || rolcanlogin, ',') FROM pg_roles"))
                    .contains("ops:true");
            Postgres.execute(c, "ALTER ROLE app PASSWORD 'changed by hand'");
            Postgres.execute(c, "CREATE ROLE handmade LOGIN");
            Postgres.execute(c, "ALTER ROLE ops NOSUPERUSER"); // last: ops can do no more after it
        }
        await().atMost(Duration.ofSeconds(20))
                .untilAsserted(() -> assertThat(
                                api.instance("acct", "n1").path("drift").toString())
                        .contains("role \\\"ops\\\": NOSUPERUSER, the spec says SUPERUSER")
                        .contains("role \\\"app\\\": the password differs"));
        assertThat(api.instance("acct", "n2").path("drift")).isEmpty();
        assertThat(api.instance("acct", "n1").path("drift").toString()).doesNotContain("handmade");

        JsonNode accepted = update(spec(true));
        assertThat(accepted.path("plan").path("users_to_drop")).isEmpty();
        assertThat(api.instance("acct", "n1").path("drift")).isEmpty();
        try (Connection c = superuser(n1)) {
            assertThat(Postgres.queryOne(c, "SELECT rolsuper FROM pg_roles WHERE rolname = 'ops'"))
                    .isEqualTo("t");
            assertThat(Postgres.queryOne(c, "SELECT count(*) FROM pg_roles WHERE rolname = 'handmade'"))
                    .as("a role pgfleet does not manage is left alone")
                    .isEqualTo("1");
        }
        try (Connection app = Postgres.connect(n1.path("port").asInt(), "ledger", "app", generatedPassword)) {
            assertThat(Postgres.queryOne(app, "SELECT 1")).isEqualTo("1");
        }
    }

    @Test
    @Order(4)
    void removingAUserWhoOwnsATableGivesTheTableToTheOwnerOnEveryInstance() throws Exception {
        for (String node : List.of("n1", "n2")) {
            try (Connection c = superuser(api.instance("acct", node))) {
                Postgres.execute(c, "CREATE TABLE invoices (id int)");
                Postgres.execute(c, "ALTER TABLE invoices OWNER TO temp");
            }
        }
        JsonNode accepted = update(spec(false));
        assertThat(accepted.path("plan").path("users_to_drop").toString()).isEqualTo("[\"temp\"]");
        for (String node : List.of("n1", "n2")) {
            try (Connection c = superuser(api.instance("acct", node))) {
                assertThat(Postgres.queryOne(c, "SELECT tableowner FROM pg_tables WHERE tablename = 'invoices'"))
                        .isEqualTo("admin");
                assertThat(Postgres.queryOne(c, "SELECT count(*) FROM pg_roles WHERE rolname = 'temp'"))
                        .isEqualTo("0");
            }
        }
    }

    @Test
    @Order(5)
    void passwordsAppearInNoLogFileAndNoResponseWithoutReveal() throws IOException {
        List<String> secrets = List.of(ODD_PASSWORD, generatedPassword, OPS_PASSWORD, "admin-pass-1", "temp-pass-1");
        StringBuilder responses = new StringBuilder();
        responses.append(api.get("/v1/databases/acct").body());
        responses.append(api.get("/v1/databases").body());
        responses.append(api.get("/v1/databases/acct/connection?user=app").body());
        responses.append(api.get("/v1/databases/acct/connection").body());
        JsonNode tasks = api.get("/v1/databases/acct/tasks").body();
        responses.append(tasks);
        for (JsonNode task : tasks.path("tasks")) {
            responses.append(
                    api.get("/v1/databases/acct/tasks/" + task.path("task_id").asString() + "/log")
                            .body());
        }
        responses.append(
                api.get("/v1/databases/acct/instances/n1/logs?tail=1000").body());
        for (String secret : secrets) {
            assertThat(responses.toString()).doesNotContain(secret);
        }
        try (Stream<Path> files = Files.walk(home)) {
            List<Path> logs = files.filter(Files::isRegularFile)
                    .filter(p -> !p.startsWith(home.resolve("dist")))
                    .filter(p -> p.toString().endsWith(".log") || p.toString().contains("/log/"))
                    .toList();
            assertThat(logs).as("the servers' and poolers' logs").hasSizeGreaterThanOrEqualTo(4);
            for (Path log : logs) {
                String text = read(log);
                for (String secret : secrets) {
                    assertThat(text).as("%s", log).doesNotContain(secret);
                }
            }
        }
    }

    private static String read(Path file) {
        try {
            return new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
