package io.pgfleet.server.fleet;

import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.config.FleetProperties;
import io.pgfleet.server.config.PgfleetProperties;
import io.pgfleet.server.fleet.JdbcFleetRepository.Part;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.function.Function;
import org.springframework.stereotype.Component;

/**
 * A workflow's step over several nodes, each on its own host. The nodes of this host run here; for
 * each other host the coordinator records a task part, which that host claims and runs (woken by
 * NOTIFY), all in parallel; the step completes when every part has, and fails with every host's error.
 * A part whose host becomes unreachable fails the step, naming the host.
 */
@Component
public class FleetNodes {
    private final JdbcFleetRepository fleet;
    private final CatalogSignals signals;
    private final String hostId;
    private final Duration hostTimeout;

    public FleetNodes(
            JdbcFleetRepository fleet,
            CatalogSignals signals,
            PgfleetProperties properties,
            FleetProperties fleetProperties) {
        this.fleet = fleet;
        this.signals = signals;
        this.hostId = properties.hostId();
        this.hostTimeout = fleetProperties.hostTimeout();
    }

    /** Runs {@code runHere} on this host's nodes and has every other host run it on its own. */
    public void forEachNode(List<InstanceRow> rows, Consumer<List<InstanceRow>> runHere) {
        forEachNode(rows, InstanceRow::hostId, runHere);
    }

    /** Whether the current thread runs a task part for another host's coordinator (see {@link TaskScope}). */
    public static boolean inPart() {
        TaskScope scope = TaskScope.current();
        return scope != null && scope.isPart();
    }

    /**
     * One phase of a task: {@code runHere} gets the items on this host ({@code hostOf} says whose an
     * item is); every other host is asked to run its own as a task part, and this waits for them.
     */
    public <T> void forEachNode(List<T> rows, Function<T, String> hostOf, Consumer<List<T>> runHere) {
        TaskScope scope = TaskScope.current();
        if (scope == null) {
            runHere.accept(rows); // not inside a task (a single-host caller): everything is local
            return;
        }
        int phase = scope.takePhase();
        List<T> local =
                rows.stream().filter(r -> hostOf.apply(r).equals(hostId)).toList();
        if (scope.isPart()) {
            if (phase < scope.partPhase()) {
                return; // an earlier phase: its own part ran (or runs) separately
            }
            runHere.accept(local);
            throw new TaskScope.PartDone();
        }
        TreeSet<String> others = new TreeSet<>();
        rows.stream().map(hostOf).filter(h -> !h.equals(hostId)).forEach(others::add);
        if (others.isEmpty()) {
            runHere.accept(rows);
            return;
        }
        for (String other : others) {
            HostRecord host = fleet.host(other).orElse(null);
            if (host == null || !host.isReachable(hostTimeout)) {
                throw new PgfleetException(
                        ErrorCode.HOST_UNAVAILABLE,
                        "host " + other + " is unreachable; its nodes cannot be worked on until it is back");
            }
        }
        others.forEach(other -> fleet.requestPart(scope.taskId(), other, phase));
        List<String> errors = new ArrayList<>();
        try {
            if (!local.isEmpty()) {
                runHere.accept(local);
            }
        } catch (RuntimeException e) {
            errors.add(e.getMessage());
        }
        errors.addAll(awaitParts(scope, others, phase));
        if (!errors.isEmpty()) {
            throw new PgfleetException(ErrorCode.INTERNAL, String.join("; ", errors));
        }
    }

    private List<String> awaitParts(TaskScope scope, TreeSet<String> hosts, int phase) {
        List<String> errors = new ArrayList<>();
        TreeSet<String> waiting = new TreeSet<>(hosts);
        while (!waiting.isEmpty()) {
            for (String other : List.copyOf(waiting)) {
                Optional<Part> part = fleet.part(scope.taskId(), other, phase);
                String status = part.map(Part::status).orElse("canceled");
                if (status.equals("completed")) {
                    waiting.remove(other);
                } else if (status.equals("failed") || status.equals("canceled")) {
                    errors.add(part.map(Part::error).orElse("host " + other + ": its part was canceled"));
                    waiting.remove(other);
                } else if (fleet.host(other)
                        .map(h -> !h.isReachable(hostTimeout))
                        .orElse(true)) {
                    errors.add("host " + other + " became unreachable before its part of this task finished;"
                            + " retry when it is back");
                    waiting.remove(other);
                }
            }
            if (!waiting.isEmpty()) {
                try {
                    // Woken by the part's status change (NOTIFY); the timeout is the fallback poll.
                    signals.awaitSignal(signals.isListening() ? 1000 : 250);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new PgfleetException(ErrorCode.INTERNAL, "interrupted while waiting for other hosts", e);
                }
            }
        }
        return errors;
    }
}
