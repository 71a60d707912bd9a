package io.pgfleet.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** pgEdge Control Plane's spec fields: cpus, memory, per-node overrides, source_node. */
class PgEdgeSpecRulesTest {
    private final SpecValidator validator = new SpecValidator(Set.of("16", "17", "17.11"), Set.of("host-1"), 2);

    @ParameterizedTest
    @ValueSource(strings = {"1", "0.5", "500m", "2", "1.250"})
    void cpusInPgEdgesFormatsUpToTheHostsCountAreAccepted(String cpus) {
        assertThatCode(() -> validator.validateCreate(request(spec(cpus, null, node("n1")))))
                .doesNotThrowAnyException();
    }

    @Test
    void moreCpusThanTheHostHasAreRefused() {
        assertThatThrownBy(() -> validator.validateCreate(request(spec("3", null, node("n1")))))
                .hasMessageContaining("spec.cpus: 3 is more than the 2 CPUs this host has");
    }

    @ParameterizedTest
    @ValueSource(strings = {"two", "1.2345", "-1", "5x"})
    void cpusNotInPgEdgesFormatAreRefused(String cpus) {
        assertThatThrownBy(() -> validator.validateCreate(request(spec(cpus, null, node("n1")))))
                .hasMessageContaining("spec.cpus")
                .hasMessageContaining("is not a CPU count");
    }

    @Test
    void memoryInSiOrIecNotationDrivesTheDerivedParameters() {
        DatabaseSpec spec = spec(null, "1GiB", node("n1"));
        assertThatCode(() -> validator.validateCreate(request(spec))).doesNotThrowAnyException();
        assertThat(spec.effectiveConf()).containsEntry("shared_buffers", "256MB");
        assertThat(MemorySize.megabytes("500M")).hasValue(476);
        assertThat(MemorySize.megabytes("512Mi")).hasValue(512);
        assertThat(MemorySize.megabytes("16GiB")).hasValue(16384);
    }

    @Test
    void memoryThatIsNotAnAmountIsRefused() {
        assertThatThrownBy(() -> validator.validateCreate(request(spec(null, "lots", node("n1")))))
                .hasMessageContaining("spec.memory: 'lots' is not an amount of memory");
    }

    @Test
    void aNodesOwnConfAndMemoryOverrideTheSpecsForThatNodeOnly() {
        NodeSpec n1 = new NodeSpec("n1", null, 6001, null, Map.of("work_mem", "16MB"), "1", "2GiB", null);
        DatabaseSpec spec = new DatabaseSpec(
                        "example",
                        "17",
                        null,
                        List.of(n1, node("n2")),
                        List.of(),
                        Map.of("work_mem", "8MB"),
                        null,
                        null)
                .withNodes(List.of(n1, new NodeSpec("n2", null, 6002)));
        assertThat(spec.effectiveConf("n1")).containsEntry("work_mem", "16MB").containsEntry("shared_buffers", "512MB");
        assertThat(spec.effectiveConf("n2")).containsEntry("work_mem", "8MB").doesNotContainKey("shared_buffers");
    }

    @Test
    void aNodeVersionTheHostDoesNotOfferIsRefusedListingWhatItOffers() {
        NodeSpec n1 = new NodeSpec("n1", null, null, "17.6", null, null, null, null);
        assertThatThrownBy(() -> validator.validateCreate(request(spec(null, null, n1))))
                .hasMessageContaining("spec.nodes[0].postgres_version: '17.6' is not available on this host")
                .hasMessageContaining("[16, 17, 17.11]");
    }

    @Test
    void sourceNodeOnANodeAddedByAnUpdateMustNameAnExistingNode() {
        DatabaseSpec current = spec(null, null, node("n1"));
        NodeSpec n2 = new NodeSpec("n2", null, 6002, null, null, null, null, "n9");
        DatabaseSpec desired = current.withNodes(List.of(node("n1"), n2));
        assertThatThrownBy(() ->
                        validator.validateUpdate("example", current, new UpdateDatabaseRequest(null, null, desired)))
                .hasMessageContaining("spec.nodes[1].source_node: 'n9' is not a node of this database before the"
                        + " update; name one of [n1]");
        NodeSpec seeded = new NodeSpec("n2", null, 6002, null, null, null, null, "n1");
        validator.validateUpdate(
                "example",
                current,
                new UpdateDatabaseRequest(null, null, current.withNodes(List.of(node("n1"), seeded))));
    }

    @Test
    void sourceNodeOfAnotherMajorVersionIsRefused() {
        DatabaseSpec current = spec(null, null, node("n1"));
        NodeSpec n2 = new NodeSpec("n2", null, 6002, "16", null, null, null, "n1");
        DatabaseSpec desired = current.withNodes(List.of(node("n1"), n2));
        assertThatThrownBy(() ->
                        validator.validateUpdate("example", current, new UpdateDatabaseRequest(null, null, desired)))
                .hasMessageContaining("spec.nodes[1].source_node: node n1 runs PostgreSQL 17 and node n2 would run 16");
    }

    @Test
    void sourceNodeOnCreateIsRefused() {
        NodeSpec n1 = new NodeSpec("n1", null, null, null, null, null, null, "n2");
        assertThatThrownBy(() -> validator.validateCreate(request(spec(null, null, n1))))
                .hasMessageContaining("applies only to a node added to an existing database by an update");
    }

    private static NodeSpec node(String name) {
        return new NodeSpec(name, null, 6001);
    }

    private static DatabaseSpec spec(String cpus, String memory, NodeSpec... nodes) {
        return new DatabaseSpec(
                "example", "17", null, List.of(nodes), List.of(), Map.of(), null, null, null, cpus, memory, null);
    }

    private static CreateDatabaseRequest request(DatabaseSpec spec) {
        return new CreateDatabaseRequest("example", Map.of(), spec);
    }
}
