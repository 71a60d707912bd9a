package io.pgfleet.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a spec update will do, computed from the current and the desired spec alone: users to create,
 * alter and drop, parameters to reload and parameters that wait for a restart, port changes, nodes to
 * add and remove, replicas to add and remove (a host added to or removed from a node's {@code host_ids}),
 * and the replicated nodes restarted replica first. The API returns it with the task; the update
 * workflow applies it.
 *
 * @param parametersNeedingRestart postmaster parameters: written, then {@code pending_restart} until a restart
 *     (on a node with one instance; a replicated node is restarted at once, see {@code rollingRestarts})
 * @param poolerChanged PgBouncer is enabled, disabled or reconfigured
 * @param replicasToAdd a streaming replica cloned on each host added to an existing node's {@code host_ids}
 * @param replicasToRemove the replica on each host removed from a node's {@code host_ids}: stopped, its slot
 *     dropped on the primary, its files and ports freed
 * @param rollingRestarts replicated nodes whose settings need a restart: replicas restarted one at a time,
 *     then a switchover, and the old primary comes back as a replica with the new settings
 */
public record UpdatePlan(
        List<String> usersToCreate,
        List<String> usersToAlter,
        List<String> usersToDrop,
        List<String> parametersToReload,
        List<String> parametersNeedingRestart,
        List<PortChange> portChanges,
        List<String> nodesToAdd,
        List<String> nodesToRemove,
        boolean poolerChanged,
        List<ReplicaChange> replicasToAdd,
        List<ReplicaChange> replicasToRemove,
        List<RollingRestart> rollingRestarts) {

    /** A node moving to another port: applied with a restart of its instance. */
    public record PortChange(String node, int from, int to) {}

    /** The replica of {@code node} on {@code hostId}; {@code instanceId} once the intake knows it. */
    public record ReplicaChange(String node, String hostId, String instanceId) {
        public ReplicaChange withInstanceId(String id) {
            return new ReplicaChange(node, hostId, id);
        }
    }

    /** A replicated node restarted replica first; {@code primaryInstanceId} is its primary when the update began. */
    public record RollingRestart(String node, String primaryInstanceId) {}

    public UpdatePlan(
            List<String> usersToCreate,
            List<String> usersToAlter,
            List<String> usersToDrop,
            List<String> parametersToReload,
            List<String> parametersNeedingRestart,
            List<PortChange> portChanges,
            List<String> nodesToAdd,
            List<String> nodesToRemove,
            boolean poolerChanged) {
        this(
                usersToCreate,
                usersToAlter,
                usersToDrop,
                parametersToReload,
                parametersNeedingRestart,
                portChanges,
                nodesToAdd,
                nodesToRemove,
                poolerChanged,
                List.of(),
                List.of(),
                List.of());
    }

    public UpdatePlan {
        usersToCreate = List.copyOf(usersToCreate);
        usersToAlter = List.copyOf(usersToAlter);
        usersToDrop = List.copyOf(usersToDrop);
        parametersToReload = List.copyOf(parametersToReload);
        parametersNeedingRestart = List.copyOf(parametersNeedingRestart);
        portChanges = List.copyOf(portChanges);
        nodesToAdd = List.copyOf(nodesToAdd);
        nodesToRemove = List.copyOf(nodesToRemove);
        // Null in a task recorded before these fields existed.
        replicasToAdd = replicasToAdd == null ? List.of() : List.copyOf(replicasToAdd);
        replicasToRemove = replicasToRemove == null ? List.of() : List.copyOf(replicasToRemove);
        rollingRestarts = rollingRestarts == null ? List.of() : List.copyOf(rollingRestarts);
    }

    /**
     * The plan from {@code current} to {@code desired}.
     *
     * @param currentPorts the port each existing node's instance holds now
     * @param restartParameters the names pg_settings marks {@code postmaster}; any other name reloads
     */
    public static UpdatePlan between(
            DatabaseSpec current,
            DatabaseSpec desired,
            Map<String, Integer> currentPorts,
            Set<String> restartParameters) {
        List<String> create = new ArrayList<>();
        List<String> alter = new ArrayList<>();
        List<String> drop = new ArrayList<>();
        for (DatabaseUserSpec want : desired.databaseUsers()) {
            DatabaseUserSpec have = current.databaseUsers().stream()
                    .filter(u -> u.username().equals(want.username()))
                    .findFirst()
                    .orElse(null);
            if (have == null) {
                create.add(want.username());
            } else if (want.password() != null
                    || !want.desiredAttributes().equals(have.desiredAttributes())
                    || !new TreeSet<>(want.roles()).equals(new TreeSet<>(have.roles()))
                    || want.effectiveConnectionLimit() != have.effectiveConnectionLimit()
                    || want.ownsDatabase() != have.ownsDatabase()) {
                alter.add(want.username());
            }
        }
        for (DatabaseUserSpec have : current.databaseUsers()) {
            if (desired.databaseUsers().stream().noneMatch(u -> u.username().equals(have.username()))) {
                drop.add(have.username());
            }
        }

        List<String> reload = new ArrayList<>();
        List<String> restart = new ArrayList<>();
        // Per node: a node's own postgresql_conf or memory changes its parameters alone.
        Set<String> changed = new TreeSet<>();
        for (NodeSpec node : desired.nodes()) {
            if (current.node(node.name()).isEmpty()) {
                continue;
            }
            Map<String, String> before = current.effectiveConf(node.name());
            Map<String, String> after = desired.effectiveConf(node.name());
            Set<String> names = new TreeSet<>(before.keySet());
            names.addAll(after.keySet());
            for (String name : names) {
                if (!Objects.equals(before.get(name), after.get(name))) {
                    changed.add(name);
                }
            }
        }
        for (String name : changed) {
            (restartParameters.contains(name) ? restart : reload).add(name);
        }

        List<PortChange> ports = new ArrayList<>();
        List<String> add = new ArrayList<>();
        List<String> remove = new ArrayList<>();
        for (NodeSpec node : desired.nodes()) {
            if (current.node(node.name()).isEmpty()) {
                add.add(node.name());
                continue;
            }
            Integer requested = desired.requestedPort(node);
            Integer now = currentPorts.get(node.name());
            if (requested != null && now != null && !requested.equals(now)) {
                ports.add(new PortChange(node.name(), now, requested));
            }
        }
        List<ReplicaChange> addReplicas = new ArrayList<>();
        List<ReplicaChange> removeReplicas = new ArrayList<>();
        for (NodeSpec node : current.nodes()) {
            NodeSpec wanted = desired.node(node.name()).orElse(null);
            if (wanted == null) {
                remove.add(node.name());
                continue;
            }
            if (wanted.hostIds().isEmpty()) {
                continue; // the update keeps the node's hosts
            }
            for (String host : wanted.hostIds()) {
                if (!node.hostIds().contains(host)) {
                    addReplicas.add(new ReplicaChange(node.name(), host, null));
                }
            }
            for (String host : node.hostIds()) {
                if (!wanted.hostIds().contains(host)) {
                    removeReplicas.add(new ReplicaChange(node.name(), host, null));
                }
            }
        }
        boolean pooler = !Objects.equals(normalized(current.pooler()), normalized(desired.pooler()));
        return new UpdatePlan(
                create,
                alter,
                drop,
                reload,
                restart,
                ports,
                add,
                remove,
                pooler,
                addReplicas,
                removeReplicas,
                List.of());
    }

    /** The nodes whose own settings change in one of {@code parameters} from {@code current} to {@code desired}. */
    public static List<String> nodesChanging(DatabaseSpec current, DatabaseSpec desired, List<String> parameters) {
        List<String> result = new ArrayList<>();
        for (NodeSpec node : desired.nodes()) {
            if (current.node(node.name()).isEmpty()) {
                continue;
            }
            Map<String, String> before = current.effectiveConf(node.name());
            Map<String, String> after = desired.effectiveConf(node.name());
            if (parameters.stream().anyMatch(p -> !Objects.equals(before.get(p), after.get(p)))) {
                result.add(node.name());
            }
        }
        return result;
    }

    /** The same plan with the instances the intake reserved or found, and the rolling restarts it decided. */
    public UpdatePlan withReplicas(
            List<ReplicaChange> toAdd, List<ReplicaChange> toRemove, List<RollingRestart> restarts) {
        return new UpdatePlan(
                usersToCreate,
                usersToAlter,
                usersToDrop,
                parametersToReload,
                parametersNeedingRestart,
                portChanges,
                nodesToAdd,
                nodesToRemove,
                poolerChanged,
                toAdd,
                toRemove,
                restarts);
    }

    /** Whether the plan adds or removes a replica of {@code node}. */
    public boolean changesReplicasOf(String node) {
        return replicasToAdd.stream().anyMatch(r -> r.node().equals(node))
                || replicasToRemove.stream().anyMatch(r -> r.node().equals(node));
    }

    private static PoolerSpec normalized(PoolerSpec pooler) {
        return pooler == null || !pooler.isEnabled() ? null : pooler;
    }

    /** Whether applying the plan leaves a parameter waiting for a restart. */
    public boolean leavesPendingRestart() {
        return !parametersNeedingRestart.isEmpty();
    }

    /** Whether the plan changes nothing a spec comparison can see (a reconcile still repairs drift). */
    public boolean changesNothing() {
        return usersToCreate.isEmpty()
                && usersToAlter.isEmpty()
                && usersToDrop.isEmpty()
                && parametersToReload.isEmpty()
                && parametersNeedingRestart.isEmpty()
                && portChanges.isEmpty()
                && nodesToAdd.isEmpty()
                && nodesToRemove.isEmpty()
                && replicasToAdd.isEmpty()
                && replicasToRemove.isEmpty()
                && !poolerChanged;
    }
}
