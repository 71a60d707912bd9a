package io.pgfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgfleet.cli.support.Cli;
import io.pgfleet.cli.support.Cli.Result;
import io.pgfleet.cli.support.RunningServer;
import io.pgfleet.cli.support.ServerProcess;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/** Tenants, keys, roles, suspension and the live event stream, with the CLI alone against a real server. */
@ExtendWith(RunningServer.class)
class CliAccessIT {
    private static final ObjectMapper JSON = JsonMapper.builder().build();
    private static final Pattern PRINTED_KEY = Pattern.compile("(?m)^  (pgf_\\S+)$");

    @Test
    void anOperatorKeyWorksInItsTenantUntilRevoked(ServerProcess server) throws Exception {
        Cli admin = Cli.against(server);
        List<Result> runs = new ArrayList<>();
        String tenant = "acme-" + UUID.randomUUID().toString().substring(0, 8);

        Result created = ok(runs, admin.run("tenant", "create", tenant));
        assertThat(created.out()).startsWith("tenant " + tenant + " created (id ");
        assertThat(ok(runs, admin.run("tenant", "list")).out())
                .startsWith("NAME ")
                .containsPattern("(?m)^default\\s")
                .containsPattern("(?m)^" + tenant + "\\s+[0-9a-f-]{36}\\s");
        assertThat(read(ok(runs, admin.run("tenant", "get", tenant, "-o", "json"))
                        .out()))
                .isEqualTo(read(server.get("/v1/tenants/" + tenant)));
        assertThat(read(ok(runs, admin.run("tenant", "list", "-o", "json")).out()))
                .isEqualTo(read(server.get("/v1/tenants")));
        Result noTenant = run(runs, admin.run("tenant", "get", "nowhere-" + tenant));
        assertThat(noTenant.exit()).as(noTenant.toString()).isEqualTo(3);
        assertThat(noTenant.err())
                .isEqualTo("pgfleet: tenant nowhere-" + tenant + " not found (not_found, HTTP 404)\n");
        Result again = run(runs, admin.run("tenant", "create", tenant));
        assertThat(again.exit()).as(again.toString()).isEqualTo(4);
        assertThat(again.err()).contains("tenant " + tenant + " already exists (already_exists, HTTP 409)");

        // The key is printed once, plainly, with a warning on stderr that it will not be shown again.
        Result operator = ok(runs, admin.run("--tenant", tenant, "apikey", "create", "ci", "--role", "operator"));
        assertThat(operator.out()).startsWith("operator key ").contains("(ci) created in tenant " + tenant + ":");
        assertThat(operator.err()).contains("it is not shown again");
        String operatorKey = printedKey(operator);
        String operatorKeyId = operator.out().split(" ")[2];

        JsonNode viewerJson = read(
                ok(runs, admin.run("--tenant", tenant, "apikey", "create", "dash", "--role", "viewer", "-o", "json"))
                        .out());
        assertThat(viewerJson.path("api_key").path("role").asString()).isEqualTo("viewer");
        String viewerKey = viewerJson.path("key").asString();
        String viewerKeyId = viewerJson.path("api_key").path("id").asString();
        assertThat(viewerKey).startsWith("pgf_");

        Result keys = ok(runs, admin.run("apikey", "list"));
        assertThat(keys.out())
                .startsWith("ID ")
                .containsPattern("(?m)^" + operatorKeyId + "\\s+ci\\s+operator\\s")
                .doesNotContain(operatorKey);
        assertThat(read(ok(runs, admin.run("apikey", "list", "-o", "json")).out()))
                .isEqualTo(read(server.get("/v1/api-keys")));

        // The operator creates a database in its tenant; only that tenant lists it.
        Cli op = Cli.against(server);
        Result create = ok(runs, op.run("--api-key", operatorKey, "db", "create", "acc", "--wait"));
        assertThat(create.out()).contains("create task").contains("completed");
        assertThat(ok(runs, op.run("--api-key", operatorKey, "db", "list")).out())
                .containsPattern("(?m)^acc\\s+available\\s");
        assertThat(ok(runs, admin.run("db", "list")).out()).doesNotContainPattern("(?m)^acc\\s");
        assertThat(ok(runs, admin.run("--tenant", tenant, "db", "list")).out())
                .containsPattern("(?m)^acc\\s+available\\s");
        assertThat(read(ok(runs, op.run("--api-key", operatorKey, "db", "list", "-o", "json"))
                        .out()))
                .isEqualTo(read(server.get("/v1/databases", operatorKey)));

        // A follower started now sees the suspension that comes after it. It starts from the last event
        // seen, not from "now", so the test does not race its connection against the suspension.
        long lastEvent = 0;
        for (JsonNode e : read(ok(runs, op.run("--api-key", operatorKey, "events", "--database", "acc", "-o", "json"))
                        .out())
                .path("events")) {
            lastEvent = Math.max(lastEvent, e.path("event_id").asLong());
        }
        String before = Long.toString(lastEvent);
        ExecutorService thread = Executors.newSingleThreadExecutor();
        Future<Result> following;
        Future<Result> followingJson;
        try {
            following = thread.submit(() -> op.run(
                    "--api-key",
                    operatorKey,
                    "events",
                    "-f",
                    "--database",
                    "acc",
                    "--type",
                    "database.suspended",
                    "--after",
                    before,
                    "--max-events",
                    "1",
                    "--timeout",
                    "120"));
            Result suspend = ok(
                    runs,
                    op.run(
                            "--api-key",
                            operatorKey,
                            "db",
                            "suspend",
                            "acc",
                            "--reason",
                            "invoice 42 unpaid",
                            "--wait"));
            assertThat(suspend.out()).contains("suspend task").contains("completed");
            Result followed = following.get(150, TimeUnit.SECONDS);
            runs.add(followed);
            assertThat(followed.exit()).as(followed.toString()).isZero();
            assertThat(followed.out())
                    .as(followed.toString())
                    .containsPattern("(?m)^\\S+Z  database\\.suspended  database acc suspended: invoice 42 unpaid$");

            // The same stream as JSON, replayed from before the suspension: one API event per line.
            followingJson = thread.submit(() -> op.run(
                    "--api-key",
                    operatorKey,
                    "events",
                    "-f",
                    "--database",
                    "acc",
                    "--type",
                    "instance.state_changed",
                    "--after",
                    before,
                    "--max-events",
                    "2",
                    "--timeout",
                    "120",
                    "-o",
                    "json"));
            Result streamed = followingJson.get(150, TimeUnit.SECONDS);
            runs.add(streamed);
            assertThat(streamed.exit()).as(streamed.toString()).isZero();
            String[] lines = streamed.out().split("\n");
            assertThat(lines).hasSize(2);
            JsonNode listed = read(server.get(
                    "/v1/events?database_id=acc&type=instance.state_changed&limit=2&after_id=" + before, operatorKey));
            assertThat(read(lines[0])).isEqualTo(listed.path("events").get(0));
            assertThat(read(lines[1])).isEqualTo(listed.path("events").get(1));
            assertThat(read(lines[1]).path("fields").path("to").asString()).isEqualTo("stopped");
        } finally {
            thread.shutdownNow();
        }

        Result refused = run(runs, op.run("--api-key", operatorKey, "instance", "start", "acc", "n1"));
        assertThat(refused.exit()).as(refused.toString()).isEqualTo(4);
        assertThat(refused.err())
                .isEqualTo("pgfleet: database acc is suspended (invoice 42 unpaid); unsuspend it first"
                        + " (invalid_state, HTTP 409)\n");

        Result unsuspend = ok(runs, op.run("--api-key", operatorKey, "db", "unsuspend", "acc", "--wait"));
        assertThat(unsuspend.out()).contains("unsuspend task").contains("completed");
        assertThat(ok(runs, op.run("--api-key", operatorKey, "db", "get", "acc"))
                        .out())
                .containsPattern("(?m)^database:\\s+acc \\(available\\)$")
                .containsPattern("(?m)^n1\\s+\\S+\\s+host-1\\s+primary\\s+-\\s+\\d+\\s+-\\s+available\\s");

        // A viewer reads, and is refused any change.
        assertThat(ok(runs, op.run("--api-key", viewerKey, "db", "list")).out()).containsPattern("(?m)^acc\\s");
        Result forbidden = run(runs, op.run("--api-key", viewerKey, "db", "delete", "acc", "--yes"));
        assertThat(forbidden.exit()).as(forbidden.toString()).isEqualTo(1);
        assertThat(forbidden.err())
                .startsWith("pgfleet: viewer keys are read-only;")
                .contains("(forbidden, HTTP 403)");

        // The operator sees its tenant's audit trail, the viewer's refusal included.
        Result audit = ok(runs, op.run("--api-key", operatorKey, "audit", "--limit", "5"));
        assertThat(audit.out())
                .startsWith("AT ")
                .containsPattern("(?m)\\s" + viewerKeyId + "\\s+DELETE /v1/databases/acc\\s+403\\s+forbidden\\s");
        assertThat(read(ok(runs, op.run("--api-key", operatorKey, "audit", "-o", "json"))
                        .out()))
                .isEqualTo(read(server.get("/v1/audit", operatorKey)));

        Result revoke = ok(runs, admin.run("apikey", "revoke", operatorKeyId, "--yes"));
        assertThat(revoke.out()).startsWith("operator key " + operatorKeyId + " (ci) revoked at ");
        Result unauthorized = run(runs, op.run("--api-key", operatorKey, "db", "list"));
        assertThat(unauthorized.exit()).as(unauthorized.toString()).isEqualTo(1);
        assertThat(unauthorized.err())
                .startsWith("pgfleet: the API key is malformed, unknown or revoked (unauthorized, HTTP 401)");
        Result revokedTwice = run(runs, admin.run("apikey", "revoke", operatorKeyId, "--yes"));
        assertThat(revokedTwice.exit()).as(revokedTwice.toString()).isEqualTo(4);

        ok(runs, admin.run("--tenant", tenant, "db", "delete", "acc", "--yes", "--wait"));
        for (Result r : runs) {
            assertThat(r.out() + r.err()).as(r.toString()).doesNotContain("\u001b", "\r");
        }
    }

    private static String printedKey(Result r) {
        Matcher m = PRINTED_KEY.matcher(r.out());
        assertThat(m.find()).as(r.toString()).isTrue();
        return m.group(1);
    }

    private static Result ok(List<Result> runs, Result r) {
        runs.add(r);
        assertThat(r.exit()).as(r.toString()).isZero();
        return r;
    }

    private static Result run(List<Result> runs, Result r) {
        runs.add(r);
        return r;
    }

    private static JsonNode read(String json) {
        return JSON.readTree(json);
    }
}
