package io.pgfleet.server.tasks;

import io.pgfleet.server.catalog.CatalogRows.TaskRow;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The task a workflow runs for, and its timestamped log (visible through the API as it grows). */
public final class TaskContext {
    private static final Logger log = LoggerFactory.getLogger(TaskContext.class);

    /** Where the task log goes: the catalog's {@code task_log} in production. */
    @FunctionalInterface
    public interface TaskLog {
        void append(UUID taskId, String message, Map<String, Object> fields);
    }

    private final TaskRow task;
    private final TaskLog taskLog;
    private final String pauseAfter;

    TaskContext(TaskRow task, TaskLog taskLog) {
        this(task, taskLog, null);
    }

    /**
     * {@code pauseAfter}: test only ({@code pgfleet.test-pause-at-step}), null in production. A comma
     * separated list of {@code [TASK_TYPE:][DATABASE_ID/]STEP} ({@code StopPooler},
     * {@code update:c-3/Reload}), or {@code @FILE} whose lines are read at each step (so a test can
     * choose its kill points while pgfleet runs): the worker sleeps right after such a step is recorded,
     * so a crash test can SIGKILL pgfleet exactly there. An entry {@code twice:DATABASE_ID} has every step
     * of that database's tasks applied twice ({@link #appliesTwice}).
     */
    TaskContext(TaskRow task, TaskLog taskLog, String pauseAfter) {
        this.task = task;
        this.taskLog = taskLog;
        this.pauseAfter = pauseAfter;
    }

    public TaskRow task() {
        return task;
    }

    public void log(String message) {
        log(message, Map.of());
    }

    public void log(String message, Map<String, Object> fields) {
        taskLog.append(task.taskId(), message, fields);
        log.info("task {} ({} of {}): {}", task.taskId(), task.type().label(), task.databaseId(), message);
    }

    private List<String> pausePoints() {
        String points = pauseAfter;
        if (points.startsWith("@")) {
            try {
                Path file = Path.of(points.substring(1));
                points = Files.exists(file) ? Files.readString(file).replace('\n', ',') : "";
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return Arrays.stream(points.split(","))
                .map(String::trim)
                .filter(s -> !s.isEmpty())
                .toList();
    }

    /**
     * Test only: whether each step's action runs twice in a row (an entry {@code twice:DATABASE_ID}), as
     * the runner redoes a step that a crash cut off after its work but before its record; never in
     * production.
     */
    boolean appliesTwice() {
        return pauseAfter != null && pausePoints().contains("twice:" + task.databaseId());
    }

    /** Holds the worker after a finished step when a crash test asked for it; nothing in production. */
    void pauseAfter(Step step) {
        if (pauseAfter == null) {
            return;
        }
        List<String> pauseAfter = pausePoints();
        String here = task.databaseId() + "/" + step.name();
        String type = task.type().label() + ":";
        if (!pauseAfter.contains(step.name())
                && !pauseAfter.contains(here)
                && !pauseAfter.contains(type + step.name())
                && !pauseAfter.contains(type + here)) {
            return;
        }
        log.warn("task {}: pausing after step {} (pgfleet.test-pause-at-step)", task.taskId(), step.key());
        taskLog.append(
                task.taskId(),
                "test pause after " + step.key(),
                step.node() == null
                        ? Map.of("test_pause", step.name())
                        : Map.of("test_pause", step.name(), "node", step.node()));
        try {
            Thread.sleep(Duration.ofMinutes(10).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
