/**
 * Tasks: the intake of operations ({@link io.pgfleet.server.tasks.DatabaseOperations},
 * {@link io.pgfleet.server.tasks.SpecUpdates}: one update at a time, ports reserved in the same
 * transaction), the durable queue that runs them ({@link io.pgfleet.server.tasks.TaskRunner}), and
 * the workflows: lists of named, idempotent {@link io.pgfleet.server.tasks.Step}s run and recorded by
 * the {@link io.pgfleet.server.tasks.StepRunner}, so a task resumes at its first unfinished step.
 */
package io.pgfleet.server.tasks;
