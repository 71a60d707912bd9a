package io.pgfleet.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/** {@code pgfleet db}: create, list, get, update, delete databases. */
@Command(
        name = "db",
        mixinStandardHelpOptions = true,
        description = "Create, list, show, update, delete, suspend and unsuspend databases.",
        footer = {"%nExample:", "  pgfleet db list", "  pgfleet db get example"})
final class DbCommand {

    @Command(
            name = "create",
            mixinStandardHelpOptions = true,
            description = {
                "Create a database, from flags or from a whole spec (--file).",
                "Without --node it gets one node n1; without --user, no user."
            },
            footer = {
                "%nExample:",
                "  pgfleet db create example --node n1 --node n2:6010 --user admin:owner --wait",
                "  pgfleet db create --file spec.json          # {\"id\": …, \"spec\": {…}} as POST /v1/databases takes it",
                "  cat spec.json | pgfleet db create --file - -o json"
            })
    static final class Create implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(arity = "0..1", paramLabel = "ID", description = "Id of the database (lower case, digits, -).")
        String id;

        @Option(names = "--file", paramLabel = "FILE", description = "The whole create request as JSON; - reads stdin.")
        String file;

        @Option(
                names = "--node",
                paramLabel = "NAME[@HOST][:PORT]",
                description = "A node, on a host and with a port, or without them (pgfleet places it and picks"
                        + " the port). Repeatable.")
        List<String> nodes = new ArrayList<>();

        @Option(
                names = "--user",
                paramLabel = "NAME[:owner]",
                description = "A user (password generated); :owner makes it the database owner. Repeatable.")
        List<String> users = new ArrayList<>();

        @Option(
                names = "--database-name",
                paramLabel = "NAME",
                description = "Postgres database name (default: the id, - becoming _).")
        String databaseName;

        @Option(names = "--postgres-version", paramLabel = "MAJOR", description = "PostgreSQL major, e.g. 17 or 16.")
        String postgresVersion;

        @Option(names = "--label", paramLabel = "KEY=VALUE", description = "A label. Repeatable.")
        Map<String, String> labels;

        @Option(names = "--conf", paramLabel = "NAME=VALUE", description = "A postgresql.conf setting. Repeatable.")
        Map<String, String> conf;

        @Option(names = "--pooler", description = "Put a PgBouncer in front of every instance.")
        boolean pooler;

        @Option(names = "--wait", description = "Follow the create task until it ends; exit with its outcome.")
        boolean wait;

        @Override
        public Integer call() {
            Session session = Session.of(spec);
            ObjectNode request = file != null ? fromFile() : SpecFlags.request(id, this);
            JsonNode created = session.api().post("v1/databases", request);
            if (!session.json()) {
                JsonNode db = created.path("database");
                session.console().out().println("database " + Json.text(db, "id") + " is " + Json.text(db, "state"));
            }
            return new TaskFollower(session).conclude(created, wait);
        }

