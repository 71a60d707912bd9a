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

    TaskContext(TaskRow task, JdbcTaskRepository tasks) {
        this.task = task;
        this.tasks = tasks;
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
    }
}
