package io.pgfleet.server.fleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.NodeSpec;
import io.pgfleet.core.PgfleetException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class PlacementTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    private static HostRecord host(String id, int instances, long millisSinceSeen, boolean draining) {
        return new HostRecord(
                id,
                "10.0.0." + id.charAt(id.length() - 1),
                "http://x",
                5433,
                5999,
                List.of("17"),
                2,
                1L << 30,
                100,
                "healthy",
                null,
                draining,
                Instant.now(),
                Instant.now(),
                Instant.now(),
                millisSinceSeen,
                instances);
    }

    private static NodeSpec node(String name, String... hosts) {
        return new NodeSpec(name, List.of(hosts), null);
    }

    private static List<String> hostsOf(List<NodeSpec> nodes) {
        return nodes.stream().map(n -> n.hostIds().get(0)).toList();
    }

    @Test
    void nodesWithoutHostsGoToDistinctHostsLeastLoadedFirst() {
        List<HostRecord> hosts =
                List.of(host("host-1", 5, 100, false), host("host-2", 1, 100, false), host("host-3", 3, 100, false));
        List<NodeSpec> placed =
                Placement.choose(hosts, List.of(node("n1"), node("n2"), node("n3")), List.of(), "host-1", TIMEOUT);
        assertThat(hostsOf(placed)).containsExactly("host-2", "host-3", "host-1");
    }

    @Test
    void aHostIsSharedOnlyWhenEveryHealthyHostHasANode() {
        List<HostRecord> hosts = List.of(host("host-1", 0, 100, false), host("host-2", 0, 100, false));
        List<NodeSpec> placed =
                Placement.choose(hosts, List.of(node("n1"), node("n2"), node("n3")), List.of(), "host-1", TIMEOUT);
        assertThat(hostsOf(placed)).containsExactly("host-1", "host-2", "host-1");
    }

    @Test
    void namedHostsAreObeyedAndCountAsUsed() {
        List<HostRecord> hosts =
                List.of(host("host-1", 0, 100, false), host("host-2", 0, 100, false), host("host-3", 9, 100, false));
        List<NodeSpec> placed = Placement.choose(
                hosts, List.of(node("n1", "host-1"), node("n2")), List.of("host-2"), "host-1", TIMEOUT);
        assertThat(hostsOf(placed)).containsExactly("host-1", "host-3");
    }

    @Test
    void unreachableAndDrainingHostsTakeNoNewNode() {
        List<HostRecord> hosts =
                List.of(host("host-1", 9, 100, false), host("host-2", 0, 6000, false), host("host-3", 0, 100, true));
        assertThat(hostsOf(Placement.choose(hosts, List.of(node("n1")), List.of(), "host-1", TIMEOUT)))
                .containsExactly("host-1");
        assertThatThrownBy(() -> Placement.choose(hosts, List.of(node("n1", "host-2")), List.of(), "host-1", TIMEOUT))
                .isInstanceOf(PgfleetException.class)
                .hasMessageContaining("host-2 is unreachable")
                .satisfies(e -> assertThat(((PgfleetException) e).code()).isEqualTo(ErrorCode.HOST_UNAVAILABLE));
        assertThatThrownBy(() -> Placement.choose(hosts, List.of(node("n1", "host-3")), List.of(), "host-1", TIMEOUT))
                .hasMessageContaining("host-3 is draining");
    }

    @Test
    void noHealthyHostIsAConflictNamingEachHost() {
        List<HostRecord> hosts = List.of(host("host-1", 0, 9000, false));
        assertThatThrownBy(() -> Placement.choose(hosts, List.of(node("n1")), List.of(), "host-2", TIMEOUT))
                .hasMessageContaining("host-1 unreachable");
    }
}
