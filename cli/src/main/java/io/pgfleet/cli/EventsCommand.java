package io.pgfleet.cli;

import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;

/** {@code pgfleet events}: what happened (state changes, tasks), once or followed live. */
@Command(
        name = "events",
        mixinStandardHelpOptions = true,
        description = {
            "Print events: state changes of instances and databases, tasks starting and ending, suspensions.",
            "-f follows the live stream (GET /v1/events/stream) from now on, reconnecting where it left off",
            "when the connection drops; Ctrl-C ends it. With -o json each event is one line of the API's JSON."
        },
        footer = {
            "%nExample:",
            "  pgfleet events --database example --type instance.state_changed",
            "  pgfleet events -f",
            "  pgfleet --tenant billing events -f -o json | jq .message"
        })
final class EventsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--database", paramLabel = "DATABASE", description = "Only this database's events.")
    String database;

    @Option(names = "--instance", paramLabel = "INSTANCE", description = "Only this instance's events.")
    String instance;

    @Option(names = "--type", paramLabel = "TYPE", description = "Only events of this type (instance.state_changed).")
    String type;

    @Option(names = "--after", paramLabel = "EVENT_ID", description = "Only events after this one (-f: replay them).")
    Long after;

    @Option(names = "--limit", paramLabel = "N", description = "At most N events (1-500, default 50).")
    Integer limit;

    @Option(
            names = {"-f", "--follow"},
            description = "Follow the live stream of new events.")
    boolean follow;

    // For scripts and tests that must end on their own: stop after N events, or after a time.
    @Option(names = "--max-events", hidden = true, paramLabel = "N")
    Long maxEvents;

    @Option(names = "--timeout", hidden = true, paramLabel = "SECONDS")
    Long timeoutSeconds;

    @Override
    public Integer call() {
        Session session = Session.of(spec);
        if (!follow && (maxEvents != null || timeoutSeconds != null)) {
            throw new ParameterException(spec.commandLine(), "--max-events and --timeout go with -f");
        }
        if (follow) {
            return follow(session);
        }
        JsonNode page = fetch(session);
        if (session.json()) {
            session.printJson(page);
            return 0;
        }
        for (JsonNode e : page.path("events")) {
            session.console().out().println(line(e));
        }
        if (page.path("events").isEmpty()) {
            session.console().out().println("no events");
        }
        String last = null;
        for (JsonNode e : page.path("events")) {
            last = Json.text(e, "event_id");
        }
        if (Json.text(page, "next_cursor") != null && last != null) {
            session.console().out().println("more: pgfleet events --after " + last);
        }
        return 0;
    }

    private int follow(Session session) {
        String path = "v1/events/stream"
                + ApiClient.query("database_id", database, "instance_id", instance, "type", type, "after_id", after);
        EventStreamReader reader =
                new EventStreamReader(session.api(), path, session.console().err());
        long[] seen = {0};
        var out = session.console().out();
        reader.follow(
                event -> {
                    JsonNode e = JsonReader.toNode(JsonReader.read(event.data()));
                    out.println(session.json() ? JsonWriter.compact(e) : line(e));
                    out.flush();
                    seen[0]++;
                    return maxEvents == null || seen[0] < maxEvents;
                },
                timeoutSeconds == null ? null : Duration.ofSeconds(timeoutSeconds));
        return 0;
    }

    private JsonNode fetch(Session session) {
        String path = "v1/events"
                + ApiClient.query(
                        "database_id",
                        database,
                        "instance_id",
                        instance,
                        "type",
                        type,
                        "after_id",
                        after,
                        "limit",
                        limit);
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

    /** Time, type and the server's sentence, which names its subject: "instance n1 of example: a -> b". */
    static String line(JsonNode e) {
        StringBuilder sb = new StringBuilder(Json.time(firstOf(e, "at", "timestamp", "created_at")));
        sb.append("  ").append(Json.orDash(Json.text(e, "type")));
        String message = Json.text(e, "message");
        if (message != null) {
            sb.append("  ").append(message);
        } else {
            String subject = firstOf(e, "instance_id", "database_id");
            sb.append("  ").append(Json.orDash(subject));
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
