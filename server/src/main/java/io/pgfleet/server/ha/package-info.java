/**
 * High availability (DESIGN.md §5b): streaming replicas of a node on its other hosts and the
 * switchover of a node's primary. Its workflows are step lists like every other, run by the task
 * layer's StepRunner (reached through {@link io.pgfleet.server.tasks.ReplicaWorkflows}).
 */
package io.pgfleet.server.ha;
