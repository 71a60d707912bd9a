package io.pgfleet.core;

import java.util.List;
import java.util.Map;

/**
 * A named member of a database. Beside its hosts and port, pgEdge's per-node overrides: a PostgreSQL
 * version, {@code postgresql_conf} merged over the spec's, {@code cpus} and {@code memory}, and the
 * {@code source_node} a node added by an update would be seeded from.
 */
public record NodeSpec(
        String name,
        List<String> hostIds,
        Integer port,
        String postgresVersion,
        Map<String, String> postgresqlConf,
        String cpus,
        String memory,
        String sourceNode) {
    public NodeSpec {
        hostIds = hostIds == null ? List.of() : List.copyOf(hostIds);
        postgresqlConf = postgresqlConf == null ? Map.of() : Map.copyOf(postgresqlConf);
    }

    public NodeSpec(String name, List<String> hostIds, Integer port) {
        this(name, hostIds, port, null, null, null, null, null);
    }

    public NodeSpec withHostIds(List<String> hosts) {
        return new NodeSpec(name, hosts, port, postgresVersion, postgresqlConf, cpus, memory, sourceNode);
    }

    public NodeSpec withPostgresVersion(String version) {
        return new NodeSpec(name, hostIds, port, version, postgresqlConf, cpus, memory, sourceNode);
    }
}
