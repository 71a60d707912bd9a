package io.pgfleet.server.tasks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.core.TaskStatus;
import io.pgfleet.core.TaskType;
import io.pgfleet.server.catalog.CatalogRows.TaskRow;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The runner's contract, with steps that write to a list instead of a host. */
class StepRunnerTest {
    private final Set<String> recorded = ConcurrentHashMap.newKeySet();
    private final List<String> applied = Collections.synchronizedList(new ArrayList<>());
    private final List<String> logged = Collections.synchronizedList(new ArrayList<>());
    private final List<Map<String, Object>> logFields = Collections.synchronizedList(new ArrayList<>());
    private final StepRunner runner = new StepRunner(new StepRunner.Ledger() {
        @Override
        public Set<String> finished(UUID taskId) {
            return new HashSet<>(recorded);
        }

        @Override
        public void record(UUID taskId, String stepKey) {
            recorded.add(stepKey);
        }
    });
    private final TaskContext ctx = new TaskContext(
            new TaskRow(
                    UUID.randomUUID(),
                    "tenant",
                    "example",
                    UUID.randomUUID(),
                    null,
                    TaskType.CREATE,
                    TaskStatus.RUNNING,
                    Map.of(),
                    null,
                    Instant.now(),
                    Instant.now(),
                    null,
                    null),
            (taskId, message, fields) -> {
                logged.add(message);
                logFields.add(fields);
            });

    @AfterEach
    void close() {
        runner.close();
    }

    private Step step(String name, String node) {
        Step.Defined step = node == null
                ? Step.of(name, () -> name + " starts", c -> applied.add(name))
                : Step.onNode(
                        name,
                        node,
                        "i-" + node,
                        () -> node + " " + name + " starts",
                        c -> applied.add(node + "/" + name));
        return step;
    }

    @Test
    void appliesEveryStepInOrderLogsAndRecordsIt() {
        runner.run(ctx, Workflow.of(List.of(step("A", null), step("B", null)), Workflow.NodeFailure.NONE));

        assertThat(applied).containsExactly("A", "B");
        assertThat(recorded).containsExactlyInAnyOrder("A", "B");
        assertThat(logged).containsExactly("A starts", "B starts");
        assertThat(logFields.get(0)).containsEntry("step", "A");
    }

    @Test
    void aResumedTaskSkipsTheRecordedStepsAndRunsTheRest() {
        recorded.add("n1/Init");
        recorded.add("n1/Start");
        Workflow workflow = Workflow.of(
                List.of(step("Init", "n1"), step("Start", "n1"), step("Roles", "n1")), Workflow.NodeFailure.NONE);

        runner.run(ctx, workflow);

        assertThat(applied).containsExactly("n1/Roles");
        assertThat(logged).containsExactly("n1 Roles starts");
    }

    @Test
    void aStepThatRealityShowsDoneIsRecordedWithoutApplying() {
        Step done =
                Step.of("Done", () -> "never said", c -> applied.add("Done")).doneWhen(c -> true);

        runner.run(ctx, Workflow.of(List.of(done), Workflow.NodeFailure.NONE));

        assertThat(applied).isEmpty();
        assertThat(logged).isEmpty();
        assertThat(recorded).containsExactly("Done");
    }

    @Test
    void runningACompletedWorkflowAgainAppliesNothing() {
        Workflow workflow =
                Workflow.of(List.of(step("A", "n1"), step("A", "n2"), step("B", null)), Workflow.NodeFailure.NONE);
        runner.run(ctx, workflow);
        applied.clear();

        runner.run(ctx, workflow);

        assertThat(applied).isEmpty();
    }

    @Test
    void nodesRunAtTheSameTimeAndADatabaseStepWaitsForAll() throws Exception {
        CountDownLatch both = new CountDownLatch(2);
        Step n1 = Step.onNode("Start", "n1", "i1", null, c -> meet(both));
        Step n2 = Step.onNode("Start", "n2", "i2", null, c -> meet(both));

        runner.run(ctx, Workflow.of(List.of(n1, n2, step("After", null)), Workflow.NodeFailure.NONE));

        assertThat(both.getCount()).isZero();
        assertThat(applied).containsExactly("After");
    }

    private static void meet(CountDownLatch latch) {
        latch.countDown();
        try {
            // Each node waits for the other: only true concurrency lets both finish.
            if (!latch.await(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the other node never ran alongside");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aFailedStepFailsTheTaskOnceWithItsNameAndReasonAndMarksItsNode() {
        List<String> failedNodes = Collections.synchronizedList(new ArrayList<>());
        Step boom = Step.onNode("StartPostgres", "n2", "i2", null, c -> {
            throw new PgfleetException(ErrorCode.PORT_CONFLICT, "port 5433 is in use");
        });
        Workflow workflow = Workflow.of(
                List.of(step("Init", "n1"), step("Init", "n2"), boom, step("Roles", "n2"), step("End", null)),
                (c, step, cause) -> failedNodes.add(step.instanceId() + ":" + step.name()));

        assertThatThrownBy(() -> runner.run(ctx, workflow))
                .isInstanceOfSatisfying(
                        PgfleetException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.PORT_CONFLICT))
                .hasMessage("StartPostgres on node n2 failed: port 5433 is in use");

        assertThat(failedNodes).containsExactly("i2:StartPostgres");
        assertThat(applied).containsExactlyInAnyOrder("n1/Init", "n2/Init");
        assertThat(recorded).containsExactlyInAnyOrder("n1/Init", "n2/Init");
    }

    @Test
    void aDatabaseStepFailureNamesTheStep() {
        Step boom = Step.of("DeleteDatabase", null, c -> {
            throw new IllegalStateException("catalog gone");
        });

        assertThatThrownBy(() -> runner.run(ctx, Workflow.of(List.of(boom), Workflow.NodeFailure.NONE)))
                .isInstanceOfSatisfying(
                        PgfleetException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INTERNAL))
                .hasMessage("DeleteDatabase failed: catalog gone");
    }
}
