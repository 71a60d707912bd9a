package io.pgfleet.cli;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/**
 * {@code --wait}: follows a task until it ends, printing its log entries as they come, and answers
 * with the exit code of its outcome. On a terminal a spinner shows the current step; otherwise each
 * entry is one plain line, with no control characters.
 */
final class TaskFollower {
    static final Set<String> ENDED = Set.of("completed", "failed", "canceled");
    private static final Duration POLL = Duration.ofMillis(150);
    private static final String SPINNER = "|/-\\";

    private final Session session;
    private final PrintStream out;

    /** Progress goes to stderr when stdout carries JSON for a script. */
    TaskFollower(Session session) {
        this.session = session;
        this.out = session.json() ? session.console().err() : session.console().out();
    }

    /** Follows the task and returns its final JSON (GET …/tasks/{id}). */
    JsonNode follow(String databaseId, String taskId) {
        String base = "v1/databases/" + ApiClient.seg(databaseId) + "/tasks/" + ApiClient.seg(taskId);
        boolean spin = session.console().interactive();
        long started = System.nanoTime();
        Long after = null;
        String current = "waiting for the task to start";
        int tick = 0;
        while (true) {
            JsonNode log = session.api().get(base + "/log" + ApiClient.query("after_entry_id", after));
            for (JsonNode entry : log.path("entries")) {
                after = entry.path("entry_id").asLong();
                current = Json.text(entry, "message");
                if (spin) {
                    out.print("\r\u001b[2K");
                }
                out.println(Json.time(Json.text(entry, "timestamp")) + "  " + current);
            }
            String status = Json.text(log, "task_status");
            if (ENDED.contains(status)) {
                if (spin) {
                    out.print("\r\u001b[2K");
                    out.flush();
                }
                return session.api().get(base);
            }
            if (spin) {
                double seconds = (System.nanoTime() - started) / 1e9;
                out.printf(
                        "\r\u001b[2K%c %s: %s (%.1f s)",
                        SPINNER.charAt(tick++ % SPINNER.length()), status, current, seconds);
                out.flush();
            }
            sleep(POLL);
        }
    }

    /**
     * The end of every mutating verb: without {@code --wait}, what was accepted and how to follow it;
     * with it, the task followed to its end. With {@code -o json} stdout holds the API's envelope, its
     * task replaced by the final one when waited for.
     */
    int conclude(JsonNode envelope, boolean wait) {
        JsonNode task = envelope.path("task");
        String databaseId = Json.text(task, "database_id");
        String taskId = Json.text(task, "task_id");
        if (!wait) {
            if (session.json()) {
                session.printJson(envelope);
            } else {
                String scheduled = Json.text(task, "scheduled_at");
                out.println(Json.text(task, "type") + " task " + taskId + " is " + Json.text(task, "status")
                        + (scheduled == null ? "" : " for " + Json.time(scheduled))
                        + "; follow it with: pgfleet task wait "
                        + databaseId + " " + taskId);
            }
            return 0;
        }
        JsonNode last = follow(databaseId, taskId);
        if (session.json()) {
            tools.jackson.databind.node.ObjectNode result =
                    (tools.jackson.databind.node.ObjectNode) envelope.deepCopy();
            result.set("task", last);
            session.printJson(result);
        }
        return report(last);
    }

    /** One line on the outcome; returns 0 when the task completed, 1 otherwise. */
    int report(JsonNode task) {
        String status = Json.text(task, "status");
        String what = Json.text(task, "type") + " task " + Json.text(task, "task_id");
        if ("completed".equals(status)) {
            out.println(what + " completed" + took(task));
            return 0;
        }
        String error = Json.text(task, "error");
        session.console()
                .err()
                .println("pgfleet: " + what + " " + status + took(task) + (error == null ? "" : ": " + error));
        return CliFailure.FAILED;
    }

    private static String took(JsonNode task) {
        String start = Json.text(task, "started_at");
        String end = Json.text(task, "completed_at");
        if (start == null || end == null) {
            return "";
        }
        long ms = Duration.between(java.time.Instant.parse(start), java.time.Instant.parse(end))
                .toMillis();
        return String.format(" in %.1f s", ms / 1000.0);
    }

    static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliFailure(CliFailure.FAILED, "interrupted while following the task", e);
        }
    }
}
