package io.pgfleet.cli;

import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/** {@code pgfleet instance}: stop, start and restart one instance, addressed by its id or node name. */
@Command(
        name = "instance",
        mixinStandardHelpOptions = true,
        description = "Stop, start and restart an instance (by its id or its node name).",
        footer = {
            "%nExample:",
            "  pgfleet instance stop example n1 --wait",
            "  pgfleet instance start example n1 --wait"
        })
final class InstanceCommand {

    /** DATABASE INSTANCE and --wait, as every instance verb takes them. */
    static final class Target {
        @Parameters(index = "0", paramLabel = "DATABASE", description = "Id of the database.")
        String database;

        @Parameters(index = "1", paramLabel = "INSTANCE", description = "Instance id or node name (n1).")
        String instance;

        @Option(names = "--wait", description = "Follow the task until it ends; exit with its outcome.")
        boolean wait;

        String path(String verb) {
            return "v1/databases/" + ApiClient.seg(database) + "/instances/" + ApiClient.seg(instance) + "/" + verb;
        }
    }

    @Command(
            name = "stop",
            mixinStandardHelpOptions = true,
            description = "Stop an instance; it keeps its data, configuration and port.",
            footer = {"%nExample:", "  pgfleet instance stop example n1 --wait"})
    static final class Stop implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @picocli.CommandLine.Mixin
        Target target;

        @Override
        public Integer call() {
            Session session = Session.of(spec);
            JsonNode answer = session.api().post(target.path("stop"), Json.object());
            return new TaskFollower(session).conclude(answer, target.wait);
        }
    }

    @Command(
            name = "start",
            mixinStandardHelpOptions = true,
            description = "Start a stopped (or failed) instance on its own port.",
            footer = {"%nExample:", "  pgfleet instance start example n1 --wait"})
    static final class Start implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @picocli.CommandLine.Mixin
        Target target;

        @Override
        public Integer call() {
            Session session = Session.of(spec);
            JsonNode answer = session.api().post(target.path("start"), Json.object());
            return new TaskFollower(session).conclude(answer, target.wait);
        }
    }

    @Command(
            name = "restart",
            mixinStandardHelpOptions = true,
            description = {
                "Restart an instance now, or at a time (durable and cancelable: pgfleet task cancel).",
            },
            footer = {
                "%nTIME is an ISO-8601 instant (2026-12-01T03:00:00Z) or a delay from now: +30s, +15m, +2h, +1d.",
                "%nExample:",
                "  pgfleet instance restart example n1 --wait",
                "  pgfleet instance restart example n2 --at 2026-12-01T03:00:00Z",
                "  pgfleet instance restart example n2 --only-if-pending"
            })
    static final class Restart implements Callable<Integer> {
        private static final Pattern DELAY = Pattern.compile("\\+(\\d+)([smhd])");

        @Spec
        CommandSpec spec;

        @picocli.CommandLine.Mixin
        Target target;

        @Option(names = "--at", paramLabel = "TIME", description = "When to restart (see below); default now.")
        String at;

        @Option(names = "--only-if-pending", description = "Refuse (exit 4) when no setting waits for a restart.")
        boolean onlyIfPending;

        @Override
        public Integer call() {
            ObjectNode body = Json.object();
            if (at != null) {
                body.put("scheduled_at", parseTime(at).toString());
            }
            if (onlyIfPending) {
                body.put("only_if_pending", true);
            }
            Session session = Session.of(spec);
            JsonNode answer = session.api().post(target.path("restart"), body);
            return new TaskFollower(session).conclude(answer, target.wait);
        }

        Instant parseTime(String value) {
            Matcher delay = DELAY.matcher(value);
            if (delay.matches()) {
                long n = Long.parseLong(delay.group(1));
                Duration d = switch (delay.group(2)) {
                    case "s" -> Duration.ofSeconds(n);
                    case "m" -> Duration.ofMinutes(n);
                    case "h" -> Duration.ofHours(n);
                    default -> Duration.ofDays(n);
                };
                return Instant.now().plus(d);
            }
            try {
                return Instant.parse(value);
            } catch (DateTimeParseException e) {
                throw new ParameterException(
                        spec.commandLine(),
                        "--at " + value + " is not a time; use an ISO-8601 instant such as 2026-12-01T03:00:00Z"
                                + " or a delay such as +15m");
            }
        }
    }
}
