package io.pgfleet.cli;

import java.util.Map;
import picocli.CommandLine.ParameterException;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Turns {@code db create}'s flags into the request POST /v1/databases takes. Only the shape is built
 * here; the server validates names, ports and versions and names the field at fault.
 */
final class SpecFlags {
    private SpecFlags() {}

    static ObjectNode request(String id, DbCommand.Create flags) {
        if (id == null) {
            throw new ParameterException(flags.spec.commandLine(), "name the database (ID) or give --file");
        }
        ObjectNode request = Json.object();
        request.put("id", id);
        if (flags.labels != null) {
            ObjectNode labels = request.putObject("labels");
            flags.labels.forEach(labels::put);
        }
        ObjectNode spec = request.putObject("spec");
        // Ids may hold '-', Postgres names here may not: my-app gets the database my_app.
        spec.put("database_name", flags.databaseName == null ? id.replace('-', '_') : flags.databaseName);
        if (flags.postgresVersion != null) {
            spec.put("postgres_version", flags.postgresVersion);
        }
        ArrayNode nodes = spec.putArray("nodes");
        if (flags.nodes.isEmpty()) {
            nodes.addObject().put("name", "n1");
        }
        for (String node : flags.nodes) {
            // NAME[@HOST][:PORT]: n1, n1:6001, n1@host-2, n1@host-2:6001
            ObjectNode n = nodes.addObject();
            int colon = node.indexOf(':');
            String head = colon < 0 ? node : node.substring(0, colon);
            int at = head.indexOf('@');
            n.put("name", at < 0 ? head : head.substring(0, at));
            if (at >= 0) {
                String host = head.substring(at + 1);
                if (host.isEmpty()) {
                    throw new ParameterException(
                            flags.spec.commandLine(),
                            "--node " + node + ": no host after '@' (NAME@HOST, e.g. n1@host-2)");
                }
                n.putArray("host_ids").add(host);
            }
            if (colon >= 0) {
                n.put("port", port(flags, node, node.substring(colon + 1)));
            }
        }
        if (!flags.users.isEmpty()) {
            ArrayNode users = spec.putArray("database_users");
            for (String user : flags.users) {
                ObjectNode u = users.addObject();
                int colon = user.indexOf(':');
                u.put("username", colon < 0 ? user : user.substring(0, colon));
                if (colon >= 0) {
                    String role = user.substring(colon + 1);
                    if (!role.equals("owner")) {
                        throw new ParameterException(
                                flags.spec.commandLine(),
                                "--user " + user + ": after the colon only 'owner' is known (NAME or NAME:owner)");
                    }
                    u.put("db_owner", true);
                    u.putArray("attributes").add("LOGIN").add("CREATEDB");
                }
            }
        }
        if (flags.conf != null) {
            ObjectNode conf = spec.putObject("postgresql_conf");
            for (Map.Entry<String, String> e : flags.conf.entrySet()) {
                conf.put(e.getKey(), e.getValue());
            }
        }
        if (flags.pooler) {
            spec.putObject("pooler").put("enabled", true);
        }
        return request;
    }

    private static int port(DbCommand.Create flags, String node, String port) {
        try {
            return Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw new ParameterException(
                    flags.spec.commandLine(),
                    "--node " + node + ": '" + port + "' is not a port number (NAME[@HOST]:PORT)");
        }
    }
}
