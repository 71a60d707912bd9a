package io.pgfleet.cli;

import java.io.File;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;

/** {@code pgfleet connect}: a connection URL, or psql connected with it. */
@Command(
        name = "connect",
        mixinStandardHelpOptions = true,
        description = {
            "Print the connection URL of a database's instance: direct (for migrations) or --pooled (PgBouncer),",
            "for libpq clients (psql, Python, Go, Node) or with --jdbc for Java (pgjdbc).",
            "The password is shown only with --reveal; --psql runs psql with it (passed in PGPASSWORD, not argv)."
        },
        footer = {
            "%nExample:",
            "  pgfleet connect example                      # postgresql://admin:****@localhost:6001/example",
            "  pgfleet connect example --node n2 --user app --reveal",
            "  pgfleet connect example --pooled --jdbc      # jdbc:postgresql://…?user=admin&password=****&prepareThreshold=0",
            "  pgfleet connect example --psql -- -c 'select version()'"
        })
final class ConnectCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DATABASE", description = "Id of the database.")
    String database;

    @Parameters(index = "1..*", paramLabel = "PSQL_ARG", description = "Arguments for psql, after --.")
    List<String> psqlArgs = new ArrayList<>();

    @Option(names = "--node", paramLabel = "NODE", description = "Node name or instance id (default: the first).")
    String node;

    @Option(names = "--user", paramLabel = "USER", description = "Connect as this user (default: the owner).")
    String user;

    @Option(names = "--pooled", description = "The pooled URL (through PgBouncer) instead of the direct one.")
    boolean pooled;

    @Option(
            names = "--jdbc",
            description = "The JDBC URL (jdbc:postgresql://…); pooled ones set prepareThreshold=0 for PgBouncer.")
    boolean jdbc;

    @Option(
            names = "--read-only",
            description = "For a node with replicas: the URL that prefers a read-only replica (target_session_attrs).")
    boolean readOnly;

    @Option(names = "--reveal", description = "Put the password in the printed URL.")
    boolean reveal;

    @Option(names = "--psql", description = "Run psql connected to it, when psql is installed.")
    boolean psql;

    @Override
    public Integer call() {
        Session session = Session.of(spec);
        if (!psqlArgs.isEmpty() && !psql) {
            throw new picocli.CommandLine.ParameterException(
                    spec.commandLine(), "arguments after DATABASE go to psql; add --psql");
        }
        if (jdbc && psql) {
            throw new picocli.CommandLine.ParameterException(
                    spec.commandLine(), "--jdbc prints a URL for Java clients; psql takes the default one");
        }
        boolean withPassword = reveal || psql;
        JsonNode info = session.api()
                .get("v1/databases/" + ApiClient.seg(database) + "/connection"
                        + ApiClient.query("user", user, "reveal", withPassword ? "true" : null));
        JsonNode chosen = choose(info);
        String field = jdbc ? (pooled ? "pooled_jdbc_url" : "jdbc_url") : (pooled ? "pooled_url" : "direct_url");
        String url = Json.text(chosen, field);
        // A replicated node: the multi-host URL that follows its primary, unless an instance id was named.
        JsonNode replicated = replicatedNode(info, Json.text(chosen, "node_name"));
        if (replicated != null && !Json.text(chosen, "instance_id").equals(node)) {
            String nodeField = jdbc
                    ? (readOnly ? "read_only_jdbc_url" : "primary_jdbc_url")
                    : (readOnly ? "read_only_url" : pooled ? "pooled_primary_url" : "primary_url");
            url = Json.text(replicated, nodeField);
        }
        if (url == null) {
            throw new CliFailure(
                    CliFailure.FAILED,
                    "instance " + Json.text(chosen, "node_name") + " of " + database
                            + " has no pooler; create the database with --pooler for a pooled URL");
        }
        if (!psql) {
            if (session.json()) {
                session.printJson(info);
            } else {
                session.console().out().println(url);
            }
            return 0;
        }
        return runPsql(session, chosen, url);
    }

    private static JsonNode replicatedNode(JsonNode info, String nodeName) {
        for (JsonNode n : info.path("nodes")) {
            if (nodeName != null && nodeName.equals(Json.text(n, "node_name"))) {
                return n;
            }
        }
        return null;
    }

    private JsonNode choose(JsonNode info) {
        for (JsonNode i : info.path("instances")) {
            if (node == null || node.equals(Json.text(i, "node_name")) || node.equals(Json.text(i, "instance_id"))) {
                return i;
            }
        }
        throw new CliFailure(
                CliFailure.NOT_FOUND,
                node == null
                        ? "database " + database + " has no instances"
                        : "database " + database + " has no node or instance " + node);
    }

    private Integer runPsql(Session session, JsonNode chosen, String url) {
        Optional<Path> binary = onPath("psql");
        if (binary.isEmpty()) {
            throw new CliFailure(
                    CliFailure.FAILED, "psql is not installed (not found on PATH); connect with: " + masked(url));
        }
        List<String> command = new ArrayList<>(List.of(
                binary.get().toString(),
                "--host",
                Json.text(chosen, "host"),
                "--port",
                Json.text(chosen, pooled ? "pooler_port" : "port"),
                "--dbname",
                Json.text(chosen, "database")));
        String username = Json.text(chosen, "user");
        if (username != null) {
            command.add("--username");
            command.add(username);
        }
        command.addAll(psqlArgs);
        ProcessBuilder builder = new ProcessBuilder(command).inheritIO();
        password(url).ifPresent(p -> builder.environment().put("PGPASSWORD", p));
        try {
            // Java cannot exec(2) in place: psql inherits the terminal, and its exit code becomes ours.
            return builder.start().waitFor();
        } catch (IOException e) {
            throw new CliFailure(CliFailure.FAILED, "cannot run " + binary.get() + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliFailure(CliFailure.FAILED, "interrupted while psql ran", e);
        }
    }

    /** The password in postgresql://user:password@host…, decoded. */
    static Optional<String> password(String url) {
        int scheme = url.indexOf("://");
        int at = url.lastIndexOf('@');
        if (scheme < 0 || at < scheme) {
            return Optional.empty();
        }
        String auth = url.substring(scheme + 3, at);
        int colon = auth.indexOf(':');
        return colon < 0
                ? Optional.empty()
                : Optional.of(URLDecoder.decode(auth.substring(colon + 1), StandardCharsets.UTF_8));
    }

    static String masked(String url) {
        Optional<String> p = password(url);
        if (p.isEmpty()) {
            return url;
        }
        int scheme = url.indexOf("://");
        int at = url.lastIndexOf('@');
        String auth = url.substring(scheme + 3, at);
        return url.substring(0, scheme + 3) + auth.substring(0, auth.indexOf(':')) + ":****" + url.substring(at);
    }

    static Optional<Path> onPath(String name) {
        String path = System.getenv("PATH");
        if (path == null) {
            return Optional.empty();
        }
        for (String dir : path.split(File.pathSeparator)) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir, name);
            if (Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }
}
