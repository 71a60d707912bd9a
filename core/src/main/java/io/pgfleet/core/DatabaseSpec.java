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
        ResourcesSpec resources,
        String cpus,
        String memory,
        String driftPolicy,
        Boolean synchronousReplication) {

    /** A spec without {@code synchronous_replication}. */
    public DatabaseSpec(
            String databaseName,
            String postgresVersion,
            Integer port,
            List<NodeSpec> nodes,
            List<DatabaseUserSpec> databaseUsers,
            Map<String, String> postgresqlConf,
            PoolerSpec pooler,
            String restartPolicy,
            ResourcesSpec resources,
            String cpus,
            String memory,
            String driftPolicy) {
        this(
                databaseName,
                postgresVersion,
                port,
                nodes,
                databaseUsers,
                postgresqlConf,
                pooler,
                restartPolicy,
                resources,
                cpus,
                memory,
                driftPolicy,
                null);
    }

    /** What the drift check does with roles changed by hand: put them back (the default) or only say so. */
    public static final List<String> DRIFT_POLICIES = List.of("repair", "report");

    /** A spec without pgEdge's {@code cpus} and {@code memory}, nor {@code drift_policy}. */
    public DatabaseSpec(
            String databaseName,
            String postgresVersion,
            Integer port,
            List<NodeSpec> nodes,
            List<DatabaseUserSpec> databaseUsers,
            Map<String, String> postgresqlConf,
            PoolerSpec pooler,
            String restartPolicy,
            ResourcesSpec resources) {
        this(
                databaseName,
                postgresVersion,
                port,
                nodes,
                databaseUsers,
                postgresqlConf,
                pooler,
                restartPolicy,
                resources,
                null,
                null,
                null);
    }

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
        this(
                databaseName,
                postgresVersion,
                port,
                nodes,
                databaseUsers,
                postgresqlConf,
                pooler,
                restartPolicy,
                null,
                null,
                null,
                null);
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

    /**
     * The port a node asks for: its own, else the spec-wide one (pgEdge's meaning: every instance
     * listens on it), else none (auto-assign).
     */
    public Integer requestedPort(NodeSpec node) {
        return node.port() != null ? node.port() : port;
    }

    /** The PostgreSQL version a node runs: its own, else the spec's. */
    public String nodeVersion(NodeSpec node) {
        return node.postgresVersion() != null ? node.postgresVersion() : postgresVersion;
    }

    /** The user that owns {@code database_name}, if one is marked {@code db_owner}. */
    public java.util.Optional<DatabaseUserSpec> owner() {
        return databaseUsers.stream()
                .filter(u -> Boolean.TRUE.equals(u.dbOwner()))
                .findFirst();
    }

    public DatabaseSpec withDatabaseUsers(List<DatabaseUserSpec> users) {
        return new DatabaseSpec(
                databaseName,
                postgresVersion,
                port,
                nodes,
                users,
                postgresqlConf,
                pooler,
                restartPolicy,
                resources,
                cpus,
                memory,
                driftPolicy,
                synchronousReplication);
    }

    public DatabaseSpec withPostgresVersion(String version) {
        return new DatabaseSpec(
                databaseName,
                version,
                port,
                nodes,
                databaseUsers,
                postgresqlConf,
                pooler,
                restartPolicy,
                resources,
                cpus,
                memory,
                driftPolicy,
                synchronousReplication);
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
                resources,
                cpus,
                memory,
                driftPolicy,
                synchronousReplication);
    }

    /** Whether the drift check puts roles changed by hand back ({@code drift_policy} absent or "repair"). */
    public boolean repairsDrift() {
        return driftPolicy == null || driftPolicy.equals("repair");
    }

    /** Whether commits on a node's primary wait for one replica ({@code synchronous_standby_names = 'ANY 1 (…)'}). */
    public boolean waitsForReplica() {
        return Boolean.TRUE.equals(synchronousReplication);
    }

    /** Whether PgBouncer runs in front of every instance. */
    public boolean hasPooler() {
        return pooler != null && pooler.isEnabled();
    }

    public java.util.Optional<NodeSpec> node(String name) {
        return nodes.stream().filter(n -> n.name().equals(name)).findFirst();
    }

    /**
     * The parameters every instance runs with: those derived from {@code resources.memory_mb} (or
     * pgEdge's {@code memory}), then the spec's {@code postgresql_conf}, which wins where both set one.
     */
    public Map<String, String> effectiveConf() {
        Map<String, String> conf = new java.util.TreeMap<>();
        if (resources != null && resources.memoryMb() != null) {
            conf.putAll(resources.derivedParameters());
        } else if (memory != null && MemorySize.megabytes(memory).isPresent()) {
            conf.putAll(new ResourcesSpec(MemorySize.megabytes(memory).getAsInt()).derivedParameters());
        }
        conf.putAll(postgresqlConf);
        return conf;
    }

    /**
     * The parameters one node's instances run with: the spec-wide ones, then those derived from the
     * node's own {@code memory}, then the node's {@code postgresql_conf}.
     */
    public Map<String, String> effectiveConf(String nodeName) {
        Map<String, String> conf = new java.util.TreeMap<>(effectiveConf());
        node(nodeName).ifPresent(n -> {
            if (n.memory() != null && MemorySize.megabytes(n.memory()).isPresent()) {
                conf.putAll(new ResourcesSpec(MemorySize.megabytes(n.memory()).getAsInt()).derivedParameters());
            }
            conf.putAll(n.postgresqlConf());
        });
        return conf;
    }

    /** The CPUs one node's instances may use: the node's {@code cpus}, else the spec's; empty means no limit. */
    public java.util.OptionalDouble effectiveCpus(String nodeName) {
        String value = node(nodeName).map(NodeSpec::cpus).orElse(null);
        if (value == null) {
            value = cpus;
        }
        return value == null
                ? java.util.OptionalDouble.empty()
                : java.util.OptionalDouble.of(PgEdgeSpecRules.cpuCount(value));
    }

    /** Every node's parameters, by node name. */
    public Map<String, Map<String, String>> effectiveConfs() {
        Map<String, Map<String, String>> all = new java.util.TreeMap<>();
        nodes.forEach(n -> all.put(n.name(), effectiveConf(n.name())));
        return all;
    }

    /** The same spec with every password replaced by {@code null}: what is stored and shown. */
    public DatabaseSpec redacted() {
        return withDatabaseUsers(
                databaseUsers.stream().map(u -> u.withPassword(null)).toList());
    }
}
