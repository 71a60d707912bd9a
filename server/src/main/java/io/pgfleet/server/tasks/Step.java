package io.pgfleet.server.tasks;

import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * One named piece of a workflow. {@link #isDone} looks at reality (the data directory, the running
 * postmaster, the roles, the catalog) and {@link #apply} does the work; applied again after it
 * completed, a step changes nothing. The {@link StepRunner} records every finished step in the
 * catalog, so a task cut off by a crash of pgfleet resumes at its first unfinished step.
 *
 * <p>Write one with {@link #of} for a step of the whole database or {@link #onNode} for a step of one
 * node, then {@link Defined#doneWhen} when reality can tell that it is done:
 *
 * <pre>{@code
 * Step.onNode("StartPostgres", instance, () -> "node n1: starting PostgreSQL 17 on port 5433",
 *                 ctx -> agent.start(instance, db.id()))
 *         .doneWhen(ctx -> agent.answers(instance, db.id()));
 * }</pre>
 */
public interface Step {
    /** Imperative and stable ({@code StartPostgres}): the task log's {@code step} field, the catalog's key. */
    String name();

    /** The node this step works on, or null for a step of the whole database. */
    String node();

    /** The instance of {@link #node()}, or null; the runner marks it failed when the step fails. */
    String instanceId();

    /** What the task log says as the step starts; null for a step that logs nothing of its own. */
    String message();

    /** Extra task-log fields beside {@code step} and {@code node} (a port, an attempt …). */
    Map<String, Object> fields();

    /** Whether reality already shows the step's effect; then the runner records it without applying it. */
    boolean isDone(TaskContext ctx);

    void apply(TaskContext ctx);

    /**
     * For a lane that may be left out when its host is gone (a failover does not wait for a dead
     * host): how long its host may have been silent before the coordinator skips the lane; null (the
     * default) when the lane needs its host. Read from a lane's first step.
     */
    default java.time.Duration skipWhenHostSilentFor() {
        return null;
    }

    /** What the catalog records: the name, prefixed with the node for a node's step ({@code n1/StartPostgres}). */
    default String key() {
        return node() == null ? name() : node() + "/" + name();
    }

    /** {@code step} renamed {@code prefix + name}: its key differs from the same step's elsewhere in a task. */
    static Step prefixed(String prefix, Step step) {
        if (step instanceof Defined d) {
            return d.named(prefix + d.name());
        }
        throw new IllegalArgumentException("step " + step.key() + " cannot be renamed");
    }

    /** A step of the whole database. */
    static Defined of(String name, Supplier<String> message, Consumer<TaskContext> apply) {
        return new Defined(name, null, null, message, Map.of(), ctx -> false, apply, null);
    }

    /** A step of one node. */
    static Defined onNode(
            String name, String node, String instanceId, Supplier<String> message, Consumer<TaskContext> apply) {
        return new Defined(name, node, instanceId, message, Map.of(), ctx -> false, apply, null);
    }

    /** A step made of its parts; {@code message} is computed as the step starts, so it can describe reality. */
    record Defined(
            String name,
            String node,
            String instanceId,
            Supplier<String> messageText,
            Map<String, Object> fields,
            Predicate<TaskContext> done,
            Consumer<TaskContext> action,
            java.time.Duration skipWhenHostSilentFor)
            implements Step {

        public Defined doneWhen(Predicate<TaskContext> isDone) {
            return new Defined(name, node, instanceId, messageText, fields, isDone, action, skipWhenHostSilentFor);
        }

        /** The same step under another name: a workflow that runs a step list twice keeps their keys apart. */
        public Defined named(String newName) {
            return new Defined(newName, node, instanceId, messageText, fields, done, action, skipWhenHostSilentFor);
        }

        public Defined withFields(Map<String, Object> more) {
            return new Defined(
                    name, node, instanceId, messageText, Map.copyOf(more), done, action, skipWhenHostSilentFor);
        }

        /** The lane this step starts is skipped when its host has been silent {@code silence} or longer. */
        public Defined unlessHostSilentFor(java.time.Duration silence) {
            return new Defined(name, node, instanceId, messageText, fields, done, action, silence);
        }

        @Override
        public String message() {
            return messageText == null ? null : messageText.get();
        }

        @Override
        public boolean isDone(TaskContext ctx) {
            return done.test(ctx);
        }

        @Override
        public void apply(TaskContext ctx) {
            action.accept(ctx);
        }

        @Override
        public String toString() {
            return key();
        }
    }
}
