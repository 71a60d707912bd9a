package io.pgfleet.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgfleet.server.support.Api;
import io.pgfleet.server.support.Postgres;
import io.pgfleet.server.support.ServerUnderTest;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
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
        while (ok.get() < 100) {
            Thread.sleep(5);
        }
        long pidBefore = api.instance("pool", "n1").path("port").asLong();
        for (int i = 0; i < 2; i++) {
            api.awaitTask(
                    "pool",
                    api.post("/v1/databases/pool/instances/n1/restart", "{}")
                            .expect(202)
                            .body());
        }
        long afterRestarts = ok.get();
        while (ok.get() < afterRestarts + 100) {
            Thread.sleep(5);
        }
        running.set(false);
        client.join();
        System.out.printf(
                "PoolerIT: %d queries, %d errors, longest stall %d ms across two restarts%n",
                ok.get(), errors.get(), longestNanos.get() / 1_000_000);
        assertThat(errors.get()).isZero();
        assertThat(pidBefore).isPositive();
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
