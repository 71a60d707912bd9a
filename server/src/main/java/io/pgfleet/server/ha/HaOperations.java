package io.pgfleet.server.ha;

import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.InstanceState;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.core.TaskRequest;
import io.pgfleet.core.TaskStatus;
import io.pgfleet.core.TaskType;
import io.pgfleet.server.catalog.CatalogRows.DatabaseRow;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.catalog.CatalogRows.TaskRow;
import io.pgfleet.server.ha.HaRepository.Transition;
import io.pgfleet.server.tasks.Intake;
import io.pgfleet.server.tasks.TaskRunner;
import java.time.Instant;
import java.util.List;
import org.springframework.stereotype.Service;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Accepts switchovers (pgEdge's request shape): checks the node and the candidate and that nothing
 * else runs on the database (409 at once), then records the task and what it moves.
 */
@Service
public class HaOperations {
    private final Intake intake;
    private final HaRepository repo;
    private final TaskRunner runner;
    private final TransactionTemplate tx;

    public HaOperations(Intake intake, HaRepository repo, TaskRunner runner, TransactionTemplate tx) {
        this.intake = intake;
        this.repo = repo;
        this.runner = runner;
        this.tx = tx;
    }

    /** {@code POST /v1/databases/{id}/switchover}: {@code candidate_instance_id} and {@code scheduled_at} optional. */
    public record SwitchoverRequest(String node, String candidateInstanceId, Instant scheduledAt) {}

    public TaskRow switchover(String tenant, String databaseId, SwitchoverRequest request) {
        if (request == null) {
            throw PgfleetException.invalid("body", "is required: {\"node\": \"n1\"}");
        }
        if (request.scheduledAt() != null
                && request.scheduledAt().isBefore(Instant.now().minusSeconds(60))) {
            throw PgfleetException.invalid("scheduled_at", request.scheduledAt() + " is in the past");
        }
        TaskRow task = tx.execute(s -> {
            DatabaseRow db = intake.lock(tenant, databaseId);
            InstanceRow primary = primary(db, request.node());
            if (primary.state() != InstanceState.AVAILABLE) {
                throw new PgfleetException(
                        ErrorCode.INVALID_STATE,
                        "node " + request.node() + ": the primary on " + primary.hostId() + " is "
                                + primary.state().label() + "; a switchover needs a running primary");
            }
            String candidate = candidate(db, request.node(), request.candidateInstanceId());
            boolean scheduled = request.scheduledAt() != null;
            if (!scheduled) {
                intake.refuseIfBusy(db, null, true);
            }
            TaskRow row = intake.newTask(
                    db,
                    null,
                    TaskType.SWITCHOVER,
                    scheduled ? TaskStatus.SCHEDULED : TaskStatus.PENDING,
                    request.scheduledAt(),
                    new TaskRequest.Switchover(request.node(), primary.id(), candidate));
            repo.insertTransition(new Transition(
                    row.taskId(), db.uuid(), request.node(), "switchover", primary.id(), candidate, null));
            return row;
        });
        runner.wake();
        return task;
    }

    private InstanceRow primary(DatabaseRow db, String node) {
        if (node == null || node.isBlank()) {
            throw PgfleetException.invalid("node", "is required: the name of the node, e.g. \"n1\"");
        }
        List<InstanceRow> instances = repo.node(db.uuid(), node);
        if (instances.isEmpty()) {
            throw PgfleetException.notFound("node " + node + " of database " + db.id());
        }
        if (instances.size() < 2) {
            throw new PgfleetException(
                    ErrorCode.INVALID_STATE, "node " + node + " has no replica; give it several host_ids to have one");
        }
        return repo.primaryOf(db.uuid(), node)
                .orElseThrow(
                        () -> new PgfleetException(ErrorCode.INVALID_STATE, "node " + node + " has no primary now"));
    }

    private String candidate(DatabaseRow db, String node, String requested) {
        if (requested == null) {
            return null;
        }
        InstanceRow candidate = repo.node(db.uuid(), node).stream()
                .filter(i -> i.id().equals(requested))
                .findFirst()
                .orElseThrow(() -> PgfleetException.invalid(
                        "candidate_instance_id", requested + " is not an instance of node " + node));
        if (!candidate.isReplica() || candidate.needsRejoin()) {
            throw PgfleetException.invalid(
                    "candidate_instance_id", requested + " is not a streaming replica of node " + node);
        }
        if (candidate.state() != InstanceState.AVAILABLE) {
            throw new PgfleetException(
                    ErrorCode.INVALID_STATE,
                    "candidate " + requested + " is " + candidate.state().label() + "; choose an available replica");
        }
        return requested;
    }
}
