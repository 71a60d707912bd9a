package io.pgfleet.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.pgfleet.server.support.Api;
import io.pgfleet.server.support.Postgres;
import io.pgfleet.server.support.ServerUnderTest;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tools.jackson.databind.JsonNode;

/**
 * Roles changed by hand are put back by the drift check (the default policy) and the event says what;
 * {@code "drift_policy": "report"} only reports.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DriftRepairIT {
    private static final Duration INTERVAL = Duration.ofSeconds(2);
    /** Time for one repair (a reconcile and a verify) on a loaded machine, beyond the interval itself. */
    private static final Duration SLACK = Duration.ofSeconds(3);

    private Path home;
    private ServerUnderTest server;
    private Api api;

    @BeforeAll
    void startServer() {
        home = ServerUnderTest.newHome("drift");
        server =
                ServerUnderTest.start(home, 7820, 7839, "--pgfleet.drift-check-interval=" + INTERVAL.toMillis() + "ms");
        api = server.api();
        for (String policy : new String[] {"repair", "report"}) {
            String id = policy.equals("repair") ? "mended" : "watched";
            // "mended" leaves drift_policy out: repairing is the default.
            String policyField = policy.equals("repair") ? "" : ", \"drift_policy\": \"report\"";
            api.awaitTask(
                    id,
                    api.post("/v1/databases", """
                            {"id": "%s", "spec": {"database_name": "shop", "nodes": [{"name": "n1"}],
                              "database_users": [
                                {"username": "dba", "password": "dba-pass-1", "attributes": ["LOGIN", "SUPERUSER"]},
                                {"username": "app", "password": "app-pass-1", "db_owner": true},
                                {"username": "temp", "password": "temp-pass-1"}]%s}}""".formatted(id, policyField))
                            .expect(202)
                            .body());
        }
    }

    @AfterAll
    void stopServer() {
        if (server != null) {
            server.close();
        }
        ServerUnderTest.cleanUp(home);
    }

    @Test
    void aPasswordChangedByHandIsPutBackWithinOneDriftInterval() throws Exception {
        int port = api.instance("mended", "n1").path("port").asInt();
        try (Connection dba = Postgres.connect(port, "shop", "dba", "dba-pass-1")) {
            Postgres.execute(dba, "ALTER ROLE app PASSWORD 'set-by-hand'");
        }
        long changed = System.nanoTime();
        assertThat(logsIn(port, "app", "set-by-hand")).isTrue();
        await().atMost(INTERVAL.plus(SLACK))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> logsIn(port, "app", "app-pass-1"));
        long ms = (System.nanoTime() - changed) / 1_000_000;
        System.out.printf(
                "DriftRepairIT: password put back %d ms after the change (interval %d ms)%n", ms, INTERVAL.toMillis());
        assertThat(logsIn(port, "app", "set-by-hand")).isFalse();
        // The event is written just after the ALTER ROLE that put the password back.
        String wanted = "repaired role \\\"app\\\": the password differs from the stored one";
        await().atMost(SLACK)
                .until(() -> api.get("/v1/events?database_id=mended&type=instance.roles_repaired")
                        .expect(200)
                        .body()
                        .path("events")
                        .toString()
                        .contains(wanted));
        JsonNode events = api.get("/v1/events?database_id=mended&type=instance.roles_repaired")
                .expect(200)
                .body()
                .path("events");
        assertThat(events.toString()).doesNotContain("set-by-hand", "app-pass-1");
        assertThat(api.instance("mended", "n1").path("drift")).isEmpty();
    }

    @Test
    void aDroppedUserAndChangedAttributesArePutBack() throws Exception {
        int port = api.instance("mended", "n1").path("port").asInt();
        try (Connection dba = Postgres.connect(port, "shop", "dba", "dba-pass-1")) {
            Postgres.execute(dba, "DROP ROLE temp");
            Postgres.execute(dba, "ALTER ROLE app CREATEROLE CONNECTION LIMIT 3");
        }
        await().atMost(INTERVAL.plus(SLACK))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> logsIn(port, "temp", "temp-pass-1"));
        try (Connection dba = Postgres.connect(port, "shop", "dba", "dba-pass-1")) {
            await().atMost(SLACK)
                    .untilAsserted(() -> assertThat(Postgres.queryOne(
                                    dba,
                                    "SELECT rolcreaterole || ':' || rolconnlimit FROM pg_roles WHERE rolname = 'app'"))
                            .isEqualTo("false:-1"));
        }
        String events = api.get("/v1/events?database_id=mended&type=instance.roles_repaired")
                .expect(200)
                .body()
                .toString();
        assertThat(events)
                .contains("role \\\"temp\\\" is missing")
                .contains("role \\\"app\\\": CREATEROLE, the spec says NOCREATEROLE");
    }

    @Test
    void theReportPolicyOnlyReports() throws Exception {
        int port = api.instance("watched", "n1").path("port").asInt();
        try (Connection dba = Postgres.connect(port, "shop", "dba", "dba-pass-1")) {
            Postgres.execute(dba, "ALTER ROLE app PASSWORD 'set-by-hand'");
        }
        await().atMost(INTERVAL.plus(SLACK))
                .untilAsserted(() -> assertThat(
                                api.instance("watched", "n1").path("drift").toString())
                        .contains("role \\\"app\\\": the password differs from the stored one"));
        // Two more rounds: still as the person left it.
        Thread.sleep(2 * INTERVAL.toMillis());
        assertThat(logsIn(port, "app", "set-by-hand")).isTrue();
        assertThatThrownBy(() ->
                        Postgres.connect(port, "shop", "app", "app-pass-1").close())
                .isInstanceOf(SQLException.class);
        assertThat(api.get("/v1/events?database_id=watched&type=instance.roles_repaired")
                        .expect(200)
                        .body()
                        .path("total")
                        .asLong())
                .isZero();
    }

    private static boolean logsIn(int port, String user, String password) {
        try (Connection c = Postgres.connect(port, "shop", user, password)) {
            return c.isValid(2);
        } catch (SQLException e) {
            return false;
        }
    }
}
