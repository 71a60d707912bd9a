package io.pgfleet.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgfleet.server.support.ServerUnderTest;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The SSE stream answers with its headers at once and keeps an idle connection alive every 15 s. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EventStreamIT {
    private Path home;
    private ServerUnderTest server;

    @BeforeAll
    void startServer() {
        home = ServerUnderTest.newHome("sse");
        server = ServerUnderTest.start(home, 7740, 7749);
    }

    @AfterAll
    void stopServer() {
        if (server != null) {
            server.close();
        }
        ServerUnderTest.cleanUp(home);
    }

    @Test
    void headersArriveAtOnceAndAKeepAliveCommentFollowsAnIdleQuarterMinute() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        HttpRequest request = HttpRequest.newBuilder(URI.create(server.api().base() + "/v1/events/stream"))
                .header("Authorization", "Bearer " + server.api().key())
                .header("Accept", "text/event-stream")
                .GET()
                .build();
        long start = System.nanoTime();
        // send() returns when the status line and headers are in, before any body.
        HttpResponse<InputStream> response = http.sendAsync(request, HttpResponse.BodyHandlers.ofInputStream())
                .get(5, TimeUnit.SECONDS);
        Duration headers = Duration.ofNanos(System.nanoTime() - start);
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type").orElse("")).startsWith("text/event-stream");
        assertThat(headers).as("time to headers on an idle fleet").isLessThan(Duration.ofSeconds(3));

        try (BufferedReader body = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
            CompletableFuture<Duration> keepAlive = CompletableFuture.supplyAsync(() -> {
                try {
                    for (String line = body.readLine(); line != null; line = body.readLine()) {
                        if (line.equals(":keep-alive")) {
                            return Duration.ofNanos(System.nanoTime() - start);
                        }
                    }
                    throw new AssertionError("the stream ended without a keep-alive");
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            Duration after = keepAlive.get(25, TimeUnit.SECONDS);
            assertThat(after).isBetween(Duration.ofSeconds(14), Duration.ofSeconds(20));
        }
    }
}
