package io.pgfleet.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgfleet.server.agent.CpuLimits;
import io.pgfleet.server.support.Api;
import io.pgfleet.server.support.Postgres;
import io.pgfleet.server.support.ServerUnderTest;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import tools.jackson.databind.JsonNode;

/** Spec updates of postgresql_conf, memory, ports and nodes, on real Postgres. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class UpdateIT {
    private static final int FIRST = ServerUnderTest.port(7550);
    private Path home;
    private ServerUnderTest server;
    private Api api;

    @BeforeAll
    void startServer() {
        home = ServerUnderTest.newHome("update");
        server = ServerUnderTest.start(home, 7550, 7579);
        api = server.api();
        api.awaitTask(
                "conf",
                api.post("/v1/databases", "{\"id\": \"conf\", \"spec\": " + spec("{\"work_mem\": \"4MB\"}", "") + "}")
                        .expect(202)
                        .body());
    }

    @AfterAll
    void stopServer() {
        if (server != null) {
            server.close();
        }
        ServerUnderTest.cleanUp(home);
    }

    private static String spec(String conf, String extra) {
        return """
                {"database_name": "app", "nodes": [{"name": "n1"}%s],
                 "database_users": [{"username": "admin", "password": "admin-pw-1", "db_owner": true,
                                     "attributes": ["SUPERUSER"]}],
                 "postgresql_conf": %s}""".formatted(extra, conf);
    }

    private Api.Response update(String spec) {
        return api.post("/v1/databases/conf", "{\"spec\": " + spec + "}");
    }

    private Connection connect(String node) throws Exception {
        return Postgres.connect(api.instance("conf", node).path("port").asInt(), "app", "admin", "admin-pw-1");
    }

    private long postmasterPid() throws Exception {
        String id = api.instance("conf", "n1").path("id").asString();
        return Long.parseLong(Files.readAllLines(home.resolve("instances/" + id + "/data/postmaster.pid"))
                .get(0)
                .trim());
    }

    @Test
    @Order(1)
    void workMemAppliesWithoutARestart() throws Exception {
        long pid = postmasterPid();
        JsonNode accepted =
                update(spec("{\"work_mem\": \"16MB\"}", "")).expect(202).body();
        assertThat(accepted.path("plan").path("parameters_to_reload").toString())
                .isEqualTo("[\"work_mem\"]");
        assertThat(accepted.path("plan").path("parameters_needing_restart")).isEmpty();
        api.awaitTask("conf", accepted);
        try (Connection c = connect("n1")) {
            assertThat(Postgres.queryOne(c, "SHOW work_mem")).isEqualTo("16MB");
        }
        assertThat(postmasterPid()).as("the same postmaster: no restart").isEqualTo(pid);
        assertThat(api.instance("conf", "n1").path("pending_restart").asBoolean())
                .isFalse();
    }

    @Test
    @Order(2)
    void sharedBuffersWaitsForARestartThatOnlyIfPendingPerformsOnce() throws Exception {
        JsonNode accepted = update(spec("{\"work_mem\": \"16MB\", \"shared_buffers\": \"64MB\"}", ""))
                .expect(202)
                .body();
        assertThat(accepted.path("plan").path("parameters_needing_restart").toString())
                .isEqualTo("[\"shared_buffers\"]");
        api.awaitTask("conf", accepted);
        assertThat(api.instance("conf", "n1").path("pending_restart").asBoolean())
                .isTrue();
        try (Connection c = connect("n1")) {
            assertThat(Postgres.queryOne(c, "SHOW shared_buffers")).isEqualTo("128MB");
        }

        api.awaitTask(
                "conf",
                api.post("/v1/databases/conf/instances/n1/restart", "{\"only_if_pending\": true}")
                        .expect(202)
                        .body());
        assertThat(api.instance("conf", "n1").path("pending_restart").asBoolean())
                .isFalse();
        try (Connection c = connect("n1")) {
            assertThat(Postgres.queryOne(c, "SHOW shared_buffers")).isEqualTo("64MB");
        }
        Api.Response again = api.post("/v1/databases/conf/instances/n1/restart", "{\"only_if_pending\": true}")
                .expect(409);
        assertThat(again.code()).isEqualTo("nothing_pending");
    }

    @Test
    @Order(3)
    void badParametersAre422AndChangeNothing() throws Exception {
        String before = api.database("conf").path("spec").toString();
        int tasks = api.get("/v1/databases/conf/tasks").body().path("tasks").size();
        Api.Response unknown = update(spec("{\"work_mem\": \"16MB\", \"no_such_setting\": \"1\"}", ""))
                .expect(422);
        assertThat(unknown.body().toString()).contains("spec.postgresql_conf.no_such_setting");
        Api.Response bad = update(spec("{\"work_mem\": \"lots\"}", "")).expect(422);
        assertThat(bad.body().toString())
                .contains("spec.postgresql_conf.work_mem")
                .contains("not a valid integer");
        Api.Response range = update(spec("{\"max_connections\": \"0\"}", "")).expect(422);
        assertThat(range.body().toString()).contains("spec.postgresql_conf.max_connections");
        Api.Response owned = update(spec("{\"port\": \"6000\"}", "")).expect(422);
        assertThat(owned.body().toString()).contains("is set by pgfleet");
        assertThat(unknown.contentType()).startsWith("application/problem+json");
        assertThat(api.database("conf").path("spec").toString()).isEqualTo(before);
        assertThat(api.get("/v1/databases/conf/tasks").body().path("tasks").size())
                .isEqualTo(tasks);
        try (Connection c = connect("n1")) {
            assertThat(Postgres.queryOne(c, "SHOW work_mem")).isEqualTo("16MB");
        }
    }

    @Test
    @Order(4)
    void aPortChangeOntoABoundPortIs409AndChangesNothing() throws Exception {
        int oldPort = api.instance("conf", "n1").path("port").asInt();
        int taken = FIRST + 25;
        String before = api.database("conf").path("spec").toString();
        try (ServerSocket other = new ServerSocket()) {
            other.bind(new InetSocketAddress("0.0.0.0", taken));
            Api.Response refused = update(spec("{\"work_mem\": \"16MB\", \"shared_buffers\": \"64MB\"}", "")
                            .replace("{\"name\": \"n1\"}", "{\"name\": \"n1\", \"port\": " + taken + "}"))
                    .expect(409);
            assertThat(refused.code()).isEqualTo("port_conflict");
            assertThat(refused.body().path("detail").asString()).contains("stays on port " + oldPort);
        }
        assertThat(api.instance("conf", "n1").path("port").asInt()).isEqualTo(oldPort);
        assertThat(api.database("conf").path("spec").toString()).isEqualTo(before);
        try (Connection c = connect("n1")) {
            assertThat(Postgres.queryOne(c, "SELECT 1")).isEqualTo("1");
        }

        // The same change onto a free port moves the instance with a restart.
        JsonNode moved = update(spec("{\"work_mem\": \"16MB\", \"shared_buffers\": \"64MB\"}", "")
                        .replace("{\"name\": \"n1\"}", "{\"name\": \"n1\", \"port\": " + (taken + 1) + "}"))
                .expect(202)
                .body();
        assertThat(moved.path("plan").path("port_changes").get(0).path("to").asInt())
                .isEqualTo(taken + 1);
        api.awaitTask("conf", moved);
        assertThat(api.instance("conf", "n1").path("port").asInt()).isEqualTo(taken + 1);
        assertThat(Postgres.isListening(oldPort)).isFalse();
        try (Connection c = connect("n1")) {
            assertThat(Postgres.queryOne(c, "SELECT 1")).isEqualTo("1");
        }
    }

    @Test
    @Order(5)
    void memoryDerivesParametersAndNodesAreAddedAndRemoved() throws Exception {
        String withN2 = spec("{}", ", {\"name\": \"n2\"}")
                .replace("\"postgresql_conf\": {}", "\"postgresql_conf\": {}, \"resources\": {\"memory_mb\": 1024}");
        JsonNode accepted = update(withN2).expect(202).body();
        assertThat(accepted.path("plan").path("nodes_to_add").toString()).isEqualTo("[\"n2\"]");
        api.awaitTask("conf", accepted);
        try (Connection c = connect("n2")) {
            assertThat(Postgres.queryOne(c, "SHOW shared_buffers")).isEqualTo("256MB");
            assertThat(Postgres.queryOne(c, "SHOW work_mem")).isEqualTo("16MB");
            assertThat(Postgres.queryOne(c, "SHOW maintenance_work_mem")).isEqualTo("64MB");
        }
        try (Connection c = connect("n1")) {
            assertThat(Postgres.queryOne(c, "SHOW effective_cache_size")).isEqualTo("768MB");
        }
        assertThat(api.instance("conf", "n1").path("pending_restart").asBoolean())
                .isTrue();
        int n2Port = api.instance("conf", "n2").path("port").asInt();

        JsonNode removed = update(spec("{}", "")).expect(202).body();
        assertThat(removed.path("plan").path("nodes_to_remove").toString()).isEqualTo("[\"n2\"]");
        api.awaitTask("conf", removed);
        assertThat(api.database("conf").path("instances").size()).isEqualTo(1);
        assertThat(Postgres.isListening(n2Port)).isFalse();
    }

    @Test
    @Order(6)
    void cpusIsACpuQuotaOfTheInstancesGroupChangedWithoutARestart() throws Exception {
        CpuLimits limits = server.bean(CpuLimits.class);
        org.junit.jupiter.api.Assumptions.assumeTrue(limits.enforced(), limits.why());
        String id = api.instance("conf", "n1").path("id").asString();
        long pidBefore = postmasterPid();

        api.awaitTask(
                "conf",
                update(spec("{}", "").replace("\"postgresql_conf\"", "\"cpus\": \"250m\", \"postgresql_conf\""))
                        .expect(202)
                        .body());
        assertThat(limits.quota(id)).hasValue(0.25);
        Path group = limits.groupOf(id).orElseThrow();
        long pid = postmasterPid();
        assertThat(pid).as("cpus applies without a restart").isEqualTo(pidBefore);
        assertThat(Files.readString(Path.of("/proc/" + pid + "/cgroup"))).contains("/pgfleet/" + id);
        long throttledBefore = throttled(group);
        try (Connection c = connect("n1")) {
            // A quarter of a CPU: a busy backend (a child of the postmaster, in its group) is throttled.
            Postgres.queryOne(c, "SELECT count(*) FROM generate_series(1, 20000000)");
        }
        assertThat(throttled(group))
                .as("periods in which the quota stopped the group")
                .isGreaterThan(throttledBefore);

        api.awaitTask("conf", update(spec("{}", "")).expect(202).body());
        assertThat(limits.quota(id)).as("no cpus: no quota").isEmpty();
        assertThat(postmasterPid()).isEqualTo(pid);
    }

    private static long throttled(Path group) throws Exception {
        return Files.readAllLines(group.resolve("cpu.stat")).stream()
                .filter(l -> l.startsWith("nr_throttled "))
                .mapToLong(l ->
                        Long.parseLong(l.substring("nr_throttled ".length()).trim()))
                .findFirst()
                .orElseThrow();
    }
}
