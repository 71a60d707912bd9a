package io.pgfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.pgfleet.cli.support.Cli;
import io.pgfleet.cli.support.Cli.Result;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
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
    void followReconnectsWhenTheConnectionBreaksMidStream() throws Exception {
        List<String> requests = new CopyOnWriteArrayList<>();
        try (ServerSocket socket = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
            Thread server = new Thread(() -> {
                try {
                    for (int connection = 0; connection < 2; connection++) {
                        try (Socket client = socket.accept()) {
                            BufferedReader in = new BufferedReader(
                                    new InputStreamReader(client.getInputStream(), StandardCharsets.US_ASCII));
                            StringBuilder head = new StringBuilder();
                            for (String line = in.readLine(); line != null && !line.isEmpty(); line = in.readLine()) {
                                head.append(line).append('\n');
                            }
                            requests.add(head.toString());
                            String event = connection == 0
                                    ? "id: 41\ndata: {\"type\":\"a\",\"message\":\"first\"}\n\n"
                                    : "id: 42\ndata: {\"type\":\"b\",\"message\":\"second\"}\n\n";
                            OutputStream out = client.getOutputStream();
                            out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                                            + "Transfer-Encoding: chunked\r\n\r\n"
                                            + Integer.toHexString(event.length()) + "\r\n" + event + "\r\n")
                                    .getBytes(StandardCharsets.US_ASCII));
                            out.flush();
                            if (connection == 1) {
                                // Hold the second connection until the client hangs up.
                                in.read();
                            }
                            // The first one ends here without the last chunk: a broken connection.
                        }
                    }
                } catch (IOException e) {
                    requests.add("server failed: " + e);
                }
            });
            server.start();
            String url = "http://127.0.0.1:" + socket.getLocalPort();
            Result r = Cli.withEnv(Map.of("PGFLEET_SERVER", url, "PGFLEET_API_KEY", "pgf_test_secret"))
                    .run("events", "-f", "--max-events", "2", "--timeout", "30");
            server.join(10_000);
            assertThat(r.exit()).as(r.toString()).isZero();
            assertThat(r.out()).as(r.toString()).isEqualTo("-  a  first\n-  b  second\n");
            assertThat(r.err())
                    .as(r.toString())
                    .contains("the event stream dropped (")
                    .contains("after event 41");
            assertThat(requests).hasSize(2);
            assertThat(requests.get(0)).doesNotContainIgnoringCase("Last-Event-ID");
            assertThat(requests.get(1)).containsIgnoringCase("Last-Event-ID: 41");
        }
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
