package io.pgfleet.cli.support;

import io.pgfleet.cli.Console;
import io.pgfleet.cli.Pgfleet;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Runs the CLI in this JVM, as a script would (not a terminal), and captures what it printed. */
public final class Cli {
    private final Map<String, String> env;

    private Cli(Map<String, String> env) {
        this.env = env;
    }

    /**
     * Talking to {@code server} through PGFLEET_SERVER, as a user's shell would; PGFLEET_HOME lets the
     * CLI find the admin key that local server wrote, as it does for a user on the same machine.
     */
    public static Cli against(ServerProcess server) {
        return new Cli(Map.of(
                "PGFLEET_SERVER", server.url(), "PGFLEET_HOME", server.home().toString()));
    }

    public static Cli withEnv(Map<String, String> env) {
        return new Cli(env);
    }

    public Result run(String... args) {
        return run(false, null, args);
    }

    /** As a person at a terminal would, typing {@code answer} (null: end of input) when asked. */
    public Result onTerminal(String answer, String... args) {
        return run(true, answer, args);
    }

    private Result run(boolean terminal, String answer, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
                PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            exit = Pgfleet.execute(new Console(o, e, env, terminal, () -> answer), args);
        }
        Result result = new Result(
                exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8), List.of(args));
        ALL.add(result);
        return result;
    }

    /** Everything any Cli printed in this JVM, for checks that span the suite (no escape characters). */
    public static final List<Result> ALL = java.util.Collections.synchronizedList(new ArrayList<>());

    /** One run: its exit code and both streams. */
    public record Result(int exit, String out, String err, List<String> args) {
        @Override
        public String toString() {
            return "pgfleet " + String.join(" ", args) + "\nexit " + exit + "\n--- stdout\n" + out + "--- stderr\n"
                    + err;
        }
    }
}
