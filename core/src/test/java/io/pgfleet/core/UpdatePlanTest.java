package io.pgfleet.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class UpdatePlanTest {
    private static final Set<String> POSTMASTER = Set.of("shared_buffers", "max_connections");
    private static final Map<String, Integer> PORTS = Map.of("n1", 6001, "n2", 6002);

    private static DatabaseSpec spec(
            List<NodeSpec> nodes,
            List<DatabaseUserSpec> users,
            Map<String, String> conf,
            PoolerSpec pooler,
            ResourcesSpec resources) {
        return new DatabaseSpec("shop", "17", null, nodes, users, conf, pooler, null, resources);
    }

    private static final List<NodeSpec> TWO_NODES =
            List.of(new NodeSpec("n1", List.of(), null), new NodeSpec("n2", List.of(), null));

    private static DatabaseUserSpec user(String name, String... attributes) {
        return new DatabaseUserSpec(name, null, null, List.of(attributes), List.of());
    }

    private static DatabaseSpec base() {
        return spec(TWO_NODES, List.of(user("admin"), user("app")), Map.of("work_mem", "4MB"), null, null);
    }

    @Test
    void theSameSpecPlansNothing() {
        UpdatePlan plan = UpdatePlan.between(base(), base(), PORTS, POSTMASTER);
        assertThat(plan.changesNothing()).isTrue();
        assertThat(plan.leavesPendingRestart()).isFalse();
    }

    @Test
    void usersAreCreatedAlteredAndDroppedByName() {
        DatabaseSpec desired = spec(
                TWO_NODES,
                List.of(user("admin", "CREATEDB"), new DatabaseUserSpec("o'brien \"x\"", null, null, null, null)),
                Map.of("work_mem", "4MB"),
                null,
                null);
        UpdatePlan plan = UpdatePlan.between(base(), desired, PORTS, POSTMASTER);
        assertThat(plan.usersToCreate()).containsExactly("o'brien \"x\"");
        assertThat(plan.usersToAlter()).containsExactly("admin");
        assertThat(plan.usersToDrop()).containsExactly("app");
    }

    @Test
    void aGivenPasswordAltersTheUserEvenWithTheSameAttributes() {
        DatabaseSpec desired =
                base().withDatabaseUsers(List.of(user("admin"), user("app").withPassword("new one")));
        assertThat(UpdatePlan.between(base(), desired, PORTS, POSTMASTER).usersToAlter())
                .containsExactly("app");
    }

    @Test
    void explicitDefaultAttributesAreNoChange() {
        DatabaseSpec desired = base().withDatabaseUsers(List.of(user("admin", "LOGIN", "NOSUPERUSER"), user("app")));
        assertThat(UpdatePlan.between(base(), desired, PORTS, POSTMASTER).changesNothing())
                .isTrue();
    }

    @Test
    void connectionLimitAndMembershipsAreAlterations() {
        DatabaseSpec desired = base().withDatabaseUsers(List.of(
                new DatabaseUserSpec("admin", null, null, List.of(), List.of("pg_read_all_stats")),
                new DatabaseUserSpec("app", null, null, List.of(), List.of(), 10)));
        assertThat(UpdatePlan.between(base(), desired, PORTS, POSTMASTER).usersToAlter())
                .containsExactly("admin", "app");
    }

    @Test
    void reloadableAndPostmasterParametersAreSeparated() {
        DatabaseSpec desired = spec(
                TWO_NODES,
                base().databaseUsers(),
                Map.of("work_mem", "8MB", "shared_buffers", "256MB", "statement_timeout", "5s"),
                null,
                null);
        UpdatePlan plan = UpdatePlan.between(base(), desired, PORTS, POSTMASTER);
        assertThat(plan.parametersToReload()).containsExactly("statement_timeout", "work_mem");
        assertThat(plan.parametersNeedingRestart()).containsExactly("shared_buffers");
        assertThat(plan.leavesPendingRestart()).isTrue();
    }

    @Test
    void aRemovedParameterIsAChangeToo() {
        DatabaseSpec desired = spec(TWO_NODES, base().databaseUsers(), Map.of(), null, null);
        assertThat(UpdatePlan.between(base(), desired, PORTS, POSTMASTER).parametersToReload())
                .containsExactly("work_mem");
    }

    @Test
    void memoryDerivesFourParametersAndTheSpecsConfWins() {
        DatabaseSpec desired =
                spec(TWO_NODES, base().databaseUsers(), Map.of("work_mem", "4MB"), null, new ResourcesSpec(2048));
        assertThat(desired.effectiveConf())
                .containsEntry("shared_buffers", "512MB")
                .containsEntry("effective_cache_size", "1536MB")
                .containsEntry("maintenance_work_mem", "128MB")
                .containsEntry("work_mem", "4MB");
        UpdatePlan plan = UpdatePlan.between(base(), desired, PORTS, POSTMASTER);
        assertThat(plan.parametersToReload()).containsExactly("effective_cache_size", "maintenance_work_mem");
        assertThat(plan.parametersNeedingRestart()).containsExactly("shared_buffers");
    }

    @Test
    void portChangesNodesAddedAndRemoved() {
        DatabaseSpec desired = spec(
                List.of(new NodeSpec("n1", List.of(), 7001), new NodeSpec("n3", List.of(), null)),
                base().databaseUsers(),
                Map.of("work_mem", "4MB"),
                null,
                null);
        UpdatePlan plan = UpdatePlan.between(base(), desired, PORTS, POSTMASTER);
        assertThat(plan.portChanges()).containsExactly(new UpdatePlan.PortChange("n1", 6001, 7001));
        assertThat(plan.nodesToAdd()).containsExactly("n3");
        assertThat(plan.nodesToRemove()).containsExactly("n2");
    }

    @Test
    void theSamePortIsNoChange() {
        DatabaseSpec desired = spec(
                List.of(new NodeSpec("n1", List.of(), 6001), new NodeSpec("n2", List.of(), null)),
                base().databaseUsers(),
                Map.of("work_mem", "4MB"),
                null,
                null);
        assertThat(UpdatePlan.between(base(), desired, PORTS, POSTMASTER).portChanges())
                .isEmpty();
    }

    @Test
    void enablingOrReconfiguringThePoolerIsAChangeButADisabledOneIsNone() {
        DatabaseSpec on = spec(
                TWO_NODES,
                base().databaseUsers(),
                base().postgresqlConf(),
                new PoolerSpec(true, null, null, null),
                null);
        DatabaseSpec bigger = spec(
                TWO_NODES, base().databaseUsers(), base().postgresqlConf(), new PoolerSpec(true, null, 50, null), null);
        DatabaseSpec off = spec(
                TWO_NODES,
                base().databaseUsers(),
                base().postgresqlConf(),
                new PoolerSpec(false, "session", null, null),
                null);
        assertThat(UpdatePlan.between(base(), on, PORTS, POSTMASTER).poolerChanged())
                .isTrue();
        assertThat(UpdatePlan.between(on, bigger, PORTS, POSTMASTER).poolerChanged())
                .isTrue();
        assertThat(UpdatePlan.between(base(), off, PORTS, POSTMASTER).poolerChanged())
                .isFalse();
    }

    @Test
    void aHostAddedToANodeAddsAReplicaAndARemovedOneRemovesIt() {
        DatabaseSpec two = base().withNodes(List.of(new NodeSpec("n1", List.of("host-1", "host-2"), null)));
        DatabaseSpec three = base().withNodes(List.of(new NodeSpec("n1", List.of("host-1", "host-2", "host-3"), null)));
        UpdatePlan grow = UpdatePlan.between(two, three, PORTS, POSTMASTER);
        assertThat(grow.replicasToAdd()).containsExactly(new UpdatePlan.ReplicaChange("n1", "host-3", null));
        assertThat(grow.replicasToRemove()).isEmpty();
        assertThat(grow.changesNothing()).isFalse();
        assertThat(grow.changesReplicasOf("n1")).isTrue();
        UpdatePlan shrink = UpdatePlan.between(three, two, PORTS, POSTMASTER);
        assertThat(shrink.replicasToRemove()).containsExactly(new UpdatePlan.ReplicaChange("n1", "host-3", null));
        assertThat(shrink.replicasToAdd()).isEmpty();
        // The same hosts in another order change nothing: the primary stays where it is.
        DatabaseSpec reordered = base().withNodes(List.of(new NodeSpec("n1", List.of("host-2", "host-1"), null)));
        assertThat(UpdatePlan.between(two, reordered, PORTS, POSTMASTER).changesNothing())
                .isTrue();
    }

    @Test
    void nodesChangingNamesOnlyTheNodesWhoseRestartParameterChanges() {
        DatabaseSpec desired = base().withNodes(List.of(
                new NodeSpec("n1", List.of(), null, null, Map.of("shared_buffers", "64MB"), null, null, null),
                new NodeSpec("n2", List.of(), null)));
        assertThat(UpdatePlan.nodesChanging(base(), desired, List.of("shared_buffers")))
                .containsExactly("n1");
    }
}
