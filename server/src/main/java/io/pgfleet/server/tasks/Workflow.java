package io.pgfleet.server.tasks;

import java.util.ArrayList;
import java.util.List;

/**
 * What a task does: its steps, in order. Consecutive steps of nodes run node by node at the same
 * time (each node's steps in their order); a step of the whole database waits for everything before
 * it. When a node's step fails, {@link #onNodeFailure} records it on that node's instance (failed or
 * error, as the workflow says); the node's later steps are not run and the task fails.
 */
public record Workflow(List<Step> steps, NodeFailure onNodeFailure) {

    /** What happens to a node's instance when one of its steps fails. */
    @FunctionalInterface
    public interface NodeFailure {
        void record(TaskContext ctx, Step step, RuntimeException cause);

        NodeFailure NONE = (ctx, step, cause) -> {};
    }

    public Workflow {
        steps = List.copyOf(steps);
    }

    public static Workflow of(List<Step> steps, NodeFailure onNodeFailure) {
        return new Workflow(steps, onNodeFailure);
    }

    /** A workflow that only says why there is nothing to do. */
    public static Workflow nothingToDo(String name, String message) {
        return new Workflow(List.of(Step.of(name, () -> message, ctx -> {})), NodeFailure.NONE);
    }

    public List<String> stepNames() {
        return steps.stream().map(Step::key).toList();
    }

    /** Builds a step list from parts: a database step, a node's steps, or several lanes of them. */
    public static final class Builder {
        private final List<Step> steps = new ArrayList<>();

        public Builder add(Step step) {
            steps.add(step);
            return this;
        }

        public Builder addAll(List<? extends Step> more) {
            steps.addAll(more);
            return this;
        }

        public Workflow onNodeFailure(NodeFailure failure) {
            return new Workflow(steps, failure);
        }
    }

    public static Builder builder() {
        return new Builder();
    }
}
