package io.pgfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgfleet.cli.support.Cli;
import io.pgfleet.cli.support.Cli.Result;
import io.pgfleet.cli.support.RunningServer;
import io.pgfleet.cli.support.ServerProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Every failure is one sentence with the server's code and the documented exit code. */
@ExtendWith(RunningServer.class)
class CliErrorsIT {

    @Test
    void badFlagsExitTwoWithAUsageLine(ServerProcess server) {
        Cli cli = Cli.against(server);
        Result unknown = cli.run("db", "create", "x", "--bogus");
        assertThat(unknown.exit()).as(unknown.toString()).isEqualTo(2);
        assertThat(unknown.err())
                .startsWith("pgfleet: Unknown option: '--bogus'\nUsage: pgfleet db create ")
                .endsWith("Try 'pgfleet db create --help' for more information.\n");
        assertThat(unknown.out()).isEmpty();

        Result missing = cli.run("instance", "stop", "x");
        assertThat(missing.exit()).isEqualTo(2);
        assertThat(missing.err()).contains("Missing required parameter: 'INSTANCE'", "Usage: pgfleet instance stop");

        Result badTime = cli.run("instance", "restart", "x", "n1", "--at", "tomorrow");
        assertThat(badTime.exit()).isEqualTo(2);
        assertThat(badTime.err())
                .startsWith("pgfleet: --at tomorrow is not a time; use an ISO-8601 instant")
                .contains("Usage: pgfleet instance restart");

        Result badNode = cli.run("db", "create", "x", "--node", "n1:abc");
        assertThat(badNode.exit()).isEqualTo(2);
        assertThat(badNode.err()).startsWith("pgfleet: --node n1:abc: 'abc' is not a port number");

        Result noVerb = cli.run();
        assertThat(noVerb.exit()).isEqualTo(2);
        assertThat(noVerb.err()).contains("Usage: pgfleet ");
    }

    @Test
    void anUnreachableServerExitsFiveWithASentence() {
        String nowhere = "http://127.0.0.1:" + ServerProcess.freePort();
        Result viaEnv = Cli.withEnv(Map.of("PGFLEET_SERVER", nowhere)).run("db", "list");
        assertThat(viaEnv.exit()).as(viaEnv.toString()).isEqualTo(5);
        assertThat(viaEnv.err())
                .isEqualTo("pgfleet: cannot reach the pgfleet server at " + nowhere + " (connection refused). Is it"
                        + " running? Start it with `pgfleet server`, or point --server or PGFLEET_SERVER at it.\n");

        Result viaFlag = Cli.withEnv(Map.of()).run("--server", nowhere, "instance", "stop", "a", "n1", "--wait");
        assertThat(viaFlag.exit()).isEqualTo(5);
        assertThat(viaFlag.err()).startsWith("pgfleet: cannot reach the pgfleet server at " + nowhere);

        Result notUrl = Cli.withEnv(Map.of()).run("db", "list", "--server", "localhost:3000");
        assertThat(notUrl.exit()).isEqualTo(2);
        assertThat(notUrl.err()).contains("is not an http(s) URL");
    }

    @Test
    void whatDoesNotExistExitsThree(ServerProcess server) {
        Cli cli = Cli.against(server);
        Result db = cli.run("db", "get", "nope");
        assertThat(db.exit()).as(db.toString()).isEqualTo(3);
        assertThat(db.err()).isEqualTo("pgfleet: database nope not found (not_found, HTTP 404)\n");

        String task = UUID.randomUUID().toString();
        Result t = cli.run("task", "get", "nope", task);
        assertThat(t.exit()).isEqualTo(3);
        assertThat(t.err()).isEqualTo("pgfleet: task " + task + " of database nope not found (not_found, HTTP 404)\n");

        assertThat(cli.run("instance", "stop", "nope", "n1").exit()).isEqualTo(3);
        assertThat(cli.run("host", "get", "no-such-host").exit()).isEqualTo(3);
    }

    @Test
    void aConflictExitsFour(ServerProcess server) {
        Cli cli = Cli.against(server);
        assertThat(cli.run("db", "create", "twice", "--wait").exit()).isZero();
        try {
            Result again = cli.run("db", "create", "twice");
            assertThat(again.exit()).as(again.toString()).isEqualTo(4);
            assertThat(again.err())
                    .startsWith("pgfleet: database twice already exists")
                    .contains("(already_exists, HTTP 409)");

            assertThat(cli.run("instance", "stop", "twice", "n1", "--wait").exit())
                    .isZero();
            Result restartStopped = cli.run("instance", "restart", "twice", "n1");
            assertThat(restartStopped.exit()).isEqualTo(4);
            assertThat(restartStopped.err()).contains("(invalid_state, HTTP 409)");
        } finally {
            assertThat(cli.run("db", "delete", "twice", "--yes", "--wait").exit())
                    .isZero();
        }
    }

    @Test
    void invalidInputNamesTheFieldsAndExitsTwo(ServerProcess server) {
        Result r = Cli.against(server).run("db", "create", "Bad_Id", "--node", "n1:80");
        assertThat(r.exit()).as(r.toString()).isEqualTo(2);
        assertThat(r.err())
                .startsWith("pgfleet: ")
                .contains("(invalid_spec, HTTP 422)")
                .contains("\n  id: 'Bad_Id' is not a valid id")
                .contains("\n  spec.nodes[0].port: 80 is privileged or invalid; use 1024-65535");
    }

    @Test
    void updateSendsTheSpecAndShowsTheServersAnswer(ServerProcess server, @TempDir Path dir) throws Exception {
        Path file = dir.resolve("update.json");
        Files.writeString(file, "{\"spec\": {\"database_name\": \"nope\", \"nodes\": [{\"name\": \"n1\"}]}}");
        Result r = Cli.against(server).run("db", "update", "nope", "--file", file.toString());
        assertThat(r.exit()).as(r.toString()).isEqualTo(3);
        assertThat(r.err()).startsWith("pgfleet: ").contains("(not_found, HTTP 404)");

        Result badFile = Cli.against(server)
                .run(
                        "db",
                        "update",
                        "nope",
                        "--file",
                        dir.resolve("missing.json").toString());
        assertThat(badFile.exit()).isEqualTo(2);
        assertThat(badFile.err()).startsWith("pgfleet: cannot read --file ");
    }

    @Test
    void eventsListWhatHappened(ServerProcess server) {
        Result r = Cli.against(server).run("events", "-o", "json");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).contains("\"events\"");
    }

    @Test
    void aWrongKeyIsRefusedWithASentence(ServerProcess server) {
        Result r = Cli.against(server).run("db", "list", "--api-key", "pgf_aaaaaaaaaaaa_" + "x".repeat(43));
        assertThat(r.exit()).as(r.toString()).isEqualTo(1);
        assertThat(r.err()).startsWith("pgfleet: ").contains("unauthorized");
    }
}
