package io.pgfleet.server.fleet;

import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.NodeSpec;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.core.PortRange;
import io.pgfleet.server.agent.PortProbe;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.config.FleetProperties;
import io.pgfleet.server.config.PgfleetProperties;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.IntPredicate;
import org.springframework.stereotype.Component;

/**
 * Where nodes go and whether their hosts can be worked on. Named {@code host_ids} are obeyed (a host
 * that is unreachable or draining is a 409 naming it); a node without them goes to a healthy host
 * that holds no other node of the database, least loaded first, and shares one only when every
 * healthy host already has a node. Ports are unique per host, so each host's own range applies.
 */
@Component
public class Placement {
    private final JdbcFleetRepository fleet;
    private final String hostId;
    private final PortRange localRange;
    private final Duration timeout;

    public Placement(JdbcFleetRepository fleet, PgfleetProperties properties, FleetProperties fleetProperties) {
        this.fleet = fleet;
        this.hostId = properties.hostId();
        this.localRange = PortRange.parse(properties.portRange());
        this.timeout = fleetProperties.hostTimeout();
    }

    /**
     * The nodes with a host each. {@code placed} are the hosts of the database's nodes that already
     * exist (an update adding a node); nodes that name their host keep it.
     */
    public List<NodeSpec> place(List<NodeSpec> nodes, Collection<String> placed) {
        return choose(fleet.hosts(), nodes, placed, hostId, timeout);
    }

    /** The decision alone, over the hosts as the catalog shows them: pure, so it is unit-tested. */
    static List<NodeSpec> choose(
            List<HostRecord> hosts, List<NodeSpec> nodes, Collection<String> placed, String self, Duration timeout) {
        Map<String, HostRecord> byId = new HashMap<>();
        hosts.forEach(h -> byId.put(h.hostId(), h));
        Map<String, Integer> load = new HashMap<>();
        hosts.forEach(h -> load.put(h.hostId(), h.instances()));
        Set<String> used = new HashSet<>(placed);
        for (NodeSpec node : nodes) {
            for (String named : node.hostIds()) {
                HostRecord host = byId.get(named);
                if (host != null) { // an unknown host is the validator's 422
                    requireUsable(host, "node " + node.name(), timeout);
                    used.add(named);
                    load.merge(named, 1, Integer::sum);
                }
            }
        }
        List<NodeSpec> result = new ArrayList<>();
        for (NodeSpec node : nodes) {
            if (!node.hostIds().isEmpty()) {
                result.add(node);
                continue;
            }
            List<HostRecord> candidates = hosts.stream()
                    .filter(h -> h.isReachable(timeout) && !h.draining())
                    .filter(h -> h.maxInstances() == null || load.get(h.hostId()) < h.maxInstances())
                    .sorted(Comparator.comparing((HostRecord h) -> used.contains(h.hostId()))
                            .thenComparing(h -> load.get(h.hostId()))
                            .thenComparing(h -> !h.hostId().equals(self)) // a tie: this host
                            .thenComparing(HostRecord::hostId))
                    .toList();
            if (candidates.isEmpty()) {
                throw new PgfleetException(
                        ErrorCode.HOST_UNAVAILABLE,
                        "node " + node.name() + ": no healthy host with room is available (hosts: "
                                + hosts.stream()
                                        .map(h -> h.hostId() + " "
                                                + (h.draining() ? "draining" : h.observedState(timeout)))
                                        .toList()
                                + "); name one in host_ids or bring a host back");
            }
            String chosen = candidates.get(0).hostId();
            used.add(chosen);
            load.merge(chosen, 1, Integer::sum);
            result.add(node.withHostIds(List.of(chosen)));
        }
        return result;
    }

    private static void requireUsable(HostRecord host, String subject, Duration timeout) {
        if (!host.isReachable(timeout)) {
            throw unreachable(host, subject);
        }
        if (host.draining()) {
            throw new PgfleetException(
                    ErrorCode.HOST_UNAVAILABLE,
                    subject + ": host " + host.hostId()
                            + " is draining and takes no new instances; choose another host");
        }
    }

    private static PgfleetException unreachable(HostRecord host, String subject) {
        return new PgfleetException(
                ErrorCode.HOST_UNAVAILABLE,
                subject + ": host " + host.hostId() + " is unreachable (last heartbeat " + host.millisSinceSeen() / 1000
                        + " s ago); retry when it is back");
    }

    /** Refuses (409, naming the host) work on instances whose host is unreachable. */
    public void requireReachable(Collection<InstanceRow> instances, String subject) {
        Set<String> hostIds = new TreeSet<>();
        instances.forEach(i -> hostIds.add(i.hostId()));
        for (String id : hostIds) {
            if (id.equals(hostId)) {
                continue; // this host answers this very call
            }
            HostRecord host = fleet.host(id).orElse(null);
            if (host != null && !host.isReachable(timeout)) {
                throw unreachable(host, subject);
            }
        }
    }

    public boolean isLocal(String host) {
        return hostId.equals(host);
    }

    /** The host's port range: this host's setting, or what another host registered. */
    public PortRange portRange(String host) {
        if (isLocal(host)) {
            return localRange;
        }
        return fleet.host(host)
                .map(h -> new PortRange(h.portRangeFirst(), h.portRangeLast()))
                .orElse(localRange);
    }

    /**
     * Whether a port is free on that host: a bind test here, or for another host only the catalog's
     * reservations (that host's start refuses a port something else holds, leaving the instance stopped).
     */
    public IntPredicate portProbe(String host) {
        return isLocal(host) ? PortProbe::isFree : port -> true;
    }

    /** Every host's row lock, in one order, so two requests placing on the same hosts do not deadlock. */
    public List<String> lockOrder(Collection<NodeSpec> nodes) {
        TreeSet<String> ids = new TreeSet<>();
        nodes.forEach(n -> ids.addAll(n.hostIds()));
        return List.copyOf(ids);
    }
}
