package io.pgfleet.server.tasks;

import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.PgfleetException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a {@link Workflow}: logs each step as it starts, skips the steps the catalog records as
 * finished (a resumed task) and those whose {@link Step#isDone} sees done, records each finished
 * step, and fails the task once, naming the step and its reason. Nodes run at the same time.
 */
public class StepRunner implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StepRunner.class);

    /** Where finished steps are recorded: the catalog's {@code task_steps} in production. */
    public interface Ledger {
        Set<String> finished(UUID taskId);

        void record(UUID taskId, String stepKey);
    }

    /**
     * Where a run of node lanes goes: in a fleet, each host runs the lanes of its own nodes (one
     * numbered phase per call, see {@link FleetFanout}); on one host everything runs here.
     */
    public interface Fanout {
        void run(List<List<Step>> lanes, java.util.function.Consumer<List<List<Step>>> runHere);

        /** True while running another host's task part: its database steps are the coordinator's. */
        default boolean inPart() {
            return false;
        }

        Fanout LOCAL = (lanes, runHere) -> runHere.accept(lanes);
    }

    /** The catalog's {@code task_steps}. */
    static Ledger ledger(io.pgfleet.server.catalog.JdbcTaskRepository tasks) {
        return new Ledger() {
            @Override
            public Set<String> finished(UUID taskId) {
                return tasks.finishedSteps(taskId);
            }

            @Override
            public void record(UUID taskId, String stepKey) {
                tasks.recordStep(taskId, stepKey);
            }
        };
    }

    private final Ledger ledger;
    private final Fanout fanout;
    private final ExecutorService nodes = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "pgfleet-node");
        t.setDaemon(true);
        return t;
    });

    public StepRunner(Ledger ledger) {
        this(ledger, Fanout.LOCAL);
    }

    public StepRunner(Ledger ledger, Fanout fanout) {
        this.ledger = ledger;
        this.fanout = fanout;
    }

    public void run(TaskContext ctx, Workflow workflow) {
        Set<String> finished = ledger.finished(ctx.task().taskId());
        List<Step> steps = workflow.steps();
        int i = 0;
        while (i < steps.size()) {
            if (steps.get(i).node() == null) {
                if (!fanout.inPart()) {
                    runDatabaseStep(ctx, steps.get(i), finished);
                }
                i++;
                continue;
            }
            // The run of node steps up to the next database step: one lane per node, all at once.
            Map<String, List<Step>> lanes = new LinkedHashMap<>();
            while (i < steps.size() && steps.get(i).node() != null) {
                lanes.computeIfAbsent(steps.get(i).node(), n -> new ArrayList<>())
                        .add(steps.get(i));
                i++;
            }
            runLanes(ctx, workflow, lanes, finished);
        }
    }

    private void runDatabaseStep(TaskContext ctx, Step step, Set<String> finished) {
        try {
            runStep(ctx, step, finished);
        } catch (RuntimeException e) {
            throw failure(List.of(new Failed(step, e)));
        }
    }

    /** One phase: this host's lanes run here, other hosts' as their task parts (see {@link Fanout}). */
    private void runLanes(TaskContext ctx, Workflow workflow, Map<String, List<Step>> lanes, Set<String> finished) {
        fanout.run(new ArrayList<>(lanes.values()), here -> runLocalLanes(ctx, workflow, here, finished));
    }

    private void runLocalLanes(TaskContext ctx, Workflow workflow, List<List<Step>> lanes, Set<String> finished) {
        List<CompletableFuture<Failed>> futures = new ArrayList<>();
        for (List<Step> lane : lanes) {
            Map<String, String> mdc = org.slf4j.MDC.getCopyOfContextMap();
            futures.add(CompletableFuture.supplyAsync(
                    () -> {
                        if (mdc != null) {
                            org.slf4j.MDC.setContextMap(mdc);
                        }
                        try {
                            return runLane(ctx, workflow, lane, finished);
                        } finally {
                            org.slf4j.MDC.clear();
                        }
                    },
                    nodes));
        }
        List<Failed> failures = new ArrayList<>();
        for (CompletableFuture<Failed> future : futures) {
            Failed failed = future.join();
            if (failed != null) {
                failures.add(failed);
            }
        }
        if (!failures.isEmpty()) {
            throw failure(failures);
        }
    }

    /** Runs one node's steps in order; the first failure is recorded on the node and ends the lane. */
    private Failed runLane(TaskContext ctx, Workflow workflow, List<Step> lane, Set<String> finished) {
        for (Step step : lane) {
            try {
                runStep(ctx, step, finished);
            } catch (RuntimeException e) {
                try {
                    workflow.onNodeFailure().record(ctx, step, e);
                } catch (RuntimeException recording) {
                    e.addSuppressed(recording);
                    log.error(
                            "task {}: recording the failure of {} failed too: {}",
                            ctx.task().taskId(),
                            step.key(),
                            recording.getMessage(),
                            recording);
                }
                return new Failed(step, e);
            }
        }
        return null;
    }

    private void runStep(TaskContext ctx, Step step, Set<String> finished) {
        if (finished.contains(step.key())) {
            log.debug(
                    "task {}: {} finished before pgfleet restarted; skipped",
                    ctx.task().taskId(),
                    step.key());
            return;
        }
        Map<String, Object> fields = new LinkedHashMap<>();
        if (step.node() != null) {
            fields.put("node", step.node());
        }
        fields.put("step", step.name());
        fields.putAll(step.fields());
        if (step.isDone(ctx)) {
            log.debug("task {}: {} is already done; skipped", ctx.task().taskId(), step.key());
        } else {
            String message = step.message();
            if (message != null) {
                ctx.log(message, fields);
            }
            step.apply(ctx);
            if (ctx.appliesTwice()) {
                step.apply(ctx); // test only: a second application must change nothing
                ctx.log("test: " + step.key() + " applied a second time", Map.of("applied_twice", step.name()));
            }
        }
        ledger.record(ctx.task().taskId(), step.key());
        ctx.pauseAfter(step);
    }

    private record Failed(Step step, RuntimeException cause) {
        String describe() {
            return step.name() + (step.node() == null ? "" : " on node " + step.node()) + " failed: "
                    + cause.getMessage();
        }
    }

    /** One exception for the task: the steps that failed with their reasons; the first one's code. */
    private static PgfleetException failure(List<Failed> failures) {
        String message =
                String.join("; ", failures.stream().map(Failed::describe).toList());
        RuntimeException first = failures.get(0).cause();
        ErrorCode code = first instanceof PgfleetException p ? p.code() : ErrorCode.INTERNAL;
        return new PgfleetException(code, message, first);
    }

    @Override
    public void close() {
        nodes.shutdownNow();
    }
}
