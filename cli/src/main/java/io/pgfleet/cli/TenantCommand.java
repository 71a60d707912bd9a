package io.pgfleet.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/** {@code pgfleet tenant}: the tenants that own databases and keys (admin keys only). */
@Command(
        name = "tenant",
        mixinStandardHelpOptions = true,
        description = {
            "List, create, show and delete tenants (admin keys only).",
            "Each tenant sees only its own databases, tasks, events and keys; an admin acts in another",
            "tenant with --tenant NAME."
        },
        footer = {"%nExample:", "  pgfleet tenant create billing", "  pgfleet --tenant billing db list"})
final class TenantCommand {

    @Command(
            name = "list",
            mixinStandardHelpOptions = true,
            description = "List tenants.",
            footer = {"%nExample:", "  pgfleet tenant list", "  pgfleet tenant list -o json"})
    static final class ListTenants implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            Session session = Session.of(spec);
            JsonNode list = session.api().get("v1/tenants");
            if (session.json()) {
                session.printJson(list);
                return 0;
            }
            Table table = new Table("NAME", "ID", "CREATED");
            for (JsonNode t : list.path("tenants")) {
                row(table, t);
            }
            table.print(session.console().out());
            return 0;
        }
    }

    @Command(
            name = "create",
            mixinStandardHelpOptions = true,
            description = "Create a tenant; give it keys with pgfleet apikey create --tenant NAME.",
            footer = {
                "%nExample:",
                "  pgfleet tenant create billing",
                "  pgfleet --tenant billing apikey create billing-ci --role operator"
            })
    static final class Create implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "NAME", description = "1-63 lower-case letters, digits and -.")
        String name;

        @Override
        public Integer call() {
            Session session = Session.of(spec);
            ObjectNode body = Json.object().put("name", name);
            JsonNode created = session.api().post("v1/tenants", body);
            if (session.json()) {
                session.printJson(created);
                return 0;
            }
            session.console()
                    .out()
                    .println("tenant " + Json.text(created, "name") + " created (id " + Json.text(created, "id") + ")");
            return 0;
        }
    }

    @Command(
            name = "get",
            mixinStandardHelpOptions = true,
            description = "Show a tenant, by name or id.",
            footer = {"%nExample:", "  pgfleet tenant get billing"})
    static final class Get implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "TENANT", description = "Name or id of the tenant.")
        String tenant;

        @Override
        public Integer call() {
            Session session = Session.of(spec);
            JsonNode t = session.api().get("v1/tenants/" + ApiClient.seg(tenant));
            if (session.json()) {
                session.printJson(t);
                return 0;
            }
            Table table = new Table("NAME", "ID", "CREATED");
            row(table, t);
            table.print(session.console().out());
            return 0;
        }
    }

    @Command(
            name = "delete",
            mixinStandardHelpOptions = true,
            description = {
                "Delete a tenant that owns no database any more; its API keys go with it.",
                "The default tenant cannot be deleted."
            },
            footer = {
                "%nOn a terminal it asks you to type the tenant's name; scripts pass --yes.",
                "%nExample:",
                "  pgfleet tenant delete billing",
                "  pgfleet tenant delete billing --yes        # in a script"
            })
    static final class Delete implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "TENANT", description = "Name or id of the tenant.")
        String tenant;

        @picocli.CommandLine.Mixin
        Confirmation confirmation;

        @Override
        public Integer call() {
            Session session = Session.of(spec);
            confirmation.require(
                    session.console(),
                    "tenant delete",
                    tenant,
                    "tenant's name",
                    "deletes tenant " + tenant + " and revokes all its API keys");
            JsonNode deleted = session.api().delete("v1/tenants/" + ApiClient.seg(tenant));
            if (session.json()) {
                session.printJson(deleted);
                return 0;
            }
            session.console()
                    .out()
                    .println("tenant " + Json.text(deleted, "name") + " deleted (id " + Json.text(deleted, "id") + ")");
            return 0;
        }
    }

    private static void row(Table table, JsonNode t) {
        table.row(Json.text(t, "name"), Json.text(t, "id"), Json.time(Json.text(t, "created_at")));
    }
}
