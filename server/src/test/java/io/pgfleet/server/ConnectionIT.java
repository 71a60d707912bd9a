package io.pgfleet.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgfleet.server.support.Api;
import io.pgfleet.server.support.ServerUnderTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tools.jackson.databind.JsonNode;

/**
 * Connection info serves every client as given: libpq URLs and pgjdbc URLs (pooled ones with
 * prepareThreshold=0), on the advertised host; instances listen where --listen-addresses says.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConnectionIT {
    private Path home;
    private ServerUnderTest server;
    private Api api;

    @BeforeAll
    void startServer() {
        home = ServerUnderTest.newHome("conn");
        server = ServerUnderTest.start(
                home, 7800, 7819, "--pgfleet.advertise-host=127.0.0.1", "--pgfleet.listen-addresses=127.0.0.1");
        api = server.api();
        api.awaitTask("jdbc", api.post("/v1/databases", """
                        {"id": "jdbc", "spec": {"database_name": "shop_db", "nodes": [{"name": "n1"}],
                          "database_users": [{"username": "app", "password": "p&ss w=rd?", "db_owner": true}],
                          "pooler": {"enabled": true, "pool_mode": "transaction"}}}""").expect(202).body());
    }

    @AfterAll
    void stopServer() {
        if (server != null) {
            server.close();
        }
        ServerUnderTest.cleanUp(home);
    }

    @Test
    void connectionInfoGivesJdbcUrlsOnTheAdvertisedHost() {
        JsonNode masked = api.get("/v1/databases/jdbc/connection").expect(200).body();
        JsonNode i = masked.path("instances").get(0);
        int port = i.path("port").asInt();
        int pooler = i.path("pooler_port").asInt();
        assertThat(i.path("direct_url").asString()).isEqualTo("postgresql://app:****@127.0.0.1:" + port + "/shop_db");
        assertThat(i.path("jdbc_url").asString())
                .isEqualTo("jdbc:postgresql://127.0.0.1:" + port + "/shop_db?user=app&password=****");
        assertThat(i.path("pooled_jdbc_url").asString())
                .isEqualTo(
                        "jdbc:postgresql://127.0.0.1:" + pooler + "/shop_db?user=app&password=****&prepareThreshold=0");

        JsonNode revealed = api.get("/v1/databases/jdbc/connection?reveal=true")
                .expect(200)
                .body()
                .path("instances")
                .get(0);
        assertThat(revealed.path("jdbc_url").asString()).endsWith("?user=app&password=p%26ss%20w%3Drd%3F");
    }

    @Test
    void instancesListenOnlyWhereTheyAreTold() throws Exception {
        JsonNode i = api.instance("jdbc", "n1");
        int port = i.path("port").asInt();
        Path conf = home.resolve("instances").resolve(i.path("id").asString()).resolve("data/pgfleet.conf");
        assertThat(Files.readString(conf)).contains("listen_addresses = '127.0.0.1'");
        String url = api.get("/v1/databases/jdbc/connection?reveal=true")
                .expect(200)
                .body()
                .path("instances")
                .get(0)
                .path("jdbc_url")
                .asString();
        try (Connection c = DriverManager.getConnection(url)) {
            assertThat(c.isValid(5)).isTrue();
        }
        // 127.0.0.2 is loopback too on Linux, but not an address the instance was told to listen on.
        Properties props = new Properties();
        props.setProperty("user", "app");
        props.setProperty("password", "p&ss w=rd?");
        props.setProperty("connectTimeout", "3");
        assertThatThrownBy(() -> DriverManager.getConnection("jdbc:postgresql://127.0.0.2:" + port + "/shop_db", props))
                .isInstanceOf(SQLException.class)
                .hasMessageContaining("Connection to 127.0.0.2:" + port + " refused");
    }

    @Test
    void aPgjdbcClientOnThePooledJdbcUrlRunsPreparedStatementsThroughTwoRestarts() throws Exception {
        String url = api.get("/v1/databases/jdbc/connection?reveal=true")
                .expect(200)
                .body()
                .path("instances")
                .get(0)
                .path("pooled_jdbc_url")
                .asString();
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong ok = new AtomicLong();
        List<String> errors = java.util.Collections.synchronizedList(new ArrayList<>());
        // The URL as given, nothing added: that is what a user pastes into a Java application.
        CompletableFuture<Void> client = CompletableFuture.runAsync(() -> {
            try (Connection c = DriverManager.getConnection(url)) {
                c.setAutoCommit(true);
                long n = 0;
                while (running.get()) {
                    // The same statement over and over: pgjdbc would name it server-side from its fifth use
                    // with the default prepareThreshold, which fails through a transaction pooler.
                    try (PreparedStatement ps = c.prepareStatement("SELECT ?::int + 1")) {
                        for (int k = 0; k < 10; k++) {
                            ps.setInt(1, (int) n);
                            try (ResultSet rs = ps.executeQuery()) {
                                rs.next();
                                if (rs.getInt(1) != n + 1) {
                                    errors.add("wrong answer " + rs.getInt(1) + " for " + n);
                                }
                            }
                            n++;
                            ok.incrementAndGet();
                        }
                    } catch (SQLException e) {
                        errors.add(e.getMessage());
                    }
                }
            } catch (SQLException e) {
                errors.add("connect: " + e.getMessage());
            }
        });
        awaitAtLeast(ok, 200);
        for (int r = 0; r < 2; r++) {
            api.awaitTask(
                    "jdbc",
                    api.post("/v1/databases/jdbc/instances/n1/restart", "{}")
                            .expect(202)
                            .body());
        }
        long afterRestarts = ok.get();
        awaitAtLeast(ok, afterRestarts + 200);
        running.set(false);
        client.get(30, TimeUnit.SECONDS);
        System.out.printf("ConnectionIT: %d prepared executions through two restarts, errors %s%n", ok.get(), errors);
        assertThat(errors).isEmpty();
    }

    private static void awaitAtLeast(AtomicLong counter, long n) {
        org.awaitility.Awaitility.await()
                .atMost(java.time.Duration.ofSeconds(60))
                .pollInterval(java.time.Duration.ofMillis(10))
                .until(() -> counter.get() >= n);
    }
}
