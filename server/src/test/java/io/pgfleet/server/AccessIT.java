package io.pgfleet.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgfleet.server.events.AuditAggregator;
import io.pgfleet.server.support.Api;
import io.pgfleet.server.support.ServerUnderTest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.web.bind.annotation.RequestMethod;
import org.springframework.web.servlet.mvc.method.RequestMappingInfo;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Keys, roles, tenants, audit, events, suspend and paging: who may do what, and the record of it. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AccessIT {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private Path home;
    private ServerUnderTest server;
    private Api admin;

    @BeforeAll
    void startServer() {
        home = ServerUnderTest.newHome("acc");
        server = ServerUnderTest.start(home, 7400, 7439);
        admin = server.api();
    }

    @AfterAll
    void stopServer() {
        if (server != null) {
            server.close();
        }
        ServerUnderTest.cleanUp(home);
    }

    /** Every route the server has, from its handler mapping, so a new route cannot escape. */
    private List<String[]> routes() {
        RequestMappingHandlerMapping mapping =
                server.bean("requestMappingHandlerMapping", RequestMappingHandlerMapping.class);
        List<String[]> routes = new ArrayList<>();
        for (RequestMappingInfo info : mapping.getHandlerMethods().keySet()) {
            Set<RequestMethod> methods = info.getMethodsCondition().getMethods();
            for (String pattern : info.getPatternValues()) {
                if (pattern.equals("/error")) {
                    continue; // Spring's error page, not a route of the API
                }
                String path = pattern.replaceAll("\\{[^}]+}", UUID.randomUUID().toString());
                for (RequestMethod method : methods.isEmpty() ? Set.of(RequestMethod.GET) : methods) {
                    routes.add(new String[] {method.name(), path, pattern});
                }
            }
        }
        routes.add(new String[] {"GET", "/actuator/prometheus", "/actuator/prometheus"});
        assertThat(routes).hasSizeGreaterThan(25);
        return routes;
    }

    /** The status alone: the documentation also answers in YAML and HTML. */
    private static int statusWithoutKey(String url) {
        try {
            return java.net.http.HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create(url)).GET().build(),
                            java.net.http.HttpResponse.BodyHandlers.discarding())
                    .statusCode();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static Api.Response call(Api api, String method, String path) {
        return api.send(HttpRequest.newBuilder(URI.create(api.base() + path))
                .header("Content-Type", "application/json")
                .method(method, HttpRequest.BodyPublishers.ofString(method.equals("GET") ? "" : "{}")));
    }

    @Test
    void everyRouteButHealthNeedsAKeyAndAViewerMayNotChangeAnything() {
        Api anonymous = admin.withKey(null);
        Api viewer = admin.withKey(createKey(admin, "viewer", null));
        for (String[] route : routes()) {
            String method = route[0];
            String path = route[1];
            if (path.equals("/v1/openapi.json") || path.startsWith("/v3/api-docs") || path.startsWith("/swagger-ui")) {
                // The API's documentation is public on purpose (README: The API); it holds no tenant's data.
                assertThat(statusWithoutKey(anonymous.base() + path))
                        .as("%s %s without a key", method, route[2])
                        .isIn(200, 302);
                continue;
            }
            Api.Response withoutKey = call(anonymous, method, path);
            if (path.equals("/v1/cluster/join-options")) {
                // A joining host has no key yet; its join token is the proof, and "{}" holds none.
                assertThat(withoutKey.status())
                        .as("%s %s without a token", method, route[2])
                        .isEqualTo(401);
                assertThat(withoutKey.code()).isEqualTo("unauthorized");
                assertThat(withoutKey.body().toString()).contains("join token");
                continue;
            }
            if (path.equals("/v1/health")) {
                assertThat(withoutKey.status()).isEqualTo(200);
                continue;
            }
            assertThat(withoutKey.status())
                    .as("%s %s without a key", method, route[2])
                    .isEqualTo(401);
            assertThat(withoutKey.code()).isEqualTo("unauthorized");
            assertThat(withoutKey.contentType()).startsWith("application/problem+json");
            // A viewer opens and ends its own console session (POST and DELETE /v1/session); nothing else.
            if (!method.equals("GET") && !route[2].equals("/v1/session")) {
                Api.Response asViewer = call(viewer, method, path);
                assertThat(asViewer.status())
                        .as("%s %s as a viewer", method, route[2])
                        .isEqualTo(403);
                assertThat(asViewer.code()).isEqualTo("forbidden");
            }
        }
        assertThat(call(admin.withKey("pgf_aaaaaaaaaaaa_" + "x".repeat(43)), "GET", "/v1/databases")
                        .status())
                .isEqualTo(401);
        assertThat(call(admin.withKey("not a key"), "GET", "/v1/databases").status())
                .isEqualTo(401);
    }

    @Test
    void anotherTenantsDatabaseDoesNotExistForYou() throws Exception {
        admin.post("/v1/tenants", "{\"name\": \"alpha\"}").expect(201);
        admin.post("/v1/tenants", "{\"name\": \"beta\"}").expect(201);
        String aKey = createKey(admin, "operator", "alpha");
        String aKeyId = aKey.split("_")[1];
        Api a = admin.withKey(aKey);
        Api b = admin.withKey(createKey(admin, "operator", "beta"));

        // Opened before anything happens in alpha: beta's stream must stay silent about it.
        List<String> betaStream = new CopyOnWriteArrayList<>();
        CompletableFuture<?> betaSse = openStream(b, null, betaStream);

        JsonNode privateCreate =
                a.post("/v1/databases", oneNode("private-a")).expect(202).body();
        JsonNode aExample =
                a.post("/v1/databases", oneNode("example")).expect(202).body();
        JsonNode bExample =
                b.post("/v1/databases", oneNode("example")).expect(202).body();
        a.awaitTask("private-a", privateCreate);
        a.awaitTask("example", aExample);
        b.awaitTask("example", bExample);
        String aTask = privateCreate.path("task").path("task_id").asString();
        String aInstance =
                a.database("private-a").path("instances").get(0).path("id").asString();

        assertThat(b.database("example").path("instances").get(0).path("id").asString())
                .isNotEqualTo(a.database("example")
                        .path("instances")
                        .get(0)
                        .path("id")
                        .asString());
        for (String path : List.of(
                "/v1/databases/private-a",
                "/v1/databases/private-a/tasks",
                "/v1/databases/private-a/tasks/" + aTask,
                "/v1/databases/private-a/tasks/" + aTask + "/log",
                "/v1/databases/example/tasks/"
                        + aExample.path("task").path("task_id").asString(),
                "/v1/databases/private-a/instances/n1/logs",
                "/v1/databases/private-a/instances/" + aInstance + "/logs",
                "/v1/databases/private-a/connection")) {
            Api.Response response = b.get(path);
            assertThat(response.status()).as("beta reading %s", path).isEqualTo(404);
            assertThat(response.body().path("detail").asString()).doesNotContain(aInstance);
        }
        for (String path : List.of(
                "/v1/databases/private-a/instances/n1/stop",
                "/v1/databases/private-a/instances/n1/restart",
                "/v1/databases/private-a/suspend")) {
            assertThat(b.post(path, path.endsWith("suspend") ? "{\"reason\": \"x\"}" : "{}")
                            .status())
                    .as("beta posting %s", path)
                    .isEqualTo(404);
        }
        assertThat(b.delete("/v1/databases/private-a").status()).isEqualTo(404);
        assertThat(b.delete("/v1/databases/private-a/tasks/" + aTask).status()).isEqualTo(404);
        assertThat(b.get("/v1/databases").expect(200).body().toString()).doesNotContain("private-a");
        assertThat(b.get("/v1/databases").expect(200).body().path("total").asInt())
                .isEqualTo(1);
        assertThat(b.get("/v1/tasks?limit=500").expect(200).body().toString()).doesNotContain(aTask);
        assertThat(b.get("/v1/events?database_id=private-a").expect(200).body().path("events"))
                .isEmpty();
        assertThat(b.get("/v1/events?limit=500").expect(200).body().toString()).doesNotContain("private-a");
        // Beta sees the record of its own probes, never alpha's calls.
        assertThat(b.get("/v1/audit?limit=500").expect(200).body().toString()).doesNotContain(aKeyId);
        assertThat(b.get("/v1/api-keys").expect(200).body().path("api_keys")).hasSize(1);

        await().atMost(Duration.ofSeconds(5)).until(() -> betaStream.stream().anyMatch(l -> l.startsWith("data:")));
        assertThat(String.join("\n", betaStream)).doesNotContain("private-a").contains("example");
        betaSse.cancel(true);

        for (Api api : List.of(a, b)) {
            api.awaitTask(
                    "example", api.delete("/v1/databases/example").expect(202).body());
        }
        a.awaitTask("private-a", a.delete("/v1/databases/private-a").expect(202).body());
    }

    @Test
    void aRevokedKeyStopsWorkingAtOnceAndNoSecretIsStored() {
        JsonNode created = admin.post("/v1/api-keys", "{\"name\": \"ci\", \"role\": \"operator\"}")
                .expect(201)
                .body();
        String key = created.path("key").asString();
        String id = created.path("api_key").path("id").asString();
        assertThat(key).startsWith("pgf_" + id + "_");
        Api ci = admin.withKey(key);
        ci.get("/v1/databases").expect(200);
        assertThat(admin.get("/v1/api-keys").expect(200).body().toString())
                .contains(id)
                .doesNotContain(key.substring(("pgf_" + id + "_").length())); // the secret may hold '_' itself

        admin.delete("/v1/api-keys/" + id).expect(200);
        assertThat(ci.get("/v1/databases").status()).isEqualTo(401);

        JdbcClient catalog = server.bean(JdbcClient.class);
        String secret = key.substring(("pgf_" + id + "_").length()); // it may hold '_' itself
        for (String table : List.of("api_keys", "audit", "events", "tasks", "task_log")) {
            String dump = catalog.sql("select coalesce(string_agg(t::text, ' '), '') from " + table + " t")
                    .query(String.class)
                    .single();
            assertThat(dump).as("table %s", table).doesNotContain(secret);
        }
        String adminSecret = ServerUnderTest.adminKey(home);
        assertThat(catalog.sql("select string_agg(t::text, ' ') from api_keys t")
                        .query(String.class)
                        .single())
                .doesNotContain(adminSecret.substring(adminSecret.indexOf('_', "pgf_".length()) + 1));
    }

    @Test
    void eachMutationLeavesExactlyOneAuditRecordAndRefusalsToo() {
        JdbcClient catalog = server.bean(JdbcClient.class);
        long before = auditCount(catalog);
        Api.Response accepted = admin.post("/v1/databases", oneNode("audited"));
        accepted.expect(202);
        List<Map<String, Object>> rows = catalog.sql(
                        "select * from audit where audit_id > (select coalesce(max(audit_id), 0) - 1 from audit)")
                .query()
                .listOfRows();
        assertThat(auditCount(catalog)).isEqualTo(before + 1);
        Map<String, Object> row = rows.get(rows.size() - 1);
        assertThat(row.get("action")).isEqualTo("POST /v1/databases");
        assertThat(row.get("outcome")).isEqualTo("succeeded");
        assertThat(row.get("status")).isEqualTo(202);
        assertThat(row.get("key_id")).isNotNull();
        assertThat(row.get("tenant_id")).isNotNull();
        assertThat(row.get("client")).isEqualTo("127.0.0.1");
        assertThat((String) row.get("request_id")).isNotBlank();

        admin.post("/v1/databases", oneNode("audited")).expect(409);
        long conflictId = lastAuditId(catalog);
        assertThat(catalog.sql("select outcome from audit where audit_id = ?")
                        .param(conflictId)
                        .query(String.class)
                        .single())
                .isEqualTo("conflict");
        // Refusals (401, 403) are counted per caller, status and minute, in rows the aggregator writes.
        AuditAggregator refusals = server.bean(AuditAggregator.class);
        refusals.flush();
        long unauthenticated = refusedCount(catalog, 401);
        long forbidden = refusedCount(catalog, 403);
        admin.withKey(null).post("/v1/databases", oneNode("nokey")).expect(401);
        admin.withKey(createKey(admin, "viewer", null))
                .post("/v1/databases", oneNode("viewer"))
                .expect(403);
        refusals.flush();
        assertThat(refusedCount(catalog, 401)).isEqualTo(unauthenticated + 1);
        assertThat(refusedCount(catalog, 403)).isEqualTo(forbidden + 1);
        List<String> outcomes = catalog.sql("select outcome from audit where audit_id > ? order by audit_id")
                .param(conflictId)
                .query(String.class)
                .list();
        // The admin creating the viewer's key; the viewer's first refusal is a row of its own (a new key).
        assertThat(outcomes).contains("succeeded", "forbidden").doesNotContain("conflict");
        admin.awaitTask("audited", accepted.body());
        admin.awaitTask(
                "audited", admin.delete("/v1/databases/audited").expect(202).body());
    }

    @Test
    void theEventStreamDeliversStateChangesInOrderAndResumesFromLastEventId() throws Exception {
        admin.awaitTask(
                "streamed",
                admin.post("/v1/databases", oneNode("streamed")).expect(202).body());
        List<String> lines = new CopyOnWriteArrayList<>();
        CompletableFuture<?> sse = openStream(admin, null, lines);
        admin.awaitTask(
                "streamed",
                admin.post("/v1/databases/streamed/instances/n1/stop", "")
                        .expect(202)
                        .body());
        admin.awaitTask(
                "streamed",
                admin.post("/v1/databases/streamed/instances/n1/start", "")
                        .expect(202)
                        .body());
        List<String> expected =
                List.of("available->stopping", "stopping->stopped", "stopped->starting", "starting->available");
        await().atMost(Duration.ofSeconds(10)).until(() -> transitions(lines).size() >= 4);
        sse.cancel(true);
        assertThat(transitions(lines)).containsExactlyElementsOf(expected);

        // Reconnect as a browser would, from the second state change: the last two come again, in order.
        String secondId = ids(lines, "instance.state_changed").get(1);
        List<String> resumed = new CopyOnWriteArrayList<>();
        CompletableFuture<?> again = openStream(admin, secondId, resumed);
        await().atMost(Duration.ofSeconds(10)).until(() -> transitions(resumed).size() >= 2);
        again.cancel(true);
        assertThat(transitions(resumed)).startsWith("stopped->starting", "starting->available");
        admin.awaitTask(
                "streamed", admin.delete("/v1/databases/streamed").expect(202).body());
    }

    @Test
    void aSuspendedDatabaseRefusesToStartUntilUnsuspended() {
        admin.awaitTask(
                "paused",
                admin.post("/v1/databases", oneNode("paused")).expect(202).body());
        admin.awaitTask(
                "paused",
                admin.post("/v1/databases/paused/suspend", "{\"reason\": \"invoice 42 unpaid\"}")
                        .expect(202)
                        .body());
        assertThat(admin.database("paused").path("state").asString()).isEqualTo("suspended");
        assertThat(admin.instanceState("paused", "n1")).isEqualTo("stopped");
        JsonNode refused = admin.post("/v1/databases/paused/instances/n1/start", "")
                .expect(409)
                .body();
        assertThat(refused.path("detail").asString()).contains("invoice 42 unpaid");
        assertThat(admin.post("/v1/databases/paused/instances/n1/restart", "{}").status())
                .isEqualTo(409);
        assertThat(admin.get("/v1/databases?state=suspended").expect(200).body().toString())
                .contains("paused");
        admin.awaitTask(
                "paused",
                admin.post("/v1/databases/paused/unsuspend", "").expect(202).body());
        assertThat(admin.instanceState("paused", "n1")).isEqualTo("available");
        assertThat(admin.database("paused").path("state").asString()).isEqualTo("available");
        admin.awaitTask(
                "paused", admin.delete("/v1/databases/paused").expect(202).body());
    }

    @Test
    void pagingAThousandDatabasesReturnsEachOnceWhileRowsAreInserted() throws Exception {
        admin.post("/v1/tenants", "{\"name\": \"paged\"}").expect(201);
        Api paged = admin.inTenant("paged");
        String tenant =
                admin.get("/v1/tenants/paged").expect(200).body().path("id").asString();
        JdbcClient catalog = server.bean(JdbcClient.class);
        for (int i = 0; i < 1000; i++) {
            insertDatabase(catalog, tenant, "db-%04d".formatted(i * 2));
        }
        AtomicBoolean inserting = new AtomicBoolean(true);
        CompletableFuture<Integer> writer = CompletableFuture.supplyAsync(() -> {
            int n = 0;
            while (inserting.get() && n < 500) {
                insertDatabase(catalog, tenant, "db-%04d".formatted(n * 2 + 1)); // between existing ids
                n++;
            }
            return n;
        });
        List<String> seen = new ArrayList<>();
        String cursor = null;
        do {
            JsonNode page = paged.get("/v1/databases?limit=37" + (cursor == null ? "" : "&cursor=" + cursor))
                    .expect(200)
                    .body();
            page.path("databases").forEach(d -> seen.add(d.path("id").asString()));
            cursor = page.path("next_cursor").isNull()
                    ? null
                    : page.path("next_cursor").asString();
        } while (cursor != null);
        inserting.set(false);
        int inserted = writer.join();
        assertThat(new HashSet<>(seen)).as("no database twice").hasSize(seen.size());
        for (int i = 0; i < 1000; i++) {
            assertThat(seen).contains("db-%04d".formatted(i * 2));
        }
        assertThat(paged.get("/v1/databases?limit=1")
                        .expect(200)
                        .body()
                        .path("total")
                        .asInt())
                .isEqualTo(1000 + inserted);
        assertThat(paged.get("/v1/databases?limit=501").status()).isEqualTo(400);
        assertThat(paged.get("/v1/databases?cursor=bogus").status()).isEqualTo(400);
    }

    @Test
    void hostileInputIsRefusedAndChangesNothing() {
        long before =
                admin.get("/v1/databases").expect(200).body().path("total").asLong();
        String huge = "{\"id\": \"big\", \"spec\": {\"database_name\": \"" + "x".repeat(2 << 20) + "\"}}";
        assertThat(admin.post("/v1/databases", huge).status()).isEqualTo(413);
        for (String body : List.of(
                "{\"id\": \"x'; drop table databases; --\", \"spec\": {\"database_name\": \"x\", \"nodes\": [{\"name\": \"n1\"}]}}",
                "{\"id\": \"a\\u0000b\", \"spec\": {\"database_name\": \"x\", \"nodes\": [{\"name\": \"n1\"}]}}",
                "{\"id\": \"ok\", \"labels\": {\"k\": \"" + "v".repeat(10_000)
                        + "\"}, \"spec\": {\"database_name\": \"x\", \"nodes\": [{\"name\": \"n1\"}]}}",
                "{\"id\": \"ok\", \"spec\": {\"database_name\": \"" + "d".repeat(10_000)
                        + "\", \"nodes\": [{\"name\": \"n1\"}]}}",
                "{\"id\": \"ok\", \"spec\": {\"database_name\": \"x\", \"nodes\": [{\"name\": \"" + "n".repeat(10_000)
                        + "\"}]}}",
                "{\"id\": \"ok\", \"spec\": {\"database_name\": \"x\", \"nodes\": [{\"name\": \"n1\"}], \"database_users\": [{\"username\": \""
                        + "u".repeat(10_000) + "\"}]}}",
                "{\"id\": \"ok\", \"spec\": {\"database_name\": \"x\", \"nodes\": [{\"name\": \"n1\"}], \"database_users\": [{\"username\": \"u\", \"password\": \""
                        + "p".repeat(10_000) + "\"}]}}",
                "{\"id\": \"ok\", \"spec\": {\"database_name\": \"x\\ny\", \"nodes\": [{\"name\": \"n1\"}]}}")) {
            Api.Response response = admin.post("/v1/databases", body);
            assertThat(response.status())
                    .as("body %s…", body.substring(0, Math.min(80, body.length())))
                    .isBetween(400, 499);
            assertThat(response.contentType()).startsWith("application/problem+json");
        }
        assertThat(admin.post("/v1/databases/x/suspend", "{\"reason\": \"" + "r".repeat(5000) + "\"}")
                        .status())
                .isBetween(400, 499);
        assertThat(admin.post("/v1/tenants", "{\"name\": \"Robert'); DROP TABLE tenants;--\"}")
                        .status())
                .isEqualTo(422);
        assertThat(admin.get("/v1/databases").expect(200).body().path("total").asLong())
                .isEqualTo(before);
    }

    @Test
    void metricsNeedAnAdminKeyAndCountInstancesAndTasks() {
        assertThat(admin.withKey(null).get("/actuator/prometheus").status()).isEqualTo(401);
        HttpRequest request = HttpRequest.newBuilder(URI.create(admin.base() + "/actuator/prometheus"))
                .header("Authorization", "Bearer " + ServerUnderTest.adminKey(home))
                .build();
        String text = Api.raw(request);
        assertThat(text).contains("pgfleet_instances{").contains("http_server_requests_seconds");
    }

    // ---- helpers ----

    private static long refusedCount(JdbcClient catalog, int status) {
        return catalog.sql("select coalesce(sum(count), 0) from audit where status = ?")
                .param(status)
                .query(Long.class)
                .single();
    }

    private static String createKey(Api api, String role, String tenant) {
        String body = tenant == null
                ? "{\"name\": \"" + role + "\", \"role\": \"" + role + "\"}"
                : "{\"name\": \"" + role + "\", \"role\": \"" + role + "\", \"tenant\": \"" + tenant + "\"}";
        return api.post("/v1/api-keys", body).expect(201).body().path("key").asString();
    }

    private static String oneNode(String id) {
        return "{\"id\": \"" + id + "\", \"spec\": {\"database_name\": \"" + id.replace('-', '_')
                + "\", \"nodes\": [{\"name\": \"n1\"}]}}";
    }

    private static void insertDatabase(JdbcClient catalog, String tenant, String id) {
        catalog.sql("insert into databases (uuid, tenant_id, id, spec, state) values (?, ?, ?, ?::jsonb, 'stopped')")
                .params(UUID.randomUUID(), tenant, id, "{\"database_name\": \"x\", \"nodes\": []}")
                .update();
    }

    private static long auditCount(JdbcClient catalog) {
        return catalog.sql("select count(*) from audit").query(Long.class).single();
    }

    private static long lastAuditId(JdbcClient catalog) {
        return catalog.sql("select max(audit_id) from audit").query(Long.class).single();
    }

    private static CompletableFuture<?> openStream(Api api, String lastEventId, List<String> lines) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(api.base() + "/v1/events/stream"))
                .header("Accept", "text/event-stream")
                .header("Authorization", "Bearer " + api.key());
        if (lastEventId != null) {
            request.header("Last-Event-ID", lastEventId);
        }
        CompletableFuture<HttpResponse<Stream<String>>> response =
                HttpClient.newHttpClient().sendAsync(request.build(), HttpResponse.BodyHandlers.ofLines());
        return response.thenAcceptAsync(r -> r.body().forEach(lines::add));
    }

    /** "from->to" of each instance.state_changed event received, in order. */
    private static List<String> transitions(List<String> lines) {
        List<String> result = new ArrayList<>();
        for (String line : lines) {
            if (line.startsWith("data:") && line.contains("instance.state_changed")) {
                JsonNode event = JSON.readTree(line.substring(5));
                result.add(event.path("fields").path("from").asString() + "->"
                        + event.path("fields").path("to").asString());
            }
        }
        return result;
    }

    private static List<String> ids(List<String> lines, String type) {
        List<String> ids = new ArrayList<>();
        String id = null;
        for (String line : lines) {
            if (line.startsWith("id:")) {
                id = line.substring(3).trim();
            } else if (line.startsWith("data:") && line.contains(type)) {
                ids.add(id);
            }
        }
        return ids;
    }
}
