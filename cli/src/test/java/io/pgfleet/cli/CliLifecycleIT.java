package io.pgfleet.cli;

import static io.pgfleet.cli.support.ServerProcess.port;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.pgfleet.cli.support.Cli;
import io.pgfleet.cli.support.Cli.Result;
import io.pgfleet.cli.support.RunningServer;
import io.pgfleet.cli.support.ServerProcess;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/** The whole lifecycle of a database with the CLI alone, against a real server and real Postgres. */
@ExtendWith(RunningServer.class)
class CliLifecycleIT {
    private static final ObjectMapper JSON = JsonMapper.builder().build();

    @Test
    void walksTheWholeLifecycleWithTheCliAlone(ServerProcess server) {
        Cli cli = Cli.against(server);
        List<Result> runs = new ArrayList<>();
        int n2Port = port(7440);

        Result create = ok(
                runs,
                cli.run(
                        "db",
                        "create",
                        "walk",
                        "--node",
                        "n1",
                        "--node",
                        "n2:" + n2Port,
                        "--user",
                        "admin:owner",
                        "--user",
                        "app",
                        "--label",
                        "team=billing",
                        "--wait"));
        assertThat(create.out())
                .as(create.toString())
                .startsWith("database walk is creating")
                .contains("node n1: available", "node n2: available")
                .containsPattern("create task [0-9a-f-]{36} completed in \\d+\\.\\d s");

        Result list = ok(runs, cli.run("db", "list"));
        assertThat(list.out())
                .as(list.toString())
                .startsWith("ID ")
                .containsPattern("(?m)^walk\\s+available\\s+n1,n2\\s+\\d+," + n2Port + "\\s+team=billing\\s");

        Result stop = ok(runs, cli.run("instance", "stop", "walk", "n1", "--wait"));
        assertThat(stop.out())
                .as(stop.toString())
                .contains("stop_instance task")
                .contains("completed");
        assertThat(ok(runs, cli.run("db", "get", "walk")).out())
                .containsPattern("(?m)^database:\\s+walk \\(degraded\\)$")
                .containsPattern("(?m)^n1\\s+\\S+-n1-\\S+\\s+host-1\\s+primary\\s+-\\s+\\d+\\s+-\\s+stopped\\s")
                .containsPattern("(?m)^n2\\s+\\S+\\s+host-1\\s+primary\\s+-\\s+" + n2Port + "\\s+-\\s+available\\s");

        ok(runs, cli.run("instance", "start", "walk", "n1", "--wait"));
        assertThat(ok(runs, cli.run("db", "get", "walk")).out())
                .containsPattern("(?m)^n1\\s+\\S+\\s+host-1\\s+primary\\s+-\\s+\\d+\\s+-\\s+available\\s");

        Result restartNow = ok(runs, cli.run("instance", "restart", "walk", "n1", "--wait"));
        assertThat(restartNow.out()).contains("restart_instance task").contains("completed");

        Instant at = Instant.now().plus(2, ChronoUnit.HOURS).truncatedTo(ChronoUnit.SECONDS);
        Result scheduled = ok(runs, cli.run("instance", "restart", "walk", "n2", "--at", at.toString(), "-o", "json"));
        JsonNode task = read(scheduled.out()).path("task");
        String taskId = task.path("task_id").asString();
        assertThat(task.path("status").asString()).isEqualTo("scheduled");
        assertThat(Instant.parse(task.path("scheduled_at").asString())).isEqualTo(at);

        Result relative = ok(runs, cli.run("instance", "restart", "walk", "n1", "--at", "+1h"));
        assertThat(relative.out()).containsPattern("restart_instance task [0-9a-f-]{36} is scheduled for ");
        String relativeId = relative.out().split(" ")[2];
        assertThat(ok(runs, cli.run("task", "get", "walk", relativeId, "-o", "json"))
                        .out())
                .satisfies(json -> assertThat(
                                Instant.parse(read(json).path("scheduled_at").asString()))
                        .isCloseTo(Instant.now().plus(1, ChronoUnit.HOURS), within(2, ChronoUnit.MINUTES)));

        assertThat(ok(runs, cli.run("task", "list", "walk")).out())
                .containsPattern("(?m)^" + taskId + "\\s+walk\\s+\\S+-n2-\\S+\\s+restart_instance\\s+scheduled\\s");

        Result cancel = ok(runs, cli.run("task", "cancel", "walk", taskId));
        assertThat(cancel.out()).isEqualTo("restart_instance task " + taskId + " is canceled\n");
        ok(runs, cli.run("task", "cancel", "walk", relativeId));
        Result again = run(runs, cli.run("task", "cancel", "walk", taskId));
        assertThat(again.exit()).as(again.toString()).isEqualTo(4);
        assertThat(again.err())
                .startsWith("pgfleet: task " + taskId + " is canceled")
                .contains("(invalid_state, HTTP 409)");

        Result log = ok(runs, cli.run("task", "log", "walk", taskId));
        assertThat(log.out()).contains("canceled").endsWith("task " + taskId + " is canceled\n");

        assertThat(ok(runs, cli.run("connect", "walk", "--node", "n2")).out())
                .isEqualTo("postgresql://admin:****@localhost:" + n2Port + "/walk\n");
        assertThat(ok(runs, cli.run("logs", "walk", "n1", "--tail", "5")).out()).isNotBlank();
        assertThat(ok(runs, cli.run("host", "list")).out()).containsPattern("(?m)^host-1\\s+healthy,leader\\s");

        Result delete = ok(runs, cli.run("db", "delete", "walk", "--yes", "--wait"));
        assertThat(delete.out()).contains("delete task").contains("completed");
        Result gone = run(runs, cli.run("db", "get", "walk"));
        assertThat(gone.exit()).as(gone.toString()).isEqualTo(3);
        assertThat(gone.err()).isEqualTo("pgfleet: database walk not found (not_found, HTTP 404)\n");
        assertThat(ok(runs, cli.run("db", "list")).out()).doesNotContain("walk");
        // Tasks outlive their database.
        assertThat(ok(runs, cli.run("task", "get", "walk", taskId)).out()).contains("canceled");

        for (Result r : runs) {
            // Not a terminal: no colors, no spinner, no carriage returns.
            assertThat(r.out() + r.err()).as(r.toString()).doesNotContain("\u001b", "\r");
        }
    }

