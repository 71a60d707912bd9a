package io.pgfleet.server.fleet;

import java.util.UUID;

/**
 * Which task the current thread runs a workflow for, and in which role. The coordinator of a
 * database-wide task runs its workflow whole; each fan-out over nodes ({@link FleetNodes}) is a phase,
 * numbered in order. A host asked for one phase of it (a task part) runs the same workflow as a
 * part: earlier phases are skipped, its own nodes of that phase run, and then the part ends
 * ({@link PartDone}), so what follows (the database's own row, for instance) stays the coordinator's.
 */
public final class TaskScope {
    private static final ThreadLocal<TaskScope> CURRENT = new ThreadLocal<>();
    private final UUID taskId;
    private final Integer partPhase;
    private int nextPhase;

    private TaskScope(UUID taskId, Integer partPhase) {
        this.taskId = taskId;
        this.partPhase = partPhase;
    }

    /** Runs {@code body} as the coordinator of the task. */
    public static void coordinate(UUID taskId, Runnable body) {
        run(new TaskScope(taskId, null), body);
    }

    /** Runs {@code body} as phase {@code phase} of the task on this host; true when the phase was reached. */
    public static boolean part(UUID taskId, int phase, Runnable body) {
        try {
            run(new TaskScope(taskId, phase), body);
            return false; // the workflow ended before reaching the phase: nothing of it is left here
        } catch (PartDone done) {
            return true;
        }
    }

    private static void run(TaskScope scope, Runnable body) {
        TaskScope before = CURRENT.get();
        CURRENT.set(scope);
        try {
            body.run();
        } finally {
            if (before == null) {
                CURRENT.remove();
            } else {
                CURRENT.set(before);
            }
        }
    }

    /**
     * Numbers the current task's next phases from {@code first} on: a workflow that runs after another
     * failed (an update's rollback) gets phases of its own, so its task parts are new rows and not the
     * failed workflow's finished ones. A no-op outside a task.
     */
    public static void startPhasesAt(int first) {
        TaskScope scope = CURRENT.get();
        if (scope != null && scope.nextPhase < first) {
            scope.nextPhase = first;
        }
    }

    static TaskScope current() {
        return CURRENT.get();
    }

    UUID taskId() {
        return taskId;
    }

    boolean isPart() {
        return partPhase != null;
    }

    int partPhase() {
        return partPhase;
    }

    int takePhase() {
        return nextPhase++;
    }

    /** Ends a part's workflow after its phase; not an error. */
    static final class PartDone extends RuntimeException {
        PartDone() {
            super("part done", null, false, false);
        }
    }
}
