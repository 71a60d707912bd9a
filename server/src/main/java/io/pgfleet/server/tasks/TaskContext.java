package io.pgfleet.server.tasks;

import io.pgfleet.server.catalog.CatalogRows.TaskRow;
import io.pgfleet.server.catalog.JdbcTaskRepository;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The task a workflow runs for, and its timestamped log (visible through the API as it grows). */
public final class TaskContext {
    private static final Logger log = LoggerFactory.getLogger(TaskContext.class);
    private final TaskRow task;
    private final JdbcTaskRepository tasks;
    private final String pauseAtStep;

    TaskContext(TaskRow task, JdbcTaskRepository tasks) {
        this(task, tasks, null);
    }

    /** {@code pauseAtStep}: test only ({@code pgfleet.test-pause-at-step}); null in production. */
    TaskContext(TaskRow task, JdbcTaskRepository tasks, String pauseAtStep) {
        this.task = task;
        this.tasks = tasks;
        this.pauseAtStep = pauseAtStep;
    }

    public TaskRow task() {
        return task;
    }

    public void log(String message) {
        log(message, Map.of());
    }

    public void log(String message, Map<String, Object> fields) {
        tasks.appendLog(task.taskId(), message, fields);
        log.info("task {} ({} of {}): {}", task.taskId(), task.type().label(), task.databaseId(), message);
        if (pauseAtStep != null && pauseAtStep.equals(fields.get("step"))) {
            pauseForTest();
        }
    }

    /** Holds the worker at a step boundary so a crash test can SIGKILL pgfleet exactly there. */
    private void pauseForTest() {
        log.warn("task {}: pausing at step {} (pgfleet.test-pause-at-step)", task.taskId(), pauseAtStep);
        try {
            Thread.sleep(java.time.Duration.ofMinutes(10).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
