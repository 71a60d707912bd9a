package io.pgfleet.cli;

import java.io.PrintStream;
import java.util.Map;

/**
 * Where a command writes and what it may assume: {@code interactive} is true only when a person
 * watches a terminal ({@code System.console() != null}); then, and only then, output may hold ANSI
 * colors, a spinner and carriage returns.
 */
public record Console(PrintStream out, PrintStream err, Map<String, String> env, boolean interactive) {
    static final String RESET = "\u001b[0m";

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
