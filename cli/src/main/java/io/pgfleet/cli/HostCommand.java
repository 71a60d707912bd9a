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
        description = "The hosts of the fleet: their state, port range and PostgreSQL versions; drain and remove.",
        footer = {"%nExample:", "  pgfleet host list", "  pgfleet host drain host-2"})
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
            Table table = new Table("HOST", "STATE", "ADDRESS", "INSTANCES", "PORT RANGE", "POSTGRES", "LAST SEEN");
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
            Table table = new Table("HOST", "STATE", "ADDRESS", "INSTANCES", "PORT RANGE", "POSTGRES", "LAST SEEN");
            row(session, table, host);
            table.print(session.console().out());
            return 0;
        }
    }

    /** {@code POST /v1/hosts/{id}/drain} or {@code /undrain}, then the answer or {@code done}. */
    private static int setDraining(CommandSpec spec, String hostId, String verb, String done) {
        Session session = Session.of(spec);
        JsonNode answer = session.api().post("v1/hosts/" + ApiClient.seg(hostId) + "/" + verb, Json.object());
        if (session.json()) {
            session.printJson(answer);
        } else {
            session.console().out().println(done);
        }
        return 0;
    }

    @Command(
            name = "drain",
            mixinStandardHelpOptions = true,
            description = "Keep new instances off a host (what runs there stays). Admin keys only.",
            footer = {"%nExample:", "  pgfleet host drain host-2"})
    static final class Drain implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "HOST_ID", description = "Id of the host.")
        String hostId;

        @Override
        public Integer call() {
            return setDraining(spec, hostId, "drain", "host " + hostId + " is draining: no new instances go there");
        }
    }

    @Command(
            name = "undrain",
            mixinStandardHelpOptions = true,
            description = "Let new instances go to a drained host again. Admin keys only.",
            footer = {"%nExample:", "  pgfleet host undrain host-2"})
    static final class Undrain implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "HOST_ID", description = "Id of the host.")
        String hostId;

        @Override
        public Integer call() {
            return setDraining(spec, hostId, "undrain", "host " + hostId + " takes new instances again");
        }
    }

    @Command(
            name = "remove",
            mixinStandardHelpOptions = true,
            description = "Remove a stopped host that holds no instance from the fleet. Admin keys only.",
            footer = {"%nExample:", "  pgfleet host remove host-3"})
    static final class Remove implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "HOST_ID", description = "Id of the host.")
        String hostId;

        @Override
        public Integer call() {
            Session session = Session.of(spec);
            JsonNode answer = session.api().delete("v1/hosts/" + ApiClient.seg(hostId));
            if (session.json()) {
                session.printJson(answer);
            } else {
                session.console().out().println("host " + hostId + " removed from the fleet");
            }
            return 0;
        }
    }

    private static void row(Session session, Table table, JsonNode h) {
        List<String> versions = new ArrayList<>();
        h.path("postgres_versions").forEach(v -> versions.add(v.asString()));
        String state = Json.text(h, "state");
        if (h.path("draining").asBoolean(false)) {
            state += ",draining";
        }
        if (h.path("leader").asBoolean(false)) {
            state += ",leader";
        }
        table.row(
                Json.text(h, "host_id"),
                session.console().state(state),
                Json.text(h, "advertise_host"),
                Integer.toString(h.path("instances").asInt(0)),
                Json.text(h, "port_range"),
                String.join(",", versions),
                Json.time(Json.text(h, "last_seen_at")));
    }
}
