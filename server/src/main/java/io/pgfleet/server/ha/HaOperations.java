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
import io.pgfleet.server.catalog.JdbcDatabaseRepository;
import io.pgfleet.server.catalog.JdbcTaskRepository;
import io.pgfleet.server.ha.HaRepository.Transition;
import io.pgfleet.server.tasks.Intake;
import io.pgfleet.server.tasks.TaskRunner;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.springframework.stereotype.Service;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Accepts switchovers and failovers (pgEdge's request shapes): checks the node and the candidate and
 * that nothing else runs on the database (409 at once), then records the task and what it moves.
 */
@Service
public class HaOperations {
    private final Intake intake;
    private final HaRepository repo;
    private final TaskRunner runner;
    private final TransactionTemplate tx;
    private final Replication replication;
    private final JdbcDatabaseRepository databases;
    private final JdbcTaskRepository tasks;

    public HaOperations(
            Intake intake,
            HaRepository repo,
            TaskRunner runner,
            TransactionTemplate tx,
            Replication replication,
            JdbcDatabaseRepository databases,
            JdbcTaskRepository tasks) {
        this.replication = replication;
        this.databases = databases;
        this.tasks = tasks;
        this.intake = intake;
        this.repo = repo;
        this.runner = runner;
        this.tx = tx;
    }

    /** {@code POST /v1/databases/{id}/switchover}: {@code candidate_instance_id} and {@code scheduled_at} optional. */
    public record SwitchoverRequest(String node, String candidateInstanceId, Instant scheduledAt) {}

    /** {@code POST /v1/databases/{id}/failover}: {@code candidate_instance_id} and {@code skip_validation} optional. */
    public record FailoverRequest(String node, String candidateInstanceId, Boolean skipValidation) {}

    /**
     * A person's failover. A healthy primary (its host reports it available, or it answers as a writable
     * primary) is not failed over without {@code skip_validation}: a switchover loses nothing.
     */
    public TaskRow failover(String tenant, String databaseId, FailoverRequest request) {
        if (request == null) {
            throw PgfleetException.invalid("body", "is required: {\"node\": \"n1\"}");
        }
        TaskRow task = tx.execute(s -> {
            DatabaseRow db = intake.lock(tenant, databaseId);
            InstanceRow primary = primary(db, request.node());
            if (!Boolean.TRUE.equals(request.skipValidation())
                    && (primary.state() == InstanceState.AVAILABLE
                            || Boolean.TRUE.equals(replication.isWritable(primary, Duration.ofSeconds(5))))) {
                throw new PgfleetException(
                        ErrorCode.INVALID_STATE,
                        "node " + request.node() + ": the primary on " + primary.hostId()
                                + " is healthy; use a switchover (no write lost), or pass \"skip_validation\": true");
            }
            String candidate = candidate(db, request.node(), request.candidateInstanceId(), false);
            intake.refuseIfBusy(db, null, true);
            return recordFailover(
                    db,
                    primary,
                    new TaskRequest.Failover(request.node(), primary.id(), candidate, false, null, -1, null));
        });
        runner.wake();
        return task;
    }

    /** What became of the leader's automatic failover. */
    public enum AutomaticFailover {
        /** Recorded: the runner claims it. */
        RECORDED,
        /** A switchover or failover of the database is pending or running already. */
        BUSY,
        /** The primary moved meanwhile (or is gone). */
        MOVED,
        /** No replica of the node is available to be promoted: nothing is recorded. */
        NO_CANDIDATE
    }

    /**
     * The fleet leader's automatic failover, fenced with its epoch. Recorded once: not while a switchover
     * or failover of the database is pending or running (any other task: the runner claims it once free),
     * and not when no replica of the node is available to be promoted.
     */
    public AutomaticFailover automaticFailover(
            DatabaseRow db, InstanceRow primary, String leader, long epoch, String why) {
        AutomaticFailover outcome = tx.execute(s -> {
            DatabaseRow locked = databases.findForUpdate(db.tenantId(), db.id()).orElse(null);
            if (locked == null) {
                return AutomaticFailover.MOVED;
            }
            if (tasks.hasActiveOfType(db.uuid(), java.util.EnumSet.of(TaskType.SWITCHOVER, TaskType.FAILOVER))) {
                return AutomaticFailover.BUSY;
            }
            InstanceRow now = repo.find(primary.id()).orElse(null);
            if (now == null || now.isReplica()) {
                return AutomaticFailover.MOVED;
            }
            boolean promotable = repo.node(db.uuid(), now.nodeName()).stream()
                    .anyMatch(i -> !i.id().equals(now.id())
                            && i.isReplica()
                            && !i.needsRejoin()
                            && i.state() == InstanceState.AVAILABLE);
            if (!promotable) {
                return AutomaticFailover.NO_CANDIDATE;
            }
            recordFailover(
                    locked,
                    now,
                    new TaskRequest.Failover(primary.nodeName(), primary.id(), null, true, leader, epoch, why));
            return AutomaticFailover.RECORDED;
        });
        runner.wake();
        return outcome;
    }

    private TaskRow recordFailover(DatabaseRow db, InstanceRow primary, TaskRequest.Failover request) {
        TaskRow row = intake.newTask(db, null, TaskType.FAILOVER, TaskStatus.PENDING, null, request);
        repo.insertTransition(new Transition(
                row.taskId(),
                db.uuid(),
                request.node(),
                "failover",
                primary.id(),
                request.candidateInstanceId(),
                null));
        if (request.reason() != null) {
            tasks.appendLog(row.taskId(), request.reason(), java.util.Map.of("node", request.node()));
        }
        return row;
    }

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
            String candidate = candidate(db, request.node(), request.candidateInstanceId(), true);
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

    private String candidate(DatabaseRow db, String node, String requested, boolean mustBeAvailable) {
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
        if (mustBeAvailable && candidate.state() != InstanceState.AVAILABLE) {
            throw new PgfleetException(
                    ErrorCode.INVALID_STATE,
                    "candidate " + requested + " is " + candidate.state().label() + "; choose an available replica");
        }
        return requested;
    }
}
