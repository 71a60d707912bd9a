package io.pgfleet.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgfleet.server.support.Api;
import io.pgfleet.server.support.Postgres;
import io.pgfleet.server.support.ServerUnderTest;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tools.jackson.databind.JsonNode;

/** PgBouncer in front of an instance: restarts are a pause for clients, and it lives and dies with Postgres. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PoolerIT {
    private Path home;
    private ServerUnderTest server;
    private Api api;

    @BeforeAll
    void startServer() {
        home = ServerUnderTest.newHome("pooler");
        server = ServerUnderTest.start(home, 7600, 7629);
        api = server.api();
        api.awaitTask("pool", api.post("/v1/databases", """
                        {"id": "pool", "spec": {"database_name": "web", "nodes": [{"name": "n1"}],
                          "database_users": [{"username": "web", "password": "web-pw-1", "db_owner": true}],
                          "pooler": {"enabled": true}}}""").expect(202).body());
    }

    @AfterAll
    void stopServer() {
        if (server != null) {
            server.close();
        }
        ServerUnderTest.cleanUp(home);
    }

    @Test
    void aClientLoopingThroughThePoolerSeesNoErrorDuringARestart() throws Exception {
        JsonNode instance = api.instance("pool", "n1");
        int poolerPort = instance.path("pooler_port").asInt();
        assertThat(poolerPort)
                .isNotEqualTo(6432)
                .isNotEqualTo(instance.path("port").asInt());
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong ok = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        AtomicLong longestNanos = new AtomicLong();
        CompletableFuture<Void> client = CompletableFuture.runAsync(() -> {
            try (Connection c = Postgres.connectPooled(poolerPort, "web", "web", "web-pw-1");
                    Statement st = c.createStatement()) {
                while (running.get()) {
                    long start = System.nanoTime();
                    try {
                        st.execute("SELECT 1");
                        ok.incrementAndGet();
                    } catch (SQLException e) {
                        errors.incrementAndGet();
                    }
                    longestNanos.accumulateAndGet(System.nanoTime() - start, Math::max);
                }
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        });
        await().atMost(Duration.ofSeconds(30)).until(() -> ok.get() >= 100);
        String instanceId = api.instance("pool", "n1").path("id").asString();
        long poolerBefore = pid(home.resolve("instances/" + instanceId + "/pgbouncer/pgbouncer.pid"));
        long postmasterBefore = pid(home.resolve("instances/" + instanceId + "/data/postmaster.pid"));
        for (int i = 0; i < 2; i++) {
            api.awaitTask(
                    "pool",
                    api.post("/v1/databases/pool/instances/n1/restart", "{}")
                            .expect(202)
                            .body());
        }
        long afterRestarts = ok.get();
        await().atMost(Duration.ofSeconds(30)).until(() -> ok.get() >= afterRestarts + 100);
        running.set(false);
        client.join();
        System.out.printf(
                "PoolerIT: %d queries, %d errors, longest stall %d ms across two restarts%n",
                ok.get(), errors.get(), longestNanos.get() / 1_000_000);
        assertThat(errors.get()).isZero();
        // Postgres restarted behind the same PgBouncer process, which held the clients meanwhile.
        assertThat(pid(home.resolve("instances/" + instanceId + "/data/postmaster.pid")))
                .isNotEqualTo(postmasterBefore);
        assertThat(pid(home.resolve("instances/" + instanceId + "/pgbouncer/pgbouncer.pid")))
                .isEqualTo(poolerBefore);
        assertThat(ProcessHandle.of(poolerBefore)).isPresent();
    }

    /** The first line of a pid file (the postmaster's has more lines after it). */
    private static long pid(Path pidFile) throws java.io.IOException {
        return Long.parseLong(java.nio.file.Files.readAllLines(pidFile).get(0).trim());
    }

    @Test
    void thePoolerStopsWithTheInstanceAndStartsWithIt() throws Exception {
        int poolerPort = api.instance("pool", "n1").path("pooler_port").asInt();
        api.awaitTask(
                "pool",
                api.post("/v1/databases/pool/instances/n1/stop", "").expect(202).body());
        assertThat(Postgres.isListening(poolerPort)).isFalse();
        api.awaitTask(
                "pool",
                api.post("/v1/databases/pool/instances/n1/start", "")
                        .expect(202)
                        .body());
        try (Connection c = Postgres.connectPooled(poolerPort, "web", "web", "web-pw-1")) {
            assertThat(Postgres.queryOne(c, "SELECT current_user")).isEqualTo("web");
        }
        JsonNode connection =
                api.get("/v1/databases/pool/connection").expect(200).body();
        assertThat(connection.path("instances").get(0).path("pooled_url").asString())
                .isEqualTo("postgresql://web:****@localhost:" + poolerPort + "/web");
    }
}
