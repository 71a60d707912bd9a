package io.pgfleet.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;

/** {@code pgfleet task}: the asynchronous operations, their logs, canceling and waiting. */
@Command(
        name = "task",
        mixinStandardHelpOptions = true,
        description = "List tasks, show one and its log, cancel a scheduled one, wait for one to end.",
        footer = {"%nExample:", "  pgfleet task list example", "  pgfleet task wait example TASK_ID"})
final class TaskCommand {

    /** DATABASE TASK_ID, as the task paths take them. */
    static final class TaskRef {
        @Parameters(index = "0", paramLabel = "DATABASE", description = "Id of the database (deleted ones too).")
        String database;

        @Parameters(index = "1", paramLabel = "TASK_ID", description = "The task's UUID.")
        String task;

        String path() {
            return "v1/databases/" + ApiClient.seg(database) + "/tasks/" + ApiClient.seg(task);
        }
    }

    @Command(
            name = "list",
            mixinStandardHelpOptions = true,
            description = "List a database's tasks, or every task; newest first.",
            footer = {"%nExample:", "  pgfleet task list example --limit 5", "  pgfleet task list"})
    static final class ListTasks implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(arity = "0..1", paramLabel = "DATABASE", description = "Only this database's tasks.")
        String database;

        @Option(names = "--limit", paramLabel = "N", description = "At most N tasks (1-500, default 50).")
        Integer limit;

        @Option(names = "--after", paramLabel = "TASK_ID", description = "The page after this task.")
        String after;

        @Option(names = "--sort", paramLabel = "ORDER", description = "asc or desc (default desc).")
        String sort;

        @Override
        public Integer call() {
            Session session = Session.of(spec);
            String query = ApiClient.query("limit", limit, "after_task_id", after, "sort_order", sort);
            JsonNode list = session.api()
                    .get(
                            database == null
                                    ? "v1/tasks" + query
                                    : "v1/databases/" + ApiClient.seg(database) + "/tasks" + query);
            if (session.json()) {
                session.printJson(list);
                return 0;
            }
            Table table =
                    new Table("TASK ID", "DATABASE", "INSTANCE", "TYPE", "STATUS", "CREATED", "SCHEDULED", "ERROR");
            for (JsonNode t : list.path("tasks")) {
                table.row(
                        Json.text(t, "task_id"),
                        Json.text(t, "database_id"),
                        Json.text(t, "instance_id"),
                        Json.text(t, "type"),
                        session.console().state(Json.text(t, "status")),
                        Json.time(Json.text(t, "created_at")),
                        Json.time(Json.text(t, "scheduled_at")),
                        Json.text(t, "error"));
            }
            if (table.isEmpty()) {
                session.console().out().println("no tasks");
            } else {
                table.print(session.console().out());
            }
            return 0;
        }
    }

    @Command(
            name = "get",
            mixinStandardHelpOptions = true,
            description = "Show one task.",
            footer = {"%nExample:", "  pgfleet task get example 0b6f…"})
    static final class Get implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @picocli.CommandLine.Mixin
        TaskRef ref;

        @Override
        public Integer call() {
            Session session = Session.of(spec);
            JsonNode task = session.api().get(ref.path());
            if (session.json()) {
                session.printJson(task);
                return 0;
            }
            print(session, task);
            return 0;
        }
    }

    static void print(Session session, JsonNode task) {
        var out = session.console().out();
        for (String field : new String[] {"task_id", "database_id", "instance_id", "type"}) {
            out.printf("%-13s%s%n", field.replace('_', ' ') + ":", Json.orDash(Json.text(task, field)));
        }
        out.printf("%-13s%s%n", "status:", session.console().state(Json.text(task, "status")));
        for (String field : new String[] {"scheduled_at", "created_at", "started_at", "completed_at"}) {
            out.printf("%-13s%s%n", field.replace("_at", "") + ":", Json.time(Json.text(task, field)));
        }
        out.printf("%-13s%s%n", "error:", Json.orDash(Json.text(task, "error")));
    }

    @Command(
            name = "log",
            mixinStandardHelpOptions = true,
            description = "Print a task's log: its steps with their times.",
            footer = {"%nExample:", "  pgfleet task log example 0b6f…"})
    static final class Log implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @picocli.CommandLine.Mixin
        TaskRef ref;

        @Override
        public Integer call() {
            Session session = Session.of(spec);
            JsonNode log = session.api().get(ref.path() + "/log");
            if (session.json()) {
                session.printJson(log);
                return 0;
            }
            for (JsonNode entry : log.path("entries")) {
                session.console()
                        .out()
                        .println(Json.time(Json.text(entry, "timestamp")) + "  " + Json.text(entry, "message"));
            }
            session.console()
                    .out()
                    .println("task " + Json.text(log, "task_id") + " is " + Json.text(log, "task_status"));
            return 0;
        }
    }

    @Command(
            name = "cancel",
            mixinStandardHelpOptions = true,
            description = "Cancel a scheduled task (one that has not started).",
            footer = {"%nExample:", "  pgfleet task cancel example 0b6f…"})
    static final class Cancel implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @picocli.CommandLine.Mixin
        TaskRef ref;

        @Override
        public Integer call() {
            Session session = Session.of(spec);
            JsonNode answer = session.api().delete(ref.path());
            if (session.json()) {
                session.printJson(answer);
            } else {
                JsonNode task = answer.path("task");
                session.console()
                        .out()
                        .println(Json.text(task, "type") + " task " + Json.text(task, "task_id") + " is "
                                + Json.text(task, "status"));
            }
            return 0;
        }
    }

    @Command(
            name = "wait",
            mixinStandardHelpOptions = true,
            description = "Follow a task until it ends, printing its log; exit 0 if it completed, 1 if not.",
            footer = {"%nExample:", "  pgfleet task wait example 0b6f… && echo done"})
    static final class Wait implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @picocli.CommandLine.Mixin
        TaskRef ref;

        @Override
        public Integer call() {
            Session session = Session.of(spec);
            TaskFollower follower = new TaskFollower(session);
            JsonNode task = follower.follow(ref.database, ref.task);
            if (session.json()) {
                session.printJson(task);
            }
            return follower.report(task);
        }
    }
}
