package io.pgfleet.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgfleet.server.support.Api;
import io.pgfleet.server.support.RawHttp;
import io.pgfleet.server.support.ServerUnderTest;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.core.MethodParameter;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMethod;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.method.HandlerMethod;
import org.springframework.web.servlet.mvc.method.RequestMappingInfo;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping;
import tools.jackson.databind.JsonNode;

/**
 * No 500, no HTML, no change for any input: every route, from the server's own handler mapping, is
 * called with a generated set of hostile path values, query parameters, bodies, content types and
 * methods; every answer must be a 4xx (or a harmless 2xx read) in problem+json, and the catalog must be
 * exactly as before.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HostileInputIT {
    private Path home;
    private ServerUnderTest server;
    private Api admin;
    private int port;
    private String taskId;

    @BeforeAll
    void startServer() {
        home = ServerUnderTest.newHome("hstl");
        // Streams the walk left are dropped after two keep-alives: short ones keep the test short.
        server = ServerUnderTest.start(home, 7850, 7869, "--pgfleet.events-keep-alive=1s");
        admin = server.api();
        port = Integer.parseInt(admin.base().substring(admin.base().lastIndexOf(':') + 1));
        JsonNode created = admin.post("/v1/databases", """
                        {"id": "fz", "labels": {"team": "x"}, "spec": {"database_name": "fz", "nodes": [{"name": "n1"}],
                         "database_users": [{"username": "app", "password": "app-pass-1"}]}}""").expect(202).body();
        admin.awaitTask("fz", created);
        taskId = created.path("task").path("task_id").asString();
        admin.post("/v1/tenants", "{\"name\": \"other\"}").expect(201);
    }

    @AfterAll
    void stopServer() {
        if (server != null) {
            server.close();
        }
        ServerUnderTest.cleanUp(home);
    }

    /** Strings that broke or could break something: NUL, bad escapes, huge, unicode, injection. */
    private static final List<String> HOSTILE = List.of(
            "\u0000",
            "a\u0000b",
            "%00",
            "%zz",
            "%",
            "%e2%82",
            "%ff",
            "%2F",
            "..%2F..%2Fetc%2Fpasswd",
            "'; drop table databases; --",
            "\"",
            "\\",
            "a\nb",
            "$(id)",
            "😀",
            "ÿ",
            "-1",
            "0",
            "1.5",
            "99999999999999999999",
            "true",
            " ",
            "x".repeat(3000),
            "+10000-01-01T00:00:00Z");

    /** Bodies no route may accept: each is malformed, mistyped, has an unknown field or a NUL. */
    private static final List<String> HOSTILE_BODIES = List.of(
            "{",
            "[]",
            "\"text\"",
            "123",
            "{\"no_such_field\": 1}",
            "{\"id\": \"\\u0000\", \"spec\": {}}",
            "{\"id\": 7, \"spec\": {\"database_name\": \"x\", \"nodes\": [{\"name\": \"n1\"}]}}",
            "{\"id\": \"x\", \"labels\": {\"k\": null}, \"spec\": {\"database_name\": \"x\", \"nodes\": [null]}}",
            "{\"id\": \"x\", \"spec\": {\"database_name\": \"x\", \"nodes\": [{\"name\": \"n1\", \"port\": 6001.5}]}}",
            "{\"spec\": {\"database_name\": \"fz\", \"nodes\": [{\"name\": \"n1\"}], \"database_users\":"
                    + " [{\"username\": \"app\", \"password\": 12345678}]}}",
            "{\"spec\": {\"database_name\": \"fz\", \"nodes\": [{\"name\": \"n1\"}], \"postgresql_conf\":"
                    + " {\"work_mem\": \"a\\u0000\"}}}",
            "{\"scheduled_at\": \"+10000-01-01T00:00:00Z\"}",
            "{\"scheduled_at\": \"\"}",
            "{\"scheduled_at\": 12}",
            "{\"only_if_pending\": \"yes\"}",
            "{\"reason\": \"a\\u0000\"}",
            "{\"reason\": 7}",
            "{\"name\": \"\\u0000\", \"role\": \"viewer\"}",
            "{\"name\": 5, \"role\": \"viewer\"}",
            "[".repeat(3000),
            "{\"a\": \"" + "x".repeat(2 << 20) + "\"}");

    @Test
    void everyRouteAnswersHostileInputWithA4xxProblemAndChangesNothing() throws Exception {
        String before = catalogSnapshot();
        List<Call> calls = hostileCalls();
        long started = System.nanoTime();
        List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        // In parallel: a hostile client does not wait either, and the walk stays short on a loaded machine.
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(6);
        try {
            List<java.util.concurrent.Future<?>> done = new ArrayList<>();
            for (Call call : calls) {
                done.add(pool.submit(() -> check(failures, call)));
            }
            for (java.util.concurrent.Future<?> f : done) {
                f.get(2, java.util.concurrent.TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
        }
        long millis = (System.nanoTime() - started) / 1_000_000;
        System.out.printf("HostileInputIT: %d hostile calls in %d ms%n", calls.size(), millis);
        assertThat(failures).as("answers to %d hostile calls", calls.size()).isEmpty();
        assertThat(calls).hasSizeGreaterThan(1500);
        assertThat(catalogSnapshot())
                .as("the catalog after %d hostile calls", calls.size())
                .isEqualTo(before);
        assertThat(admin.instanceState("fz", "n1")).isEqualTo("available");
        // Every event stream the walk opened was left by its client at once: each is dropped.
        io.pgfleet.server.events.EventStream streams = server.bean(io.pgfleet.server.events.EventStream.class);
        org.awaitility.Awaitility.await()
                .atMost(java.time.Duration.ofSeconds(15))
                .until(() -> streams.subscriberCount() == 0);
    }

    @Test
    void eachInputTheAdversarialRunFoundIsA400Problem() {
        String before = catalogSnapshot();
        String create = "{\"id\": \"x\", \"spec\": {\"database_name\": \"x\", \"nodes\": [{\"name\": \"n1\"%s}]%s}%s}";
        List<String[]> cases = List.of(
                new String[] {"GET", "/v1/databases?state=%00", null},
                new String[] {"GET", "/v1/databases?label=team%3Dx%00", null},
                new String[] {"GET", "/v1/databases?cursor=AAAA%00", null},
                new String[] {"GET", "/v1/events?type=a%00", null},
                new String[] {"GET", "/v1/databases?label=%zz", null},
                new String[] {"GET", "/v1/databases?label=%", null},
                new String[] {"GET", "/v1/databases?label=%e2%82", null},
                new String[] {"GET", "/v1/databases/a%2Fb", null},
                new String[] {"GET", "/v1/databases/a%00b", null},
                new String[] {"GET", "/v1/databases/" + "a".repeat(8200), null},
                new String[] {"POST", "/v1/databases", create.formatted("", "", ", \"labels\": {\"k\": \"a\\u0000\"}")},
                new String[] {"POST", "/v1/databases/fz/suspend", "{\"reason\": \"unpaid\\u0000\"}"},
                new String[] {"POST", "/v1/api-keys", "{\"name\": \"ci\\u0000\", \"role\": \"viewer\"}"},
                new String[] {"POST", "/v1/tenants", "{\"name\": \"t\\u0000\"}"},
                new String[] {
                    "POST", "/v1/databases/fz/instances/n1/restart", "{\"scheduled_at\": \"+10000-01-01T00:00:00Z\"}"
                },
                new String[] {"POST", "/v1/databases/fz/instances/n1/restart", "{\"scheduled_at\": \"\"}"},
                new String[] {
                    "POST",
                    "/v1/databases",
                    create.formatted(", \"port\": 6001.5", "", "").replace("\"x\"", "\"y\"")
                },
                new String[] {
                    "POST",
                    "/v1/databases",
                    "{\"id\": 7, \"spec\": {\"database_name\": \"x\", \"nodes\": [{\"name\": \"n1\"}]}}"
                },
                new String[] {"POST", "/v1/databases/fz/suspend", "{\"reason\": 42}"},
                new String[] {
                    "POST",
                    "/v1/databases",
                    create.formatted("", ", \"database_users\": [{\"username\": \"a\", \"password\": 12345678}]", "")
                });
        for (String[] c : cases) {
            Map<String, String> headers = new LinkedHashMap<>();
            headers.put("Authorization", "Bearer " + admin.key());
            if (c[2] != null) {
                headers.put("Content-Type", "application/json");
            }
            RawHttp.Answer answer = RawHttp.send(
                    port, c[0], c[1], headers, c[2] == null ? null : c[2].getBytes(StandardCharsets.UTF_8));
            assertThat(answer.status())
                    .as("%s %s %s: %s", c[0], abbreviate(c[1]), c[2], answer.body())
                    .isEqualTo(400);
            assertThat(answer.contentType()).as("%s %s", c[0], abbreviate(c[1])).startsWith("application/problem+json");
            assertThat(answer.body()).contains("\"code\":\"bad_request\"").doesNotContain("Exception");
        }
        for (String type : List.of("multipart/form-data; boundary=x", "*/*")) {
            RawHttp.Answer answer = RawHttp.send(
                    port,
                    "POST",
                    "/v1/databases",
                    Map.of("Authorization", "Bearer " + admin.key(), "Content-Type", type),
                    create.formatted("", "", "").getBytes(StandardCharsets.UTF_8));
            assertThat(answer.status()).as(type).isEqualTo(400);
            assertThat(answer.body()).contains("Content-Type").contains("application/json");
        }
        RawHttp.Answer trace = RawHttp.send(port, "TRACE", "/v1/databases", Map.of(), null);
        assertThat(trace.status()).isEqualTo(405);
        assertThat(trace.contentType()).startsWith("application/problem+json");

        // Limits on counts: 422 naming the field.
        StringBuilder labels = new StringBuilder();
        for (int i = 0; i < 65; i++) {
            labels.append(i == 0 ? "" : ", ").append("\"k").append(i).append("\": \"v\"");
        }
        Api.Response tooManyLabels = admin.post(
                        "/v1/databases", create.formatted("", "", ", \"labels\": {" + labels + "}"))
                .expect(422);
        assertThat(tooManyLabels.body().toString()).contains("65 labels; at most 64");
        StringBuilder conf = new StringBuilder();
        for (int i = 0; i < 201; i++) {
            conf.append(i == 0 ? "" : ", ").append("\"x.p").append(i).append("\": \"1\"");
        }
        admin.post("/v1/databases", create.formatted("", ", \"postgresql_conf\": {" + conf + "}", ""))
                .expect(422);
        assertThat(catalogSnapshot()).isEqualTo(before);
    }

    /** One request of the walk: the route it aims at, the raw target, and a body with its content type. */
    private record Call(Route route, String target, String body, String contentType) {}

    private List<Call> hostileCalls() {
        List<Call> calls = new ArrayList<>();
        for (Route route : routes()) {
            // Hostile values in each path variable, the others real where a real one exists.
            for (String value : HOSTILE) {
                for (String variable : route.variables()) {
                    calls.add(new Call(route, route.path(variable, value, realValues()), null, null));
                }
            }
            // Hostile query parameters on the route's real path (reads only: a write with a valid path and no
            // body could succeed).
            String realPath = route.path(null, null, realValues());
            if (route.method().equals("GET")) {
                for (String parameter : route.parameters()) {
                    for (String value : HOSTILE) {
                        calls.add(new Call(route, realPath + "?" + parameter + "=" + raw(value), null, null));
                    }
                }
            }
            // Hostile bodies and content types where the route reads a body.
            if (route.takesBody()) {
                for (String body : HOSTILE_BODIES) {
                    calls.add(new Call(route, realPath, body, "application/json"));
                }
                for (String type : List.of(
                        "multipart/form-data; boundary=x",
                        "*/*",
                        "application/*",
                        "text/plain",
                        "application/x-www-form-urlencoded",
                        "application/json; charset=\u00ff",
                        "nonsense")) {
                    calls.add(new Call(route, realPath, "{\"no_such_field\": 1}", type));
                }
            }
            calls.add(new Call(
                    new Route("TRACE", route.pattern(), route.variables(), List.of(), false), realPath, null, null));
        }
        // What Tomcat refuses before pgfleet sees it.
        Route any = new Route("GET", "/v1/databases/{databaseId}", List.of("databaseId"), List.of(), false);
        for (String target : List.of(
                "/v1/databases/a%2Fb",
                "/v1/databases/a%00b",
                "/v1/databases/" + "a".repeat(9000),
                "/v1/databases?label=" + "b".repeat(9000),
                "/v1/%zz",
                "/v1/databases/%c0%af")) {
            calls.add(new Call(any, target, null, null));
        }
        return calls;
    }

    private Map<String, String> realValues() {
        return Map.of("databaseId", "fz", "instanceId", "n1", "taskId", taskId, "tenant", "other", "hostId", "host-1");
    }

    /** One call; records a failure when the answer is a 5xx, HTML, or a refusal that is not problem+json. */
    private void check(List<String> failures, Call call) {
        Route route = call.route();
        String target = call.target();
        String body = call.body();
        String contentType = call.contentType();
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Authorization", "Bearer " + admin.key());
        if (contentType != null) {
            headers.put("Content-Type", contentType);
        }
        RawHttp.Answer answer = RawHttp.send(
                port, route.method(), target, headers, body == null ? null : body.getBytes(StandardCharsets.UTF_8));
        String shown = route.method() + " " + abbreviate(target) + (body == null ? "" : " body " + abbreviate(body))
                + (contentType == null ? "" : " as " + contentType);
        if (answer.status() >= 500) {
            failures.add(shown + " -> " + answer.status() + " " + abbreviate(answer.body()));
        } else if (answer.contentType().startsWith("text/html") || answer.body().contains("<html")) {
            failures.add(shown + " -> HTML " + answer.status());
        } else if (answer.status() >= 400 && !answer.contentType().startsWith("application/problem+json")) {
            failures.add(shown + " -> " + answer.status() + " as " + answer.contentType());
        } else if (answer.status() < 400 && !route.method().equals("GET")) {
            failures.add(shown + " -> " + answer.status() + ": a hostile write was accepted");
        } else if (answer.body().contains("Exception") || answer.body().contains("\tat ")) {
            failures.add(shown + " -> a stack trace or exception name: " + abbreviate(answer.body()));
        }
    }

    /** Everything a refused call must not change (timestamps that move by themselves left out). */
    private String catalogSnapshot() {
        JdbcClient catalog = server.bean(JdbcClient.class);
        StringBuilder sb = new StringBuilder();
        for (String query : List.of(
                "select string_agg(uuid || id || labels::text || spec::text || suspended, '|' order by id) from databases",
                "select string_agg(database_uuid || username, '|' order by database_uuid, username) from database_users",
                "select string_agg(id || state || port || coalesce(pooler_port, 0) || pending_restart, '|' order by id)"
                        + " from instances",
                "select string_agg(task_id || status || type, '|' order by task_id) from tasks",
                "select count(*)::text from task_log",
                "select count(*)::text from events",
                "select string_agg(id || name, '|' order by id) from tenants",
                "select string_agg(id || tenant_id || name || role || coalesce(revoked_at::text, ''), '|' order by id)"
                        + " from api_keys",
                "select string_agg(host_id || port || instance_id, '|' order by host_id, port) from port_reservations")) {
            sb.append(catalog.sql(query).query(String.class).optional().orElse(""))
                    .append('\n');
        }
        return sb.toString();
    }

    /** A value as a client would put it in a URL: escapes kept raw, the rest percent-encoded. */
    private static String raw(String value) {
        if (value.startsWith("%") || value.contains("%2F") || value.contains("%e2")) {
            return value;
        }
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    private static String abbreviate(String s) {
        String printable = s.replace("\u0000", "\\0").replace("\n", "\\n");
        return printable.length() > 100 ? printable.substring(0, 100) + "…" : printable;
    }

    /** A route of the handler mapping: its method, pattern, path variables, query parameters, body. */
    private record Route(
            String method, String pattern, List<String> variables, List<String> parameters, boolean takesBody) {
        String path(String variable, String value, Map<String, String> real) {
            String path = pattern;
            for (String v : variables) {
                String replacement = v.equals(variable) ? raw(value) : real.getOrDefault(v, "nope");
                path = path.replace("{" + v + "}", replacement);
            }
            return path;
        }
    }

    private List<Route> routes() {
        RequestMappingHandlerMapping mapping =
                server.bean("requestMappingHandlerMapping", RequestMappingHandlerMapping.class);
        List<Route> routes = new ArrayList<>();
        for (Map.Entry<RequestMappingInfo, HandlerMethod> entry :
                mapping.getHandlerMethods().entrySet()) {
            RequestMappingInfo info = entry.getKey();
            HandlerMethod handler = entry.getValue();
            List<String> parameters = new ArrayList<>();
            boolean body = false;
            for (MethodParameter p : handler.getMethodParameters()) {
                MethodParameter parameter = p;
                parameter.initParameterNameDiscovery(new org.springframework.core.DefaultParameterNameDiscoverer());
                RequestParam param = parameter.getParameterAnnotation(RequestParam.class);
                if (param != null) {
                    parameters.add(param.name().isEmpty() ? parameter.getParameterName() : param.name());
                }
                body |= parameter.hasParameterAnnotation(RequestBody.class);
            }
            Set<RequestMethod> methods = info.getMethodsCondition().getMethods();
            for (String pattern : info.getPatternValues()) {
                if (pattern.equals("/error")) {
                    continue;
                }
                Set<String> variables = new TreeSet<>();
                java.util.regex.Matcher m =
                        java.util.regex.Pattern.compile("\\{([^}]+)}").matcher(pattern);
                while (m.find()) {
                    variables.add(m.group(1));
                }
                for (RequestMethod method : methods.isEmpty() ? Set.of(RequestMethod.GET) : methods) {
                    routes.add(new Route(method.name(), pattern, List.copyOf(variables), parameters, body));
                }
            }
        }
        assertThat(routes).hasSizeGreaterThan(25);
        return routes;
    }
}
