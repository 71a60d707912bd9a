package io.pgfleet.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgfleet.server.support.Api;
import io.pgfleet.server.support.Postgres;
import io.pgfleet.server.support.ServerUnderTest;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The figures operators chart, read from /actuator/prometheus as Prometheus would: databases by state,
 * heal restarts, the task queue, the pooler's clients and servers; named by Prometheus' conventions.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MetricsIT {
    private static final Path PROMTOOL = Path.of("/usr/bin/promtool");
    private Path home;
    private ServerUnderTest server;
    private Api api;

    @BeforeAll
    void startServer() {
        home = ServerUnderTest.newHome("metr");
        server = ServerUnderTest.start(
                home,
                7880,
                7899,
                "--pgfleet.metrics-interval=300ms",
                "--pgfleet.health-interval=250ms",
                "--pgfleet.heal-backoff-initial=100ms");
        api = server.api();
        api.awaitTask("charted", api.post("/v1/databases", """
                        {"id": "charted", "spec": {"database_name": "app", "nodes": [{"name": "n1"}],
                          "database_users": [{"username": "web", "password": "web-pw-1", "db_owner": true}],
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
    void poolerFiguresShowAClientInATransaction() throws Exception {
        int pooler = api.instance("charted", "n1").path("pooler_port").asInt();
        String tags = "database=\"charted\",node=\"n1\",state=";
        try (Connection c = Postgres.connectPooled(pooler, "app", "web", "web-pw-1")) {
            c.setAutoCommit(false);
            Postgres.queryOne(c, "SELECT 1"); // in a transaction: the client holds a server connection
            await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
                String text = scrape();
                assertThat(value(text, "pgfleet_pooler_clients{" + tags + "\"active\"}"))
                        .isEqualTo(1.0);
                assertThat(value(text, "pgfleet_pooler_servers{" + tags + "\"active\"}"))
                        .isEqualTo(1.0);
            });
            c.rollback();
        }
        String text = scrape();
        assertThat(value(text, "pgfleet_pooler_clients{" + tags + "\"waiting\"}"))
                .isZero();
        assertThat(text).contains("pgfleet_pooler_max_wait_seconds{database=\"charted\",node=\"n1\"}");
    }

    @Test
    void databasesByStateTheQueueAndHealRestartsAreCounted() throws Exception {
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(value(scrape(), "pgfleet_databases{state=\"available\"}"))
                        .isEqualTo(1.0));
        String text = scrape();
        assertThat(value(text, "pgfleet_task_queue_depth")).isZero();
        assertThat(value(text, "pgfleet_task_queue_oldest_age_seconds")).isZero();
        assertThat(value(text, "pgfleet_heal_give_ups_total")).isZero();
        double healedBefore = value(text, "pgfleet_heal_restarts_total{outcome=\"completed\"}");

        Path pidFile = home.resolve("instances")
                .resolve(api.instance("charted", "n1").path("id").asString())
                .resolve("data/postmaster.pid");
        long pid = Long.parseLong(Files.readAllLines(pidFile).get(0).trim());
        ProcessHandle.of(pid).orElseThrow().destroyForcibly();
        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> assertThat(value(scrape(), "pgfleet_heal_restarts_total{outcome=\"completed\"}"))
                        .isEqualTo(healedBefore + 1));
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(value(scrape(), "pgfleet_databases{state=\"available\"}"))
                        .isEqualTo(1.0));
    }

    @Test
    void pgfleetsOwnMetricsFollowPrometheusConventions() throws Exception {
        String ours = ownMetrics(scrape());
        Matcher type = Pattern.compile("(?m)^# TYPE (\\S+) (\\S+)$").matcher(ours);
        int families = 0;
        while (type.find()) {
            families++;
            String name = type.group(1);
            assertThat(name).matches("pgfleet_[a-z0-9_]+");
            if (type.group(2).equals("counter")) {
                assertThat(name).as("a counter's name ends in _total").endsWith("_total");
            } else {
                assertThat(name).as("only counters end in _total").doesNotEndWith("_total");
            }
            assertThat(name).as("base units only").doesNotContain("millis", "_ms", "minutes", "bytes_kb");
        }
        assertThat(families).isGreaterThanOrEqualTo(9);
        if (Files.isExecutable(PROMTOOL)) {
            Process promtool = new ProcessBuilder(PROMTOOL.toString(), "check", "metrics")
                    .redirectErrorStream(true)
                    .start();
            promtool.getOutputStream().write(ours.getBytes(StandardCharsets.UTF_8));
            promtool.getOutputStream().close();
            String said = new String(promtool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(promtool.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(said).as("promtool check metrics").isEmpty();
            assertThat(promtool.exitValue()).isZero();
        }
    }

    /** The lines of pgfleet's own families (their HELP, TYPE and samples). */
    private static String ownMetrics(String text) {
        StringBuilder ours = new StringBuilder();
        for (String line : text.split("\n")) {
            String name = line.startsWith("# ") ? line.split(" ")[2] : line.split("[{ ]")[0];
            if (name.startsWith("pgfleet_")) {
                ours.append(line).append('\n');
            }
        }
        return ours.toString();
    }

    private String scrape() {
        HttpRequest request = HttpRequest.newBuilder(URI.create(api.base() + "/actuator/prometheus"))
                .header("Authorization", "Bearer " + ServerUnderTest.adminKey(home))
                .build();
        return Api.raw(request);
    }

    /** The sample whose name and labels are exactly {@code series}; fails when it is absent. */
    private static double value(String text, String series) throws IOException {
        for (String line : List.of(text.split("\n"))) {
            if (line.startsWith(series + " ")) {
                return Double.parseDouble(
                        line.substring(series.length() + 1).trim().split(" ")[0]);
            }
        }
        throw new AssertionError("no sample " + series + " in:\n" + ownMetrics(text));
    }
}
