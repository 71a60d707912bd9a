package io.pgfleet.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;

/** {@code pgfleet db suspend|unsuspend}: stop a database and refuse to start it until it is unsuspended. */
final class DbSuspension {
    private DbSuspension() {}

    @Command(
            name = "suspend",
            mixinStandardHelpOptions = true,
            description = {
                "Suspend a database: its scheduled tasks are canceled, every instance is stopped, and start",
                "and restart are refused (exit 4, with the reason) until it is unsuspended."
            },
            footer = {"%nExample:", "  pgfleet db suspend example --reason 'invoice 1234 unpaid' --wait"})
    static final class Suspend implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "DATABASE", description = "Id of the database.")
        String id;

        @Option(
                names = "--reason",
                required = true,
                paramLabel = "TEXT",
                description = "Why (1-1024 characters); refusals to start it quote it.")
        String reason;

        @Option(names = "--wait", description = "Follow the suspend task until it ends; exit with its outcome.")
        boolean wait;

        @Override
        public Integer call() {
            Session session = Session.of(spec);
            JsonNode answer = session.api()
                    .post(
                            "v1/databases/" + ApiClient.seg(id) + "/suspend",
                            Json.object().put("reason", reason));
            return new TaskFollower(session).conclude(answer, wait);
        }
    }

    @Command(
            name = "unsuspend",
            mixinStandardHelpOptions = true,
            description = "Unsuspend a database: its instances start again.",
            footer = {"%nExample:", "  pgfleet db unsuspend example --wait"})
    static final class Unsuspend implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "DATABASE", description = "Id of the database.")
        String id;

        @Option(names = "--wait", description = "Follow the unsuspend task until it ends; exit with its outcome.")
        boolean wait;

        @Override
        public Integer call() {
            Session session = Session.of(spec);
            JsonNode answer = session.api().post("v1/databases/" + ApiClient.seg(id) + "/unsuspend", Json.object());
            return new TaskFollower(session).conclude(answer, wait);
        }
    }
}