        private ObjectNode fromFile() {
            boolean flags = !nodes.isEmpty()
                    || !users.isEmpty()
                    || databaseName != null
                    || postgresVersion != null
                    || labels != null
                    || conf != null
                    || pooler;
            if (flags) {
                throw new picocli.CommandLine.ParameterException(
                        spec.commandLine(),
                        "--file takes the whole request; put --node, --user and the other spec flags in the file");
            }
            JsonNode read = readJson(spec, file);
            if (!read.isObject()) {
                throw new picocli.CommandLine.ParameterException(
                        spec.commandLine(), "--file " + file + " holds no JSON object");
            }
            ObjectNode request = (ObjectNode) read;
            if (id != null) {
                request.put("id", id);
            }
            return request;
        }
    }

    @Command(
            name = "list",
            mixinStandardHelpOptions = true,
            description = "List databases, with their state and their instances' ports.",
            footer = {
                "%nExample:",
                "  pgfleet db list --state available --label team=billing",
                "  pgfleet db list -o json"
            })
    static final class ListDatabases implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--state", paramLabel = "STATE", description = "Only databases in this state.")
        String state;

        @Option(
                names = "--label",
                paramLabel = "KEY=VALUE",
                description = "Only databases with this label. Repeatable.")
        List<String> labels = new ArrayList<>();

        @Option(names = "--limit", paramLabel = "N", description = "At most N databases (1-500, default 50).")
        Integer limit;

        @Option(names = "--cursor", paramLabel = "ID", description = "Start after this one (next_cursor of a page).")
        String cursor;

        @Override
        public Integer call() {
            Session session = Session.of(spec);
            StringBuilder path = new StringBuilder(
                    "v1/databases" + ApiClient.query("state", state, "limit", limit, "cursor", cursor));
            for (String label : labels) {
                path.append(path.indexOf("?") < 0 ? '?' : '&').append("label=").append(ApiClient.seg(label));
            }
            // Plain values, not Jackson's tree: the most run command loads no Jackson class for a table.
            Object list = session.api().getValue(path.toString());
            if (session.json()) {
                session.printJson(JsonReader.toNode(list));
                return 0;
            }
            Table table = new Table("ID", "STATE", "NODES", "PORTS", "LABELS", "CREATED");
            for (Object db : JsonReader.array(list, "databases")) {
                List<String> nodes = new ArrayList<>();
                List<String> ports = new ArrayList<>();
                for (Object i : JsonReader.array(db, "instances")) {
                    nodes.add(JsonReader.text(i, "node_name"));
                    ports.add(JsonReader.text(i, "port"));
                }
                List<String> labelList = new ArrayList<>();
                JsonReader.object(db, "labels").forEach((k, v) -> labelList.add(k + "=" + v));
                table.row(
                        JsonReader.text(db, "id"),
                        session.console().state(JsonReader.text(db, "state")),
                        String.join(",", nodes),
                        String.join(",", ports),
                        String.join(",", labelList),
                        Json.time(JsonReader.text(db, "created_at")));
            }
            if (table.isEmpty()) {
                session.console().out().println("no databases");
            } else {
                table.print(session.console().out());
            }
            String next = JsonReader.text(list, "next_cursor");
            if (next != null) {
                session.console().out().println("more: pgfleet db list --cursor " + next);
            }
            return 0;
        }
    }

    @Command(
            name = "get",
            mixinStandardHelpOptions = true,
            description = "Show a database: state, spec summary and its instances.",
            footer = {"%nExample:", "  pgfleet db get example", "  pgfleet db get example -o json | jq .spec"})
    static final class Get implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "DATABASE", description = "Id of the database.")
        String id;

        @Override
        public Integer call() {
            Session session = Session.of(spec);
            JsonNode db = session.api().get("v1/databases/" + ApiClient.seg(id));
            if (session.json()) {
                session.printJson(db);
                return 0;
            }
            var out = session.console().out();
            JsonNode dbSpec = db.path("spec");
            out.println("database:  " + Json.text(db, "id") + " ("
                    + session.console().state(Json.text(db, "state")) + ")");
            out.println("postgres:  " + Json.orDash(Json.text(dbSpec, "postgres_version")) + ", database name "
                    + Json.text(dbSpec, "database_name"));
            List<String> users = new ArrayList<>();
            for (JsonNode u : dbSpec.path("database_users")) {
                users.add(Json.text(u, "username") + (u.path("db_owner").asBoolean(false) ? " (owner)" : ""));
            }
            out.println("users:     " + (users.isEmpty() ? "-" : String.join(", ", users)));
            List<String> labelList = new ArrayList<>();
            db.path("labels")
                    .properties()
                    .forEach(e -> labelList.add(e.getKey() + "=" + e.getValue().asString()));
            out.println("labels:    " + (labelList.isEmpty() ? "-" : String.join(", ", labelList)));
            out.println("created:   " + Json.time(Json.text(db, "created_at")));
            out.println();
            Table table = new Table(
                    "NODE", "INSTANCE", "HOST", "ROLE", "LAG", "PORT", "POOLER", "STATE", "PENDING RESTART", "ERROR");
            for (JsonNode i : db.path("instances")) {
                table.row(
                        Json.text(i, "node_name"),
                        Json.text(i, "id"),
                        Json.text(i, "host_id"),
                        Json.text(i, "role"),
                        lag(i),
                        Json.text(i, "port"),
                        Json.text(i, "pooler_port"),
                        session.console().state(Json.text(i, "state")),
                        i.path("pending_restart").asBoolean(false) ? "yes" : "no",
                        problems(i));
            }
            table.print(out);
            return 0;
        }
    }

    /** A replica's lag as its primary reports it ({@code 0 B, 0.0 s}); a primary's is null (a dash). */
    static String lag(JsonNode instance) {
        JsonNode replication = instance.path("replication");
        if (!replication.path("lag_bytes").isNumber()) {
            return "replica".equals(Json.text(instance, "role")) ? "not streaming" : null;
        }
        return replication.path("lag_bytes").asLong() + " B, "
                + String.format(
                        java.util.Locale.ROOT,
                        "%.1f s",
                        replication.path("lag_seconds").asDouble())
                + ("streaming".equals(Json.text(replication, "state"))
                        ? ""
                        : " (" + Json.text(replication, "state") + ")");
    }

    /** An instance's error and, when its disk cannot be written, the storage problem beside it. */
    static String problems(JsonNode instance) {
        String error = Json.text(instance, "error");
        JsonNode storage = instance.path("storage");
        if (!storage.path("writable").asBoolean(true)) {
            String full = "storage: " + Json.text(storage, "message") + " (" + Json.text(storage, "directory") + ")";
            return error == null ? full : error + "; " + full;
        }
        return error;
    }

    @Command(
            name = "update",
            mixinStandardHelpOptions = true,
            description = {
                "Update a database's spec (POST /v1/databases/{id}).",
                "Servers that cannot update a spec yet answer that they do not support it."
            },
            footer = {
                "%nExample:",
                "  pgfleet db get example -o json | jq '{spec: .spec}' > update.json   # then edit it",
                "  pgfleet db update example --file update.json --wait"
            })
    static final class Update implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "DATABASE", description = "Id of the database.")
        String id;

        @Option(
                names = "--file",
                required = true,
                paramLabel = "FILE",
                description = "The update as JSON ({\"spec\": {…}}); - reads stdin.")
        String file;

        @Option(names = "--wait", description = "Follow the update task until it ends; exit with its outcome.")
        boolean wait;

        @Override
        public Integer call() {
            Session session = Session.of(spec);
            JsonNode body = readJson(spec, file);
            JsonNode answer = session.api().post("v1/databases/" + ApiClient.seg(id), body);
            return new TaskFollower(session).conclude(answer, wait);
        }
    }

    @Command(
            name = "delete",
            mixinStandardHelpOptions = true,
            description = {
                "Delete a database: its sessions are ended, its instances stopped and removed, their ports freed.",
                "Its tasks stay readable."
            },
            footer = {
                "%nOn a terminal it asks you to type the database's id; scripts pass --yes.",
                "%nExample:",
                "  pgfleet db delete example --wait",
                "  pgfleet db delete example --yes --wait     # in a script"
            })
    static final class Delete implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "DATABASE", description = "Id of the database.")
        String id;

        @Option(names = "--wait", description = "Follow the delete task until it ends; exit with its outcome.")
        boolean wait;

        @picocli.CommandLine.Mixin
        Confirmation confirmation;

        @Override
        public Integer call() {
            Session session = Session.of(spec);
            confirmation.require(
                    session.console(),
                    "db delete",
                    id,
                    "database's id",
                    "deletes database " + id + " with all its data");
            JsonNode answer = session.api().delete("v1/databases/" + ApiClient.seg(id));
            return new TaskFollower(session).conclude(answer, wait);
        }
    }

    /** JSON from a file, or stdin for "-"; unreadable or malformed input is a usage error. */
    static JsonNode readJson(CommandSpec spec, String file) {
        String text;
        try {
            if (file.equals("-")) {
                InputStream in = System.in;
                text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } else {
                text = Files.readString(Path.of(file));
            }
        } catch (IOException e) {
            throw new CliFailure(CliFailure.USAGE, "cannot read --file " + file + ": " + e.getMessage(), e);
        }
        try {
            return Json.mapper().readTree(text);
        } catch (JacksonException e) {
            throw new CliFailure(
                    CliFailure.USAGE, "--file " + file + " is not valid JSON: " + e.getOriginalMessage(), e);
        }
    }
}
