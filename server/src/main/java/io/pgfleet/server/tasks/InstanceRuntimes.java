package io.pgfleet.server.tasks;

import io.pgfleet.core.NodeSpec;
import io.pgfleet.server.agent.InstanceRuntime;
import io.pgfleet.server.agent.StreamingSettings;
import io.pgfleet.server.catalog.CatalogRows.DatabaseRow;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.catalog.JdbcInstanceRepository;
import io.pgfleet.server.fleet.HostCalls;
import io.pgfleet.server.fleet.HostRecord;
import io.pgfleet.server.fleet.JdbcFleetRepository;
import io.pgfleet.server.security.SecretBox;
import java.util.ArrayList;
import java.util.List;
import org.springframework.stereotype.Component;

/**
 * Turns an instance's catalog row into the agent's {@link InstanceRuntime}, its passwords decrypted
 * and, for a node of several hosts, its streaming settings as the catalog decides them (who is the
 * node's primary now).
 */
@Component
public class InstanceRuntimes {
    private final SecretBox secrets;
    private final JdbcInstanceRepository instances;
    private final JdbcFleetRepository fleet;
    private final HostCalls hostCalls;

    public InstanceRuntimes(
            SecretBox secrets, JdbcInstanceRepository instances, JdbcFleetRepository fleet, HostCalls hostCalls) {
        this.secrets = secrets;
        this.instances = instances;
        this.fleet = fleet;
        this.hostCalls = hostCalls;
    }

    public InstanceRuntime of(DatabaseRow db, InstanceRow row) {
        boolean replicated = db.spec()
                .node(row.nodeName())
                .map(NodeSpec::hostIds)
                .map(hosts -> hosts.size() > 1)
                .orElse(false);
        return of(db.id(), db.tenantId(), row, replicated ? streaming(row, db) : StreamingSettings.NONE);
    }

    /** Enough to observe an instance (is it running?); nothing may run as its OS user from this one. */
    public InstanceRuntime of(String databaseId, InstanceRow row) {
        return of(databaseId, null, row, StreamingSettings.NONE);
    }

    /**
     * Only to ask whether its postmaster and pooler run (the health monitor, every second for every
     * instance): no password is decrypted, so nothing can connect or run with this one.
     */
    public InstanceRuntime observing(InstanceRow row) {
        return new InstanceRuntime(
                row.id(),
                row.nodeName(),
                "",
                row.postgresVersion(),
                row.port(),
                row.poolerPort(),
                null,
                null,
                null,
                StreamingSettings.NONE);
    }

    /** Slot and application name of an instance: {@code pgfleet_<node>_<suffix of its id>}. */
    public static String slotName(InstanceRow instance) {
        return slotName(instance.nodeName(), instance.id());
    }

    /** {@link #slotName(InstanceRow)} of an instance whose row may be gone (a removed replica). */
    public static String slotName(String node, String instanceId) {
        return "pgfleet_" + node + "_" + instanceId.substring(instanceId.lastIndexOf('-') + 1);
    }

    private StreamingSettings streaming(InstanceRow planned, DatabaseRow db) {
        boolean synchronous = db.spec().waitsForReplica();
        List<String> hosts =
                db.spec().node(planned.nodeName()).map(NodeSpec::hostIds).orElse(List.of());
        // The instances of the node's hosts: a replica an update removes is no longer waited for.
        List<InstanceRow> node = instances.byDatabase(planned.databaseUuid()).stream()
                .filter(i -> i.nodeName().equals(planned.nodeName()))
                .filter(i -> hosts.contains(i.hostId()) || i.id().equals(planned.id()))
                .toList();
        // The role as the catalog has it now: a row read when the task was planned may predate a switchover.
        InstanceRow row = node.stream()
                .filter(i -> i.id().equals(planned.id()))
                .findFirst()
                .orElse(planned);
        InstanceRow primary =
                node.stream().filter(i -> !i.isReplica()).findFirst().orElse(null);
        List<String> sources = new ArrayList<>();
        for (HostRecord host : fleet.hosts()) {
            if (host.advertiseHost() != null && !sources.contains(host.advertiseHost())) {
                sources.add(host.advertiseHost());
            }
        }
        if (!sources.contains("127.0.0.1")) {
            sources.add("127.0.0.1"); // hosts sharing a machine connect from the loopback's first address
        }
        boolean standby = row.isReplica() && primary != null && !primary.id().equals(row.id());
        // Only once another instance streams: before that, commits (the first roles) would wait forever.
        // Every other instance is named, so the rule holds whichever of them is promoted later.
        String synchronousNames = null;
        if (synchronous
                && !standby
                && node.stream()
                        .anyMatch(i ->
                                !i.id().equals(row.id()) && i.state() == io.pgfleet.core.InstanceState.AVAILABLE)) {
            synchronousNames = "ANY 1 ("
                    + String.join(
                            ", ",
                            node.stream()
                                    .filter(i -> !i.id().equals(row.id()))
                                    .map(i -> "\"" + slotName(i) + "\"")
                                    .toList())
                    + ")";
        }
        return new StreamingSettings(
                slotName(row),
                standby ? hostCalls.advertiseHost(primary.hostId()) : null,
                standby ? primary.port() : null,
                sources,
                synchronousNames);
    }

    private InstanceRuntime of(String databaseId, String tenantId, InstanceRow row, StreamingSettings streaming) {
        return new InstanceRuntime(
                row.id(),
                row.nodeName(),
                databaseId,
                row.postgresVersion(),
                row.port(),
                row.poolerPort(),
                secrets.open(row.superuserPasswordEnc()),
                row.poolerPasswordEnc() == null ? null : secrets.open(row.poolerPasswordEnc()),
                tenantId,
                streaming);
    }
}
