package io.pgfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgfleet.cli.support.Cli;
import io.pgfleet.cli.support.Cli.Result;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The command tree itself: help, examples, exit codes, completion. No server needed. */
class CommandTreeTest {
    private final Cli cli = Cli.withEnv(Map.of());

    @Test
    void everyVerbHasHelpWithAnExample() {
        List<List<String>> paths = new ArrayList<>();
        collect(Pgfleet.commandLine(new Console(System.out, System.err, Map.of(), false)), new ArrayList<>(), paths);
        assertThat(paths).hasSizeGreaterThan(20);
        for (List<String> path : paths) {
            List<String> args = new ArrayList<>(path);
            args.add("--help");
            Result r = cli.run(args.toArray(String[]::new));
            assertThat(r.exit()).as(r.toString()).isZero();
            assertThat(r.out())
                    .as(r.toString())
                    .startsWith("Usage: pgfleet")
                    .containsPattern("Example:\\n  .*pgfleet ");
        }
    }

    private static void collect(CommandLine cmd, List<String> path, List<List<String>> into) {
        into.add(List.copyOf(path));
        for (var sub : cmd.getSubcommands().entrySet()) {
            List<String> next = new ArrayList<>(path);
            next.add(sub.getKey());
            collect(sub.getValue(), next, into);
        }
    }

    @Test
    void helpDocumentsTheExitCodes() {
        Result r = cli.run("--help");
        assertThat(r.out())
                .contains("Exit codes:")
                .containsPattern("(?m)^  0 +ok$")
                .containsPattern("(?m)^  1 +failed")
                .containsPattern("(?m)^  2 +usage")
                .containsPattern("(?m)^  3 +not found")
                .containsPattern("(?m)^  4 +conflict")
                .containsPattern("(?m)^  5 +cannot reach the server$")
                .contains("PGFLEET_SERVER", "PGFLEET_API_KEY");
    }

    @Test
    void completionBashPrintsAScriptForEveryVerb() {
        Result r = cli.run("completion", "bash");
        assertThat(r.exit()).isZero();
        assertThat(r.out())
                .contains("complete -F", "db", "instance", "--only-if-pending")
                .contains("tenant", "apikey", "audit", "suspend", "unsuspend", "--reason", "--tenant", "--role");
        assertThat(cli.run("completion", "fish").exit()).isEqualTo(2);
    }

    @Test
    void theEventStreamParserFramesEventsAsTheFormatSays() {
        EventStreamReader.Parser parser = new EventStreamReader.Parser();
        List<EventStreamReader.Event> events = new ArrayList<>();
        for (String line : List.of(
                ": keep-alive", "", "id: 5", "event: t", "data: {\"a\":", "data:1}", "retry: 10", "", "data", "")) {
            parser.line(line).ifPresent(events::add);
        }
        assertThat(events)
                .containsExactly(
                        new EventStreamReader.Event("5", "t", "{\"a\":\n1}"),
                        new EventStreamReader.Event(null, null, ""));
    }

    @Test
    void theClassDataTrainingRunNeedsNoServer() {
        // bin/pgfleet runs it once per build; with nothing listening, each call is an unreachable server.
        assertThat(CdsTraining.run()).containsExactly(0, 5, 5, 5, 5);
    }

    @Test
    void logsFollowPrintsOnlyWhatIsNew() {
        assertThat(LogsCommand.newLines(List.of("a", "b", "c"), List.of("b", "c", "d", "e")))
                .containsExactly("d", "e");
        assertThat(LogsCommand.newLines(List.of("a", "b"), List.of("a", "b"))).isEmpty();
        assertThat(LogsCommand.newLines(List.of("x", "x"), List.of("x", "x", "x")))
                .containsExactly("x");
        assertThat(LogsCommand.newLines(List.of(), List.of("a"))).containsExactly("a");
    }
}
