package io.pgfleet.cli;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.Map;

/**
 * The run {@code bin/pgfleet} records a class-data-sharing archive from after each build: it loads what
 * a typical call loads (the whole command tree, a request, JSON, a table, an error), so every later
 * call maps those classes instead of loading them. Prints nothing; its exit code is 0.
 */
public final class CdsTraining {
    private CdsTraining() {}

    public static void main(String[] args) {
        run();
    }

    /** The calls of the training run; returns their exit codes (0 for help, 5 for the unreachable server). */
    static java.util.List<Integer> run() {
        PrintStream nowhere = new PrintStream(OutputStream.nullOutputStream());
        Console console = new Console(nowhere, nowhere, Map.of(), false);
        // Port 1 on loopback refuses at once: a whole request and its error, no server needed.
        String unreachable = "http://127.0.0.1:1";
        java.util.List<Integer> exits = java.util.List.of(
                Pgfleet.execute(console, "--help"),
                Pgfleet.execute(console, "--server", unreachable, "db", "list"),
                Pgfleet.execute(console, "--server", unreachable, "db", "get", "x", "-o", "json"),
                Pgfleet.execute(console, "--server", unreachable, "instance", "stop", "x", "n1", "--wait"),
                Pgfleet.execute(console, "--server", unreachable, "task", "list"));
        String sample = "{\"databases\": [{\"id\": \"x\", \"state\": \"available\", \"labels\": {\"a\": \"b\"},"
                + " \"instances\": [{\"node_name\": \"n1\", \"port\": 5433, \"pending_restart\": false}]}],"
                + " \"next_cursor\": null, \"total\": 1}";
        nowhere.println(Json.pretty(ApiClient.JSON.readTree(sample)));
        new Table("ID", "STATE").row("x", console.state("available")).print(nowhere);
        Errors.sentence(new ProblemException(409, "invalid_state", "x", java.util.List.of(), "POST /v1/x"));
        return exits;
    }
}
