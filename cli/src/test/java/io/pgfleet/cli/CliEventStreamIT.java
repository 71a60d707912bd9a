package io.pgfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.pgfleet.cli.support.Cli;
import io.pgfleet.cli.support.Cli.Result;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code events -f} over a real HTTP connection that a small server drops on purpose: the CLI must
 * reconnect with {@code Last-Event-ID} and lose nothing. The pgfleet server never drops a healthy
 * stream, so this one stands in for a proxy or a restart in between.
 */
class CliEventStreamIT {
    private HttpServer http;
    private final List<String> lastEventIds = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws IOException {
        http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        http.createContext("/v1/events/stream", this::stream);
        http.start();
    }

    @AfterEach
    void stop() {
        http.stop(0);
    }

    /** The first connection sends event 7 (with a keep-alive and a two-line data) and hangs up; later ones send 8. */
    private void stream(HttpExchange exchange) throws IOException {
        String last = exchange.getRequestHeaders().getFirst("Last-Event-ID");
        lastEventIds.add(last == null ? "none" : last);
        exchange.getResponseHeaders().add("Content-Type", "text/event-stream");
        exchange.sendResponseHeaders(200, 0);
        try (OutputStream out = exchange.getResponseBody()) {
            String body = last == null
                    ? ":keep-alive\n\nid:7\nevent:database.suspended\ndata:{\"event_id\":7,\"type\":\"database.suspended\","
                            + "\ndata:\"message\":\"database a suspended: why\"}\n\n"
                    : "id: 8\nevent: database.unsuspended\r\ndata: {\"event_id\": 8, \"type\": \"database.unsuspended\","
                            + " \"message\": \"database a unsuspended\"}\r\n\r\n";
            out.write(body.getBytes(StandardCharsets.UTF_8));
        }
    }

    @Test
    void followReconnectsWithLastEventIdAfterADroppedConnection() {
        String url = "http://127.0.0.1:" + http.getAddress().getPort();
        Result r = Cli.withEnv(Map.of("PGFLEET_SERVER", url, "PGFLEET_API_KEY", "pgf_test_secret"))
                .run("events", "-f", "--max-events", "2", "--timeout", "30");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out())
                .as(r.toString())
                .isEqualTo("-  database.suspended  database a suspended: why\n"
                        + "-  database.unsuspended  database a unsuspended\n");
        assertThat(r.err()).isEqualTo("pgfleet: the event stream ended; reconnecting after event 7\n");
        assertThat(lastEventIds).containsExactly("none", "7");
    }

    @Test
    void followEndsAtItsTimeoutWhenNothingHappens() {
        http.removeContext("/v1/events/stream");
        http.createContext("/v1/events/stream", exchange -> {
            exchange.getResponseHeaders().add("Content-Type", "text/event-stream");
            exchange.sendResponseHeaders(200, 0);
            exchange.getResponseBody().write(":keep-alive\n\n".getBytes(StandardCharsets.UTF_8));
            exchange.getResponseBody().flush();
            // Keep the connection open without a word, as a quiet pgfleet server does.
        });
        String url = "http://127.0.0.1:" + http.getAddress().getPort();
        long started = System.nanoTime();
        Result r = Cli.withEnv(Map.of("PGFLEET_SERVER", url, "PGFLEET_API_KEY", "pgf_test_secret"))
                .run("events", "-f", "--timeout", "1");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).isEmpty();
        assertThat((System.nanoTime() - started) / 1_000_000).isBetween(900L, 10_000L);
    }
}
