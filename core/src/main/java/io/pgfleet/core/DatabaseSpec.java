package io.pgfleet.core;

import java.util.List;
import java.util.Map;

/**
 * The desired state of one database, in the shape of pgEdge Control Plane's spec (DESIGN.md §2).
 * Optional fields are null when absent; {@link SpecValidator} decides what is acceptable.
 */
public record DatabaseSpec(
        String databaseName,
        String postgresVersion,
        Integer port,
        List<NodeSpec> nodes,
        List<DatabaseUserSpec> databaseUsers,
        Map<String, String> postgresqlConf,
        PoolerSpec pooler,
        String restartPolicy) {

    public DatabaseSpec {
        nodes = nodes == null ? List.of() : List.copyOf(nodes);
        databaseUsers = databaseUsers == null ? List.of() : List.copyOf(databaseUsers);
        postgresqlConf = postgresqlConf == null ? Map.of() : Map.copyOf(postgresqlConf);
    }

    /** The port a node asks for: its own, else the spec-wide one for the first node, else none (auto-assign). */
    public Integer requestedPort(NodeSpec node) {
        if (node.port() != null) {
            return node.port();
        }
        boolean specPortTakenByAnother = nodes.stream().anyMatch(n -> port != null && port.equals(n.port()));
        return nodes.indexOf(node) == 0 && !specPortTakenByAnother ? port : null;
    }

    /** The user that owns {@code database_name}, if one is marked {@code db_owner}. */
    public java.util.Optional<DatabaseUserSpec> owner() {
        return databaseUsers.stream()
                .filter(u -> Boolean.TRUE.equals(u.dbOwner()))
                .findFirst();
    }

    public DatabaseSpec withDatabaseUsers(List<DatabaseUserSpec> users) {
        return new DatabaseSpec(
                databaseName, postgresVersion, port, nodes, users, postgresqlConf, pooler, restartPolicy);
    }

    public DatabaseSpec withPostgresVersion(String version) {
        return new DatabaseSpec(
                databaseName, version, port, nodes, databaseUsers, postgresqlConf, pooler, restartPolicy);
    }

    /** The same spec with every password replaced by {@code null}: what is stored and shown. */
    public DatabaseSpec redacted() {
        return withDatabaseUsers(
                databaseUsers.stream().map(u -> u.withPassword(null)).toList());
    }
}