    @Test
    void jsonOutputIsTheApisOwnJson(ServerProcess server) {
        Cli cli = Cli.against(server);
        List<Result> runs = new ArrayList<>();
        Result create = ok(runs, cli.run("db", "create", "json-db", "--user", "owner:owner", "-o", "json"));
        JsonNode created = read(create.out());
        assertThat(created.path("database").path("id").asString()).isEqualTo("json-db");
        assertThat(created.path("database").path("spec").path("database_name").asString())
                .isEqualTo("json_db");
        String taskId = created.path("task").path("task_id").asString();

        Result waited = ok(runs, cli.run("task", "wait", "json-db", taskId, "-o", "json"));
        assertThat(read(waited.out())).isEqualTo(read(server.get("/v1/databases/json-db/tasks/" + taskId)));
        assertThat(waited.err()).as("progress goes to stderr with -o json").contains("completed");

        assertThat(read(ok(runs, cli.run("db", "get", "json-db", "-o", "json")).out()))
                .isEqualTo(read(server.get("/v1/databases/json-db")));
        assertThat(read(ok(runs, cli.run("db", "list", "-o", "json")).out()))
                .isEqualTo(read(server.get("/v1/databases")));
        assertThat(read(ok(runs, cli.run("task", "list", "json-db", "-o", "json"))
                        .out()))
                .isEqualTo(read(server.get("/v1/databases/json-db/tasks")));
        assertThat(read(ok(runs, cli.run("task", "log", "json-db", taskId, "-o", "json"))
                        .out()))
                .isEqualTo(read(server.get("/v1/databases/json-db/tasks/" + taskId + "/log")));
        assertThat(read(ok(runs, cli.run("connect", "json-db", "-o", "json")).out()))
                .isEqualTo(read(server.get("/v1/databases/json-db/connection")));
        assertThat(read(ok(runs, cli.run("host", "list", "-o", "json")).out()))
                .isEqualTo(read(server.get("/v1/hosts")));

        Result stop = ok(runs, cli.run("instance", "stop", "json-db", "n1", "--wait", "-o", "json"));
        JsonNode stopped = read(stop.out());
        assertThat(stopped.path("task").path("status").asString()).isEqualTo("completed");
        assertThat(stopped.path("task"))
                .isEqualTo(read(server.get("/v1/databases/json-db/tasks/"
                        + stopped.path("task").path("task_id").asString())));

        ok(runs, cli.run("db", "delete", "json-db", "--yes", "--wait"));
        for (Result r : runs) {
            assertThat(r.out() + r.err()).as(r.toString()).doesNotContain("\u001b", "\r");
        }
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
