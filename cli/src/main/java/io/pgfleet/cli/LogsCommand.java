package io.pgfleet.cli;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;

/** {@code pgfleet logs}: an instance's PostgreSQL server log, once or followed. */
@Command(
        name = "logs",
        mixinStandardHelpOptions = true,
        description = "Print the PostgreSQL server log of an instance; -f keeps printing new lines (Ctrl-C ends).",
        footer = {"%nExample:", "  pgfleet logs example n1 --tail 50 --level warning", "  pgfleet logs example n1 -f"})
final class LogsCommand implements Callable<Integer> {
    private static final Duration POLL = Duration.ofSeconds(1);
    private static final int FOLLOW_WINDOW = 1000;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DATABASE", description = "Id of the database.")
    String database;

    @Parameters(index = "1", paramLabel = "INSTANCE", description = "Instance id or node name.")
    String instance;

    @Option(names = "--tail", paramLabel = "N", description = "The last N lines (1-10000, default 100).")
    Integer tail;

    @Option(
            names = "--level",
            paramLabel = "LEVEL",
            description = "Only lines of this level or worse (e.g. warning, error, fatal).")
    String level;

    @Option(
            names = {"-f", "--follow"},
            description = "Keep printing new lines, polling every second.")
    boolean follow;

    @Override
    public Integer call() {
        Session session = Session.of(spec);
        if (follow && session.json()) {
            throw new ParameterException(spec.commandLine(), "-f prints lines as they come; drop -o json");
        }
        String path = "v1/databases/" + ApiClient.seg(database) + "/instances/" + ApiClient.seg(instance) + "/logs";
        JsonNode log = session.api().get(path + ApiClient.query("tail", tail, "level", level));
        if (session.json()) {
            session.printJson(log);
            return 0;
        }
        List<String> seen = lines(log);
        seen.forEach(session.console().out()::println);
        while (follow) {
            TaskFollower.sleep(POLL);
            List<String> now = lines(session.api().get(path + ApiClient.query("tail", FOLLOW_WINDOW, "level", level)));
            List<String> fresh = newLines(seen, now);
            fresh.forEach(session.console().out()::println);
            session.console().out().flush();
            seen = now;
        }
        return 0;
    }

    private static List<String> lines(JsonNode log) {
        List<String> lines = new ArrayList<>();
        log.path("lines").forEach(l -> lines.add(l.asString()));
        return lines;
    }

    /** What {@code now} adds after {@code before}: the longest end of before that starts now is skipped. */
    static List<String> newLines(List<String> before, List<String> now) {
        for (int k = Math.min(before.size(), now.size()); k > 0; k--) {
            if (before.subList(before.size() - k, before.size()).equals(now.subList(0, k))) {
                return now.subList(k, now.size());
            }
        }
        return now;
    }
}
