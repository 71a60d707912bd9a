package io.pgfleet.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.PropertyNamingStrategies;
import tools.jackson.databind.json.JsonMapper;

/** The few calls of pgfleet's REST API the bench makes, and the timed wait for a task to finish. */
final class PgfleetClient {
    private static final Duration TASK_TIMEOUT = Duration.ofMinutes(5);
    private static final long POLL_MILLIS = 5;

    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private final JsonMapper json = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .build();
    private final String base;
    private volatile String key;

    PgfleetClient(int port) {
        this.base = "http://127.0.0.1:" + port;
    }

    /** Calls from now on carry this API key (pgfleet writes the admin key to its home on first start). */
    void useKey(String apiKey) {
        this.key = apiKey;
    }

    record User(String username, String password, boolean dbOwner) {}

    record Node(String name) {}

    record Spec(String databaseName, List<Node> nodes, List<User> databaseUsers) {}

    record CreateRequest(String id, Spec spec) {}

    /** Whether {@code GET /v1/health} answers 200 now. */
    boolean isHealthy() {
        try {
            HttpResponse<String> response = http.send(
                    HttpRequest.newBuilder(URI.create(base + "/v1/health"))
                            .timeout(Duration.ofSeconds(2))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            return response.statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** POSTs the create and returns nanoseconds from the request until its task completed. */
    long create(String id, Spec spec) {
        return timed(id, "POST", "/v1/databases", json.writeValueAsString(new CreateRequest(id, spec)));
    }

    long stop(String id, String node) {
        return timed(id, "POST", "/v1/databases/" + id + "/instances/" + node + "/stop", null);
    }

    long start(String id, String node) {
        return timed(id, "POST", "/v1/databases/" + id + "/instances/" + node + "/start", null);
    }

    long restart(String id, String node) {
        return timed(id, "POST", "/v1/databases/" + id + "/instances/" + node + "/restart", "{}");
    }

    long delete(String id) {
        return timed(id, "DELETE", "/v1/databases/" + id, null);
    }

    /** The state of every instance of the database, e.g. {@code [available]}. */
    List<String> instanceStates(String id) {
        JsonNode db = send("GET", "/v1/databases/" + id, null, 200);
        return db.path("instances")
                .valueStream()
                .map(i -> i.path("state").asString())
                .toList();
    }

    /** Nanoseconds of one GET, which must answer {@code expected}. */
    long timedGet(String path, int expected) {
        long started = System.nanoTime();
        HttpResponse<String> response = exchange("GET", path, null);
        long elapsed = System.nanoTime() - started;
        if (response.statusCode() != expected) {
            throw new IllegalStateException("GET " + path + ": HTTP " + response.statusCode() + " (expected " + expected
                    + "): " + response.body());
        }
        return elapsed;
    }

    boolean exists(String id) {
        HttpResponse<String> response = exchange("GET", "/v1/databases/" + id, null);
        return response.statusCode() == 200;
    }

    private long timed(String id, String method, String path, String body) {
        long started = System.nanoTime();
        JsonNode accepted = send(method, path, body, 202);
        String taskId = accepted.path("task").path("task_id").asString();
        long deadline = started + TASK_TIMEOUT.toNanos();
        while (true) {
            JsonNode task = send("GET", "/v1/databases/" + id + "/tasks/" + taskId, null, 200);
            String status = task.path("status").asString();
            switch (status) {
                case "completed":
                    return System.nanoTime() - started;
                case "failed", "canceled":
                    throw new IllegalStateException(method + " " + path + ": task " + taskId + " " + status + ": "
                            + task.path("error").asString());
                default:
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException(method + " " + path + ": task " + taskId + " still " + status
                                + " after " + TASK_TIMEOUT.toMinutes() + " min");
                    }
                    RawPostgres.sleep(POLL_MILLIS);
            }
        }
    }

    /** GET returning the parsed body; fails on any status but 200. */
    JsonNode getJson(String path) {
        return send("GET", path, null, 200);
    }

    /** POST of a JSON body, without waiting for the task it starts. */
    JsonNode postJson(String path, String body, int expected) {
        return send("POST", path, body, expected);
    }

    private JsonNode send(String method, String path, String body, int expected) {
        HttpResponse<String> response = exchange(method, path, body);
        if (response.statusCode() != expected) {
            throw new IllegalStateException(method + " " + path + ": HTTP " + response.statusCode() + " (expected "
                    + expected + "): " + response.body());
        }
        return json.readTree(response.body());
    }

    private HttpResponse<String> exchange(String method, String path, String body) {
        HttpRequest.Builder request =
                HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
        if (key != null) {
            request.header("Authorization", "Bearer " + key);
        }
        if (body == null) {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            request.header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofString(body));
        }
        try {
            return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IllegalStateException(method + " " + path + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(method + " " + path + ": interrupted", e);
        }
    }
}
