package io.pgfleet.server.api;

import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.server.config.FleetProperties;
import io.pgfleet.server.config.PgfleetProperties;
import io.pgfleet.server.fleet.HostRecord;
import io.pgfleet.server.fleet.JdbcFleetRepository;
import io.pgfleet.server.fleet.JdbcFleetRepository.Leader;
import io.pgfleet.server.security.Caller;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestAttribute;
import org.springframework.web.bind.annotation.RestController;

/** Hosts of the fleet and health: any host lists every host, with its state as the catalog sees it. */
@RestController
public class HostController {
    /** A host as the API shows it (DESIGN.md §6: state, last seen, address, port range, versions, capacity). */
    public record HostView(
            String id,
            String hostId,
            String state,
            boolean draining,
            boolean leader,
            String advertiseHost,
            String apiUrl,
            String portRange,
            List<String> postgresVersions,
            Map<String, Object> capacity,
            int instances,
            String problem,
            Instant createdAt,
            Instant startedAt,
            Instant lastSeenAt) {}

    public record HostList(List<HostView> hosts) {}

    public record HostEnvelope(HostView host) {}

    public record ClusterView(String hostId, String leader, Long leaderEpoch, List<HostView> hosts) {}

    private final JdbcFleetRepository fleet;
    private final PgfleetProperties properties;
    private final FleetProperties fleetProperties;

    public HostController(JdbcFleetRepository fleet, PgfleetProperties properties, FleetProperties fleetProperties) {
        this.fleet = fleet;
        this.properties = properties;
        this.fleetProperties = fleetProperties;
    }

    @GetMapping("/v1/health")
    public Map<String, String> health() {
        return Map.of("status", "ok", "host_id", properties.hostId());
    }

    @GetMapping("/v1/hosts")
    public HostList list() {
        Optional<Leader> leader = fleet.leader();
        return new HostList(fleet.hosts().stream().map(h -> view(h, leader)).toList());
    }

    @GetMapping("/v1/hosts/{hostId}")
    public HostView get(@PathVariable String hostId) {
        return view(find(hostId), fleet.leader());
    }

    /** pgEdge's call: this host, the leader and every host. */
    @GetMapping("/v1/cluster")
    public ClusterView cluster() {
        Optional<Leader> leader = fleet.leader();
        return new ClusterView(
                properties.hostId(),
                leader.map(Leader::hostId).orElse(null),
                leader.map(Leader::epoch).orElse(null),
                fleet.hosts().stream().map(h -> view(h, leader)).toList());
    }

    /** No new instances go to a draining host; what runs there stays. */
    @PostMapping("/v1/hosts/{hostId}/drain")
    public HostEnvelope drain(@RequestAttribute(Caller.ATTRIBUTE) Caller caller, @PathVariable String hostId) {
        return setDraining(caller, hostId, true);
    }

    @PostMapping("/v1/hosts/{hostId}/undrain")
    public HostEnvelope undrain(@RequestAttribute(Caller.ATTRIBUTE) Caller caller, @PathVariable String hostId) {
        return setDraining(caller, hostId, false);
    }

    private HostEnvelope setDraining(Caller caller, String hostId, boolean draining) {
        requireAdmin(caller, "drain hosts");
        if (!fleet.setDraining(hostId, draining)) {
            throw PgfleetException.notFound("host " + hostId);
        }
        return new HostEnvelope(get(hostId));
    }

    /** Removes a host that is stopped (unreachable) and holds no instance. */
    @DeleteMapping("/v1/hosts/{hostId}")
    public Map<String, String> remove(@RequestAttribute(Caller.ATTRIBUTE) Caller caller, @PathVariable String hostId) {
        requireAdmin(caller, "remove hosts");
        HostRecord host = find(hostId);
        if (host.instances() > 0) {
            throw new PgfleetException(
                    ErrorCode.INVALID_STATE,
                    "host " + hostId + " still holds " + host.instances()
                            + " instance(s); delete their databases (or those nodes) first");
        }
        if (host.isReachable(fleetProperties.hostTimeout())) {
            throw new PgfleetException(
                    ErrorCode.INVALID_STATE,
                    "host " + hostId + " is running (last heartbeat " + host.millisSinceSeen() / 1000
                            + " s ago); stop its pgfleet first, or it registers again (drain it to keep new"
                            + " instances off)");
        }
        if (!fleet.removeIfEmpty(hostId)) {
            throw new PgfleetException(
                    ErrorCode.INVALID_STATE, "host " + hostId + " got an instance meanwhile; it was not removed");
        }
        return Map.of("host_id", hostId, "status", "removed");
    }

    private static void requireAdmin(Caller caller, String what) {
        if (!caller.isAdmin()) {
            throw new PgfleetException(ErrorCode.FORBIDDEN, "only admin keys may " + what);
        }
    }

    private HostRecord find(String hostId) {
        return fleet.host(hostId).orElseThrow(() -> PgfleetException.notFound("host " + hostId));
    }

    private HostView view(HostRecord h, Optional<Leader> leader) {
        return new HostView(
                h.hostId(),
                h.hostId(),
                h.observedState(fleetProperties.hostTimeout()),
                h.draining(),
                leader.map(l -> l.hostId().equals(h.hostId()) && l.expiresAt().isAfter(Instant.now()))
                        .orElse(false),
                h.advertiseHost(),
                h.apiUrl(),
                h.portRangeFirst() + "-" + h.portRangeLast(),
                h.postgresVersions(),
                capacity(h),
                h.instances(),
                h.problem(),
                h.createdAt(),
                h.startedAt(),
                h.lastSeenAt());
    }

    private static Map<String, Object> capacity(HostRecord h) {
        Map<String, Object> capacity = new java.util.LinkedHashMap<>();
        capacity.put("cores", h.cores());
        capacity.put("memory_bytes", h.memoryBytes());
        capacity.put("max_instances", h.maxInstances());
        return capacity;
    }
}
