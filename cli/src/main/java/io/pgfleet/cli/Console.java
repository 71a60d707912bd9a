package io.pgfleet.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Where a command writes and what it may assume: {@code interactive} is true only when a person
 * watches a terminal ({@code System.console() != null}); then, and only then, output may hold ANSI
 * colors, a spinner and carriage returns.
 */
public record Console(
        PrintStream out, PrintStream err, Map<String, String> env, boolean interactive, Supplier<String> input) {
    static final String RESET = "\u001b[0m";

    /** A console whose answers, if a command asks, come from stdin. */
    public Console(PrintStream out, PrintStream err, Map<String, String> env, boolean interactive) {
        this(out, err, env, interactive, Console::stdinLine);
    }

    /** One line a person typed, or null at the end of input. */
    String readLine() {
        return input.get();
    }

    private static String stdinLine() {
        try {
            // Not buffered beyond the line: nothing else reads stdin after a confirmation.
            return new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the answer from stdin", e);
        }
    }

    /** Colors a state for a person; plain text for anything else. */
    String state(String state) {
        if (!interactive || state == null) {
            return state == null ? "-" : state;
        }
        String color = switch (state) {
            case "available", "completed" -> "\u001b[32m";
            case "failed", "error", "canceled" -> "\u001b[31m";
            case "stopped", "scheduled", "unknown" -> "\u001b[2m";
            default -> "\u001b[33m";
        };
        return color + state + RESET;
    }
}
