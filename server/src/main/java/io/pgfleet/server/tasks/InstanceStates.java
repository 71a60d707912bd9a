package io.pgfleet.server.tasks;

import io.pgfleet.core.DatabaseState;
import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.InstanceState;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.server.catalog.CatalogRows.DatabaseRow;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.catalog.JdbcDatabaseRepository;
import io.pgfleet.server.catalog.JdbcInstanceRepository;
import io.pgfleet.server.events.JdbcEventRepository;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The one way an instance's state changes: the transition table, a compare-and-set on the row and
 * an event, all in one transaction, so two racing writers cannot both win and nothing goes unrecorded.
 */
@Component
public class InstanceStates {
    private static final Logger log = LoggerFactory.getLogger(InstanceStates.class);
    private final JdbcInstanceRepository instances;
    private final JdbcDatabaseRepository databases;
    private final JdbcEventRepository events;
    private final TransactionTemplate tx;

    public InstanceStates(
            JdbcInstanceRepository instances,
            JdbcDatabaseRepository databases,
            JdbcEventRepository events,
            TransactionTemplate tx) {
        this.instances = instances;
        this.databases = databases;
        this.events = events;
        this.tx = tx;
    }

    /** Moves the instance from the state it is in now to {@code to}; returns the new row's state. */
    public void move(DatabaseRow database, String instanceId, InstanceState to, String error) {
        tx.executeWithoutResult(status -> {
            InstanceRow current =
                    instances.find(instanceId).orElseThrow(() -> PgfleetException.notFound("instance " + instanceId));
            String subject = "instance " + current.nodeName() + " of " + database.id();
            current.state().validateTransition(to, subject);
            if (!instances.compareAndSetState(instanceId, current.state(), to, error)) {
                throw new PgfleetException(ErrorCode.INVALID_STATE, subject + " changed state concurrently; retry");
            }
            events.record(
                    database.tenantId(),
                    database.id(),
                    database.uuid(),
                    instanceId,
                    "instance.state_changed",
                    subject + ": " + current.state().label() + " -> " + to.label()
                            + (error == null ? "" : " (" + error + ")"),
                    error == null
                            ? Map.of("from", current.state().label(), "to", to.label())
                            : Map.of("from", current.state().label(), "to", to.label(), "error", error));
            log.info("{}: {} -> {}", subject, current.state().label(), to.label());
            storeDatabaseState(database);
        });
    }

    /**
     * Moves the instance to {@code to} unless it is there already: what a resumed workflow needs, since
     * the state it entered before pgfleet was killed is still in the catalog.
     */
    public void enter(DatabaseRow database, String instanceId, InstanceState to) {
        InstanceState now = instances.find(instanceId).map(InstanceRow::state).orElse(null);
        if (now != to) {
            move(database, instanceId, to, null);
        }
    }

    /**
     * Moves the instance from {@code from} to {@code to} only if it is still in {@code from}; false when
     * something else (a task) changed it meanwhile. For observers such as the health monitor, which
     * must never overrule a workflow.
     */
    public boolean moveFrom(
            DatabaseRow database, String instanceId, InstanceState from, InstanceState to, String error) {
        Boolean moved = tx.execute(status -> {
            InstanceRow current = instances.find(instanceId).orElse(null);
            if (current == null || current.state() != from || !from.canMoveTo(to)) {
                return false;
            }
            if (!instances.compareAndSetState(instanceId, from, to, error)) {
                return false;
            }
            String subject = "instance " + current.nodeName() + " of " + database.id();
            events.record(
                    database.tenantId(),
                    database.id(),
                    database.uuid(),
                    instanceId,
                    "instance.state_changed",
                    subject + ": " + from.label() + " -> " + to.label() + (error == null ? "" : " (" + error + ")"),
                    error == null
                            ? Map.of("from", from.label(), "to", to.label())
                            : Map.of("from", from.label(), "to", to.label(), "error", error));
            log.info("{}: {} -> {}{}", subject, from.label(), to.label(), error == null ? "" : " (" + error + ")");
            storeDatabaseState(database);
            return true;
        });
        return Boolean.TRUE.equals(moved);
    }

    /**
     * Stores the database's derived state and records a change as an event, in the caller's
     * transaction; called after every instance change and on suspend and unsuspend.
     */
    public void refreshDatabaseState(DatabaseRow database) {
        tx.executeWithoutResult(status -> storeDatabaseState(database));
    }

    private void storeDatabaseState(DatabaseRow database) {
        boolean suspended = databases.suspendedReason(database.uuid()) != null;
        List<InstanceState> states = instances.byDatabase(database.uuid()).stream()
                .map(InstanceRow::state)
                .toList();
        DatabaseState now = DatabaseState.derive(states, suspended);
        String before = databases.updateState(database.uuid(), now.label());
        if (before != null && !before.equals(now.label())) {
            events.record(
                    database.tenantId(),
                    database.id(),
                    database.uuid(),
                    null,
                    "database.state_changed",
                    "database " + database.id() + ": " + before + " -> " + now.label(),
                    Map.of("from", before, "to", now.label()));
        }
    }
}
