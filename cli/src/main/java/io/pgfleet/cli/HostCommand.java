package io.pgfleet.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;

/** {@code pgfleet host}: the hosts pgfleet runs instances on. */
@Command(
        name = "host",
        mixinStandardHelpOptions = true,
        description = "List hosts: their state, port range and PostgreSQL versions.",
        subcommands = {HostCommand.ListHosts.class, HostCommand.Get.class},
        footer = {"%nExample:", "  pgfleet host list"})
final class HostCommand {

    @Command(
            name = "list",
            mixinStandardHelpOptions = true,
            description = "List hosts.",
            footer = {"%nExample:", "  pgfleet host list -o json"})
    static final class ListHosts implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            Session session = Session.of(spec);
            JsonNode list = session.api().get("v1/hosts");
            if (session.json()) {
                session.printJson(list);
                return 0;
            }
            Table table = new Table("HOST", "STATE", "PORT RANGE", "POSTGRES", "LAST SEEN");
            for (JsonNode h : list.path("hosts")) {
                row(session, table, h);
            }
            table.print(session.console().out());
            return 0;
        }
    }

    @Command(
            name = "get",
            mixinStandardHelpOptions = true,
            description = "Show one host.",
            footer = {"%nExample:", "  pgfleet host get host-1"})
    static final class Get implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "HOST_ID", description = "Id of the host.")
        String hostId;

        @Override
        public Integer call() {
            Session session = Session.of(spec);
            JsonNode host = session.api().get("v1/hosts/" + ApiClient.seg(hostId));
            if (session.json()) {
                session.printJson(host);
                return 0;
            }
            Table table = new Table("HOST", "STATE", "PORT RANGE", "POSTGRES", "LAST SEEN");
            row(session, table, host);
            table.print(session.console().out());
            return 0;
        }
    }

    private static void row(Session session, Table table, JsonNode h) {
        List<String> versions = new ArrayList<>();
        h.path("postgres_versions").forEach(v -> versions.add(v.asString()));
        table.row(
                Json.text(h, "host_id"),
                session.console().state(Json.text(h, "state")),
                Json.text(h, "port_range"),
                String.join(",", versions),
                Json.time(Json.text(h, "last_seen_at")));
    }
}
