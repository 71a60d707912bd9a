package io.pgfleet.cli;

import java.io.PrintStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/** {@code pgfleet apikey}: the keys of a tenant; admins manage every tenant's, operators their own. */
@Command(
        name = "apikey",
        mixinStandardHelpOptions = true,
        description = {
            "List, create and revoke API keys.",
            "Roles: admin (everything, every tenant), operator (its tenant's databases and keys of its role or",
            "lower), viewer (reads only). Admins see every tenant's keys; operators their own tenant's."
        },
        footer = {
            "%nExample:",
            "  pgfleet --tenant billing apikey create billing-ci --role operator",
            "  pgfleet apikey list",
            "  pgfleet apikey revoke KEY_ID"
        })
final class ApiKeyCommand {
    private static final String[] HEADERS = {"ID", "NAME", "ROLE", "TENANT", "CREATED", "LAST USED", "REVOKED"};

    @Command(
            name = "list",
            mixinStandardHelpOptions = true,
            description = "List API keys (never their secrets), revoked ones included.",
            footer = {"%nExample:", "  pgfleet apikey list", "  pgfleet apikey list -o json"})
    static final class ListKeys implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            Session session = Session.of(spec);
            JsonNode list = session.api().get("v1/api-keys");
            if (session.json()) {
                session.printJson(list);
                return 0;
            }
            Table table = new Table(HEADERS);
            for (JsonNode k : list.path("api_keys")) {
                row(table, k);
            }
            table.print(session.console().out());
            return 0;
        }
    }

    @Command(
            name = "create",
            mixinStandardHelpOptions = true,
            description = {
                "Create an API key and print it. The key is shown this once: the server keeps only its hash.",
                "It belongs to the tenant of --tenant, or else to the tenant of the key that creates it."
            },
            footer = {
                "%nExample:",
                "  pgfleet --tenant billing apikey create billing-ci --role operator",
                "  pgfleet apikey create dashboards --role viewer -o json | jq -r .key > dashboards.key"
            })
    static final class Create implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "NAME", description = "What the key is for (1-100 characters).")
        String name;

        @Option(
                names = "--role",
                required = true,
                paramLabel = "ROLE",
                description = "admin, operator or viewer; a key cannot create a key above its own role.")
        String role;

        @Override
        public Integer call() {
            Session session = Session.of(spec);
            ObjectNode body = Json.object().put("name", name).put("role", role);
            session.tenant().ifPresent(t -> body.put("tenant", t));
            JsonNode created = session.api().post("v1/api-keys", body);
            if (session.json()) {
                session.printJson(created);
                return 0;
            }
            JsonNode key = created.path("api_key");
            PrintStream out = session.console().out();
            out.println(Json.text(key, "role") + " key " + Json.text(key, "id") + " (" + Json.text(key, "name")
                    + ") created in tenant " + session.tenant().orElse(Json.text(key, "tenant_id")) + ":");
            out.println();
            out.println("  " + Json.text(created, "key"));
            out.println();
            // On stderr too, so it is seen when stdout goes to a file.
            session.console()
                    .err()
                    .println("pgfleet: store this key now; it is not shown again (the server keeps only its hash)."
                            + " Use it with --api-key or PGFLEET_API_KEY.");
            return 0;
        }
    }

    @Command(
            name = "revoke",
            mixinStandardHelpOptions = true,
            description = "Revoke an API key: the next request with it is refused (401).",
            footer = {
                "%nOn a terminal it asks you to type the key's id; scripts pass --yes.",
                "%nExample:",
                "  pgfleet apikey revoke KEY_ID",
                "  pgfleet apikey revoke KEY_ID --yes         # in a script"
            })
    static final class Revoke implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "KEY_ID", description = "The key's id (the ID column of pgfleet apikey list).")
        String id;

        @picocli.CommandLine.Mixin
        Confirmation confirmation;

        @Override
        public Integer call() {
            Session session = Session.of(spec);
            confirmation.require(
                    session.console(),
                    "apikey revoke",
                    id,
                    "key's id",
                    "revokes API key " + id + " for good (every client using it is refused)");
            JsonNode revoked = session.api().delete("v1/api-keys/" + ApiClient.seg(id));
            if (session.json()) {
                session.printJson(revoked);
                return 0;
            }
            session.console()
                    .out()
                    .println(Json.text(revoked, "role") + " key " + Json.text(revoked, "id") + " ("
                            + Json.text(revoked, "name") + ") revoked at "
                            + Json.time(Json.text(revoked, "revoked_at")));
            return 0;
        }
    }

    private static void row(Table table, JsonNode k) {
        table.row(
                Json.text(k, "id"),
                Json.text(k, "name"),
                Json.text(k, "role"),
                Json.text(k, "tenant_id"),
                Json.time(Json.text(k, "created_at")),
                Json.time(Json.text(k, "last_used_at")),
                Json.time(Json.text(k, "revoked_at")));
    }
}
