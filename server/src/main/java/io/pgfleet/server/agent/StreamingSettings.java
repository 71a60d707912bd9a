package io.pgfleet.server.agent;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How an instance of a replicated node takes part in streaming replication, as the catalog decides it
 * (who is the node's primary): its slot (also its application name), the primary it streams from
 * (null for the primary itself) and the addresses allowed to open replication connections to it.
 * {@code synchronousStandbyNames}: on a primary whose spec asks for synchronous replication, once
 * another instance of its node streams ({@code ANY 1 (…)}); null otherwise. {@link #NONE} for a node
 * with one host.
 */
public record StreamingSettings(
        String slotName,
        String primaryHost,
        Integer primaryPort,
        List<String> replicationSources,
        String synchronousStandbyNames) {
    /** The reserved role replicas connect as (REPLICATION LOGIN, password in the catalog). */
    public static final String ROLE = "pgfleet_replication";

    public static final StreamingSettings NONE = new StreamingSettings(null, null, null, List.of(), null);

    public StreamingSettings {
        replicationSources = replicationSources == null ? List.of() : List.copyOf(replicationSources);
    }

    public boolean isReplicated() {
        return slotName != null;
    }

    /** Whether the instance runs as a standby of {@link #primaryHost}. */
    public boolean isStandby() {
        return primaryHost != null;
    }

    /** The parameters pgfleet owns for streaming; {@code passfile} holds the role's password. */
    Map<String, String> parameters(Path passfile) {
        if (!isReplicated()) {
            return Map.of();
        }
        Map<String, String> conf = new LinkedHashMap<>();
        conf.put("wal_log_hints", "on"); // pg_rewind needs it to bring back a demoted primary
        conf.put("hot_standby", "on");
        conf.put("wal_level", "replica");
        conf.put("recovery_target_timeline", "latest");
        conf.put("cluster_name", slotName);
        if (synchronousStandbyNames != null && !isStandby()) {
            conf.put("synchronous_standby_names", synchronousStandbyNames);
        }
        if (isStandby()) {
            conf.put(
                    "primary_conninfo",
                    "host=" + primaryHost + " port=" + primaryPort + " user=" + ROLE + " passfile=" + passfile
                            + " application_name=" + slotName + " connect_timeout=2");
            conf.put("primary_slot_name", slotName);
        }
        return conf;
    }
}
