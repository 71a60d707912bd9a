package io.pgfleet.server.tasks;

import io.pgfleet.server.catalog.CatalogRows.DatabaseRow;

/**
 * The replication workflows (package {@code ha}), reached from here so that tasks does not depend on
 * ha: the steps that clone a database's replicas after its primaries, switchover, failover and rejoin.
 */
public interface ReplicaWorkflows {
    /** PrepareReplication (role, slots), then one lane per replica: clone, start, stream, available. */
    java.util.List<Step> cloneReplicas(DatabaseRow db);

    /** The workflow of a SWITCHOVER or FAILOVER task. */
    Workflow plan(TaskContext ctx, DatabaseRow db);

    /** A start (or automatic restart) of an instance a switchover or failover demoted: it rejoins as a replica. */
    Workflow rejoin(DatabaseRow db, io.pgfleet.server.catalog.CatalogRows.InstanceRow instance);

    /**
     * The steps of an update after its first phase for replicated nodes: slots of removed replicas
     * dropped, new replicas cloned, rolling restarts (replicas first, then a switchover).
     */
    java.util.List<Step> afterUpdate(TaskContext ctx, DatabaseRow db, io.pgfleet.core.UpdatePlan plan);

    /**
     * The steps that give a node added by an update with {@code source_node} its data: a copy of the
     * source node's primary, promoted as a primary of its own. They take the place of InitDataDirectory.
     */
    java.util.List<Step> seedFromNode(
            DatabaseRow db, io.pgfleet.server.catalog.CatalogRows.InstanceRow instance, String sourceNode);

    /** Without the ha package (a test context): a database with replicas cannot be worked on. */
    ReplicaWorkflows NONE = new ReplicaWorkflows() {
        @Override
        public java.util.List<Step> cloneReplicas(DatabaseRow db) {
            throw unavailable();
        }

        @Override
        public Workflow plan(TaskContext ctx, DatabaseRow db) {
            throw unavailable();
        }

        @Override
        public java.util.List<Step> afterUpdate(TaskContext ctx, DatabaseRow db, io.pgfleet.core.UpdatePlan plan) {
            if (plan.replicasToAdd().isEmpty()
                    && plan.replicasToRemove().isEmpty()
                    && plan.rollingRestarts().isEmpty()) {
                return java.util.List.of();
            }
            throw unavailable();
        }

        @Override
        public Workflow rejoin(DatabaseRow db, io.pgfleet.server.catalog.CatalogRows.InstanceRow instance) {
            throw unavailable();
        }

        @Override
        public java.util.List<Step> seedFromNode(
                DatabaseRow db, io.pgfleet.server.catalog.CatalogRows.InstanceRow instance, String sourceNode) {
            throw unavailable();
        }

        private io.pgfleet.core.PgfleetException unavailable() {
            return new io.pgfleet.core.PgfleetException(
                    io.pgfleet.core.ErrorCode.INTERNAL, "replicas are not available in this server");
        }
    };
}
