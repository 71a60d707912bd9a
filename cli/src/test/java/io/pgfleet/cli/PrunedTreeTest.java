package io.pgfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * A command line runs on the part of the tree it names ({@link CommandTree}); what it prints and its exit
 * code must be those of the whole tree, for help, usage errors and calls alike. No server needed: the
 * calls go to a port that refuses.
 */
class PrunedTreeTest {
    private static final String NOWHERE = "http://127.0.0.1:1";

    record Run(int exit, String out, String err) {}

    @Test
    void everyPathAnswersAsTheWholeTree() {
        List<List<String>> lines = new ArrayList<>();
        for (List<String> path : paths()) {
            lines.add(with(path, "--help"));
            lines.add(with(path, "--bogus"));
            lines.add(with(path, "-h"));
            lines.add(with(path, "nosuchword"));
        }
        lines.add(List.of());
        lines.add(List.of("db", "list"));
        lines.add(List.of("db", "list", "-o", "json", "--state", "available"));
        lines.add(List.of("--server", NOWHERE, "db", "list"));
        lines.add(List.of("--server=" + NOWHERE, "-o", "json", "db", "get", "x"));
        lines.add(List.of("db", "--tenant", "t1", "list"));
        lines.add(List.of("-ojson", "db", "list"));
        lines.add(List.of("db", "lsit"));
        lines.add(List.of("db"));
        lines.add(List.of("task", "list", "x"));
        lines.add(List.of("instance", "stop", "x"));
        lines.add(List.of("instance", "restart", "x", "n1", "--at", "tomorrow"));
        lines.add(List.of("db", "delete", "x"));
        // Option values that name a verb or a command: picocli refuses them with the whole tree.
        lines.add(List.of("--tenant", "task", "db", "list"));
        lines.add(List.of("--tenant=db", "db", "list"));
        lines.add(List.of("db", "--tenant", "list", "list"));
        lines.add(List.of("db", "--tenant=get", "list"));
        lines.add(List.of("db", "list", "--tenant"));
        lines.add(List.of("--tenant"));
        lines.add(List.of("--", "db", "list"));
        lines.add(List.of("@no-such-file", "db", "list"));
        lines.add(List.of("db", "list", "--", "x"));
        lines.add(List.of("completion", "fish"));
        lines.add(List.of("-V"));
        // One whole tree for every line (picocli resets its values before each parse), written to buffers.
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
        CommandLine whole =
                Pgfleet.commandLine(new Console(o, e, Map.of("PGFLEET_SERVER", NOWHERE), false, () -> null));
        for (List<String> line : lines) {
            String[] args = line.toArray(String[]::new);
            out.reset();
            err.reset();
            int exit = Pgfleet.execute(whole, args);
            Run expected = new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
            assertThat(run(args)).as("pgfleet " + String.join(" ", line)).isEqualTo(expected);
        }
    }

    @Test
    void theTableNamesEachCommandAsItsAnnotationDoes() {
        CommandTree.VERBS.forEach((name, verb) -> {
            assertThat(verb.type().getAnnotation(Command.class).name()).isEqualTo(name);
            verb.commands()
                    .forEach((command, type) ->
                            assertThat(type.getAnnotation(Command.class).name()).isEqualTo(command));
        });
    }

    @Test
    void aVerbsPathBuildsOnlyThatPath() {
        Console console = new Console(System.out, System.err, Map.of(), false);
        CommandLine cli = Pgfleet.commandLine(console, new String[] {"--server", NOWHERE, "db", "list", "-o", "json"});
        assertThat(cli.getSubcommands()).containsOnlyKeys("db");
        assertThat(cli.getSubcommands().get("db").getSubcommands()).containsOnlyKeys("list");
        assertThat(cli.getSubcommands()
                        .get("db")
                        .getSubcommands()
                        .get("list")
                        .getCommandSpec()
                        .optionsMap())
                .containsKeys("--server", "--tenant", "-o", "--state");
        assertThat(Pgfleet.commandLine(console, new String[] {"db", "--help"})
                        .getSubcommands()
                        .get("db")
                        .getSubcommands())
                .hasSize(7);
        assertThat(Pgfleet.commandLine(console, new String[] {"--help"}).getSubcommands())
                .hasSameSizeAs(CommandTree.VERBS);
    }

    private static List<List<String>> paths() {
        List<List<String>> paths = new ArrayList<>();
        Console console = new Console(System.out, System.err, Map.of(), false);
        Pgfleet.commandLine(console).getSubcommands().forEach((verb, cli) -> {
            paths.add(List.of(verb));
            cli.getSubcommands().keySet().forEach(command -> paths.add(List.of(verb, command)));
        });
        return paths;
    }

    private static List<String> with(List<String> path, String arg) {
        List<String> line = new ArrayList<>(path);
        line.add(arg);
        return line;
    }

    private static Run run(String[] args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
                PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            exit = Pgfleet.execute(new Console(o, e, Map.of("PGFLEET_SERVER", NOWHERE), false, () -> null), args);
        }
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
}
