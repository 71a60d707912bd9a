package io.pgfleet.server.api;

import io.pgfleet.core.PgfleetException;
import io.pgfleet.server.agent.PostgresDistribution;
import io.pgfleet.server.api.Views.HostList;
import io.pgfleet.server.api.Views.HostView;
import io.pgfleet.server.catalog.CatalogRows.HostRow;
import io.pgfleet.server.catalog.JdbcHostRepository;
import io.pgfleet.server.config.PgfleetProperties;
import java.util.List;
import java.util.Map;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RestController;

/** Hosts and health. */
@RestController
public class HostController {
    private final JdbcHostRepository hosts;
    private final PostgresDistribution distribution;
    private final PgfleetProperties properties;

    public HostController(JdbcHostRepository hosts, PostgresDistribution distribution, PgfleetProperties properties) {
        this.hosts = hosts;
        this.distribution = distribution;
        this.properties = properties;
    }

    @GetMapping("/v1/health")
    public Map<String, String> health() {
        return Map.of("status", "ok", "host_id", properties.hostId());
    }

    @GetMapping("/v1/hosts")
    public HostList list() {
        return new HostList(hosts.list().stream().map(this::view).toList());
    }

    @GetMapping("/v1/hosts/{hostId}")
    public HostView get(@PathVariable String hostId) {
        return hosts.find(hostId).map(this::view).orElseThrow(() -> PgfleetException.notFound("host " + hostId));
    }

    private HostView view(HostRow h) {
        boolean self = h.hostId().equals(properties.hostId());
        return new HostView(
                h.hostId(),
                h.hostId(),
                self ? "available" : "unknown",
                h.portRangeFirst() + "-" + h.portRangeLast(),
                h.createdAt(),
                h.lastSeenAt(),
                self ? List.copyOf(distribution.versions()) : List.of());
    }
}
