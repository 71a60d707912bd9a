package io.pgfleet.cli;

import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;

/** {@code pgfleet events}: what happened (state changes, tasks), once or followed. */
@Command(
        name = "events",
        mixinStandardHelpOptions = true,
        description = {
            "Print events: state changes of instances and databases, tasks starting and ending.",
            "-f keeps printing new ones (polling GET /v1/events after the last id; Ctrl-C ends)."
        },
        footer = {"%nExample:", "  pgfleet events --database example", "  pgfleet events -f"})
final class EventsCommand implements Callable<Integer> {
    private static final Duration POLL = Duration.ofSeconds(1);

    @Spec
    CommandSpec spec;

    @Option(names = "--database", paramLabel = "DATABASE", description = "Only this database's events.")
    String database;

    @Option(names = "--instance", paramLabel = "INSTANCE", description = "Only this instance's events.")
    String instance;

    @Option(names = "--limit", paramLabel = "N", description = "At most N events per call (default 50).")
    Integer limit;

    @Option(
            names = {"-f", "--follow"},
            description = "Keep printing new events.")
    boolean follow;

    @Override
    public Integer call() {
        Session session = Session.of(spec);
        if (follow && session.json()) {
            throw new ParameterException(spec.commandLine(), "-f prints events as they come; drop -o json");
        }
        String after = null;
        do {
            JsonNode page = fetch(session, after);
            if (session.json()) {
                session.printJson(page);
                return 0;
            }
            for (JsonNode e : page.path("events")) {
                after = Json.text(e, "event_id") == null ? after : Json.text(e, "event_id");
                session.console().out().println(line(e));
            }
            session.console().out().flush();
            if (follow) {
                TaskFollower.sleep(POLL);
            }
        } while (follow);
        return 0;
    }

    private JsonNode fetch(Session session, String after) {
        String path = "v1/events"
                + ApiClient.query("database_id", database, "instance_id", instance, "after_id", after, "limit", limit);
        try {
            return session.api().get(path);
        } catch (ProblemException e) {
            // With a filter a 404 may mean "no such database"; without one, or with Spring's own
            // answer for a path it does not serve, it means this server has no events.
            boolean noSuchRoute = e.status() == 404 && (isNoRoute(e) || database == null && instance == null);
            if (noSuchRoute) {
                throw new CliFailure(
                        CliFailure.FAILED,
                        "events are not supported by this server (GET /v1/events answered 404, " + e.code()
                                + "); a newer pgfleet server has them",
                        e);
            }
            throw e;
        }
    }

    /** Spring's answer for a path it has no handler for, unlike "database x not found". */
    private static boolean isNoRoute(ProblemException e) {
        String detail = e.getMessage() == null ? "" : e.getMessage();
        return detail.startsWith("No static resource") || detail.startsWith("No endpoint");
    }

    private static String line(JsonNode e) {
        StringBuilder sb = new StringBuilder(Json.time(firstOf(e, "at", "timestamp", "created_at")));
        sb.append("  ").append(Json.orDash(Json.text(e, "type")));
        String subject =
                Json.text(e, "instance_id") != null ? Json.text(e, "instance_id") : Json.text(e, "database_id");
        if (subject != null) {
            sb.append("  ").append(subject);
        }
        String from = Json.text(e, "from_state");
        String to = Json.text(e, "to_state");
        if (to != null) {
            sb.append("  ").append(from == null ? "" : from + " -> ").append(to);
        }
        String message = Json.text(e, "message");
        if (message != null) {
            sb.append("  ").append(message);
        }
        return sb.toString();
    }

    private static String firstOf(JsonNode e, String... fields) {
        for (String f : fields) {
            if (Json.text(e, f) != null) {
                return Json.text(e, f);
            }
        }
        return null;
    }
}
