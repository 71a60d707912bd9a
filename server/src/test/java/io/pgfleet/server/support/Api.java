package io.pgfleet.server.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** A small HTTP client for the pgfleet API, as a user with curl would call it. */
public final class Api {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private final String base;
    private final String key;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    Api(String base, String key) {
        this.base = base;
        this.key = key;
    }

    /** A client of a pgfleet server at {@code base}, e.g. one a test runs as a child process. */
    public static Api of(String base, String key) {
        return new Api(base, key);
    }

    /** The same server, called with another key (null: no key at all). */
    public Api withKey(String otherKey) {
        return new Api(base, otherKey);
    }

    /** The same server, acting in another tenant (admin keys only) through X-Pgfleet-Tenant. */
    public Api inTenant(String tenant) {
        Api api = new Api(base, key);
        api.tenant = tenant;
        return api;
    }

    private String tenant;

    /** A response: status, content type and the parsed body. */
    public record Response(int status, String contentType, JsonNode body, String location) {
        public Response(int status, String contentType, JsonNode body) {
            this(status, contentType, body, null);
        }

        public String code() {
            return body.path("code").asString();
        }

        public Response expect(int expected) {
            assertThat(status).as("HTTP status; body: %s", body).isEqualTo(expected);
            return this;
        }
    }

    public String key() {
        return key;
    }

    /** The body of a plain-text response, e.g. the Prometheus scrape. */
    public static String raw(HttpRequest request) {
        try {
            return HttpClient.newHttpClient()
                    .send(request, HttpResponse.BodyHandlers.ofString())
                    .body();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public String base() {
        return base;
    }

    public Response get(String path) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).GET());
    }

    public Response put(String path, String json) {
        return send(HttpRequest.newBuilder(URI.create(base + path))
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(json)));
    }

    public Response post(String path, String json) {
        return send(HttpRequest.newBuilder(URI.create(base + path))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    public Response delete(String path) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).DELETE());
    }

    public Response send(HttpRequest.Builder request) {
        try {
            if (key != null) {
                request.setHeader("Authorization", "Bearer " + key);
            }
            if (tenant != null) {
                request.setHeader("X-Pgfleet-Tenant", tenant);
            }
            HttpResponse<String> response =
                    http.send(request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
            String body = response.body();
            JsonNode json = body == null || body.isBlank() ? JSON.createObjectNode() : JSON.readTree(body);
            return new Response(
                    response.statusCode(),
                    response.headers().firstValue("Content-Type").orElse(""),
                    json,
                    response.headers().firstValue("Location").orElse(null));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public JsonNode database(String id) {
        return get("/v1/databases/" + id).expect(200).body();
    }

    public JsonNode instance(String databaseId, String node) {
        for (JsonNode instance : database(databaseId).path("instances")) {
            if (instance.path("node_name").asString().equals(node)) {
                return instance;
            }
        }
        throw new AssertionError("no node " + node + " in " + databaseId);
    }

    public String instanceState(String databaseId, String node) {
        return instance(databaseId, node).path("state").asString();
    }

    public JsonNode task(String databaseId, String taskId) {
        return get("/v1/databases/" + databaseId + "/tasks/" + taskId)
                .expect(200)
                .body();
    }

    /** Waits until the task has ended and returns it; fails with the task log if it did not complete. */
    public JsonNode awaitTask(String databaseId, JsonNode accepted, String expectedStatus) {
        String taskId = accepted.path("task").path("task_id").asString();
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> isEnded(task(databaseId, taskId).path("status").asString()));
        JsonNode task = task(databaseId, taskId);
        assertThat(task.path("status").asString())
                .as(
                        "task %s; log: %s",
                        task,
                        get("/v1/databases/" + databaseId + "/tasks/" + taskId + "/log")
                                .body())
                .isEqualTo(expectedStatus);
        return task;
    }

    public JsonNode awaitTask(String databaseId, JsonNode accepted) {
        return awaitTask(databaseId, accepted, "completed");
    }

    private static boolean isEnded(String status) {
        return status.equals("completed") || status.equals("failed") || status.equals("canceled");
    }
}
