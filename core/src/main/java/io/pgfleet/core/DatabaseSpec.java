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
        String restartPolicy,
        ResourcesSpec resources) {

    /** A spec without {@code resources}. */
    public DatabaseSpec(
            String databaseName,
            String postgresVersion,
            Integer port,
            List<NodeSpec> nodes,
            List<DatabaseUserSpec> databaseUsers,
            Map<String, String> postgresqlConf,
            PoolerSpec pooler,
            String restartPolicy) {
        this(databaseName, postgresVersion, port, nodes, databaseUsers, postgresqlConf, pooler, restartPolicy, null);
    }

    public DatabaseSpec {
        nodes = nodes == null ? List.of() : List.copyOf(nodes);
        databaseUsers = databaseUsers == null ? List.of() : List.copyOf(databaseUsers);
        postgresqlConf = postgresqlConf == null ? Map.of() : Map.copyOf(postgresqlConf);
    }

    /** {@code restart_policy} as the enum; absent (or, before validation, unknown) is {@code always}. */
    public RestartPolicy effectiveRestartPolicy() {
        return RestartPolicy.fromLabel(restartPolicy).orElse(RestartPolicy.ALWAYS);
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
                databaseName, postgresVersion, port, nodes, users, postgresqlConf, pooler, restartPolicy, resources);
    }

    public DatabaseSpec withPostgresVersion(String version) {
        return new DatabaseSpec(
                databaseName, version, port, nodes, databaseUsers, postgresqlConf, pooler, restartPolicy, resources);
    }

    public DatabaseSpec withNodes(List<NodeSpec> newNodes) {
        return new DatabaseSpec(
                databaseName,
                postgresVersion,
                port,
                newNodes,
                databaseUsers,
                postgresqlConf,
                pooler,
                restartPolicy,
                resources);
    }

    /** Whether PgBouncer runs in front of every instance. */
    public boolean hasPooler() {
        return pooler != null && pooler.isEnabled();
    }

    public java.util.Optional<NodeSpec> node(String name) {
        return nodes.stream().filter(n -> n.name().equals(name)).findFirst();
    }

    /**
     * The parameters every instance runs with: those derived from {@code resources.memory_mb}, then the
     * spec's {@code postgresql_conf}, which wins where both set one.
     */
    public Map<String, String> effectiveConf() {
        Map<String, String> conf = new java.util.TreeMap<>();
        if (resources != null) {
            conf.putAll(resources.derivedParameters());
        }
        conf.putAll(postgresqlConf);
        return conf;
    }

    /** The same spec with every password replaced by {@code null}: what is stored and shown. */
    public DatabaseSpec redacted() {
        return withDatabaseUsers(
                databaseUsers.stream().map(u -> u.withPassword(null)).toList());
    }
}
