package io.pgfleet.core;

import java.util.List;

/** A named member of a database; until replication lands, exactly one host per node. */
public record NodeSpec(String name, List<String> hostIds, Integer port) {
    public NodeSpec {
        hostIds = hostIds == null ? List.of() : List.copyOf(hostIds);
    }

    public NodeSpec withHostIds(List<String> hosts) {
        return new NodeSpec(name, hosts, port);
    }
}
