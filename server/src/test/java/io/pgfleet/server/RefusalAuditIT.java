package io.pgfleet.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgfleet.server.support.Api;
import io.pgfleet.server.support.ServerUnderTest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tools.jackson.databind.JsonNode;

/** Refused calls are audited in aggregate: 10,000 bad-key calls add a few rows that count them all. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RefusalAuditIT {
    private static final int BAD_CALLS = 10_000;
    private Path home;
    private ServerUnderTest server;
    private Api api;

    @BeforeAll
    void startServer() {
        home = ServerUnderTest.newHome("refuse");
        server = ServerUnderTest.start(home, 7840, 7849);
        api = server.api();
    }

    @AfterAll
    void stopServer() {
        if (server != null) {
            server.close();
        }
        ServerUnderTest.cleanUp(home);
    }

    @Test
    void tenThousandBadKeyCallsAddAFewAuditRowsThatCountThemAll() throws Exception {
        long rowsBefore = total();
        Api stranger = api.withKey("pgf_aaaaaaaaaaaa_" + "x".repeat(43));
        AtomicInteger refused = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> calls = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                calls.add(pool.submit(() -> {
                    for (int i = 0; i < BAD_CALLS / 8; i++) {
                        stranger.get("/v1/databases").expect(401);
                        refused.incrementAndGet();
                    }
                }));
            }
            for (Future<?> f : calls) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(refused.get()).isEqualTo(BAD_CALLS);

        JsonNode audit = api.get("/v1/audit?limit=20").expect(200).body();
        long added = audit.path("total").asLong() - rowsBefore;
        // One row per minute the flood spanned (it may straddle a minute boundary or two).
        assertThat(added).as(audit.toString()).isBetween(1L, 3L);
        long counted = 0;
        for (JsonNode row : audit.path("audit")) {
            if (row.path("status").asInt() == 401) {
                assertThat(row.path("outcome").asString()).isEqualTo("unauthenticated");
                assertThat(row.path("client").asString()).isEqualTo("127.0.0.1");
                assertThat(row.path("last_at").asString()).isNotEmpty();
                counted += row.path("count").asLong();
            }
        }
        assertThat(counted).isEqualTo(BAD_CALLS);
        System.out.printf("RefusalAuditIT: %d bad-key calls, %d audit rows%n", BAD_CALLS, added);
    }

    @Test
    void aViewersRefusalsAreOneRowPerMinuteForItsKeyAndMutationsStillOneEach() {
        JsonNode created = api.post("/v1/api-keys", "{\"name\": \"looker\", \"role\": \"viewer\"}")
                .expect(201)
                .body();
        String viewerId = created.path("api_key").path("id").asString();
        Api viewer = api.withKey(created.path("key").asString());
        long before = total();
        for (int i = 0; i < 50; i++) {
            viewer.delete("/v1/api-keys/" + viewerId).expect(403);
        }
        JsonNode audit = api.get("/v1/audit?limit=5").expect(200).body();
        long added = audit.path("total").asLong() - before;
        assertThat(added).isBetween(1L, 2L);
        long counted = 0;
        for (JsonNode row : audit.path("audit")) {
            if (viewerId.equals(row.path("key_id").asString())
                    && row.path("status").asInt() == 403) {
                // Refused before routing: the action names the path as called.
                assertThat(row.path("action").asString()).isEqualTo("DELETE /v1/api-keys/" + viewerId);
                counted += row.path("count").asLong();
            }
        }
        assertThat(counted).isEqualTo(50);

        // A call that changes something is still one row of its own, written with the change.
        api.post("/v1/tenants", "{\"name\": \"audited\"}").expect(201);
        JsonNode newest =
                api.get("/v1/audit?limit=1").expect(200).body().path("audit").get(0);
        assertThat(newest.path("action").asString()).isEqualTo("POST /v1/tenants");
        assertThat(newest.path("count").asLong()).isEqualTo(1);
    }

    private long total() {
        return api.get("/v1/audit?limit=1").expect(200).body().path("total").asLong();
    }
}
