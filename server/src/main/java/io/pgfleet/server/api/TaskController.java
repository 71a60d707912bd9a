package io.pgfleet.server.api;

import io.pgfleet.core.PgfleetException;
import io.pgfleet.server.api.Views.LogEntryView;
import io.pgfleet.server.api.Views.TaskEnvelope;
import io.pgfleet.server.api.Views.TaskList;
import io.pgfleet.server.api.Views.TaskLogView;
import io.pgfleet.server.api.Views.TaskView;
import io.pgfleet.server.catalog.CatalogRows.TaskRow;
import io.pgfleet.server.catalog.JdbcTaskRepository;
import io.pgfleet.server.catalog.JdbcTaskRepository.Page;
import io.pgfleet.server.tasks.DatabaseOperations;
import java.util.Set;
import java.util.UUID;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/** Tasks: per database and across all, their logs, and canceling a scheduled one. Tasks outlive their database. */
@RestController
public class TaskController {
    private static final String TENANT = DatabaseOperations.DEFAULT_TENANT;
    private final JdbcTaskRepository tasks;
    private final DatabaseOperations operations;

    public TaskController(JdbcTaskRepository tasks, DatabaseOperations operations) {
        this.tasks = tasks;
        this.operations = operations;
    }

    @GetMapping("/v1/databases/{databaseId}/tasks")
    public TaskList list(
            @PathVariable String databaseId,
            @RequestParam(defaultValue = "50") int limit,
            @RequestParam(name = "after_task_id", required = false) UUID afterTaskId,
            @RequestParam(name = "sort_order", defaultValue = "desc") String sortOrder) {
        return new TaskList(tasks.byDatabase(TENANT, databaseId, page(limit, afterTaskId, sortOrder)).stream()
                .map(TaskView::of)
                .toList());
    }

    @GetMapping("/v1/tasks")
    public TaskList all(
            @RequestParam(required = false) String scope,
            @RequestParam(name = "entity_id", required = false) String entityId,
            @RequestParam(defaultValue = "50") int limit,
            @RequestParam(name = "after_task_id", required = false) UUID afterTaskId,
            @RequestParam(name = "sort_order", defaultValue = "desc") String sortOrder) {
        if (scope != null && !Set.of("database", "instance").contains(scope)) {
            throw PgfleetException.badParameter("scope", "'" + scope + "' is not one of [database, instance]");
        }
        return new TaskList(tasks.all(TENANT, scope, entityId, page(limit, afterTaskId, sortOrder)).stream()
                .map(TaskView::of)
                .toList());
    }

    @GetMapping("/v1/databases/{databaseId}/tasks/{taskId}")
    public TaskView get(@PathVariable String databaseId, @PathVariable UUID taskId) {
        return TaskView.of(find(databaseId, taskId));
    }

    @GetMapping("/v1/databases/{databaseId}/tasks/{taskId}/log")
    public TaskLogView log(
            @PathVariable String databaseId,
            @PathVariable UUID taskId,
            @RequestParam(name = "after_entry_id", required = false) Long afterEntryId,
            @RequestParam(defaultValue = "1000") int limit) {
        if (limit < 1 || limit > 10_000) {
            throw PgfleetException.badParameter("limit", limit + " is outside 1-10000");
        }
        TaskRow task = find(databaseId, taskId);
        return new TaskLogView(
                task.taskId().toString(),
                task.status().label(),
                tasks.log(taskId, afterEntryId, limit).stream()
                        .map(LogEntryView::of)
                        .toList());
    }

    @DeleteMapping("/v1/databases/{databaseId}/tasks/{taskId}")
    public TaskEnvelope cancel(@PathVariable String databaseId, @PathVariable UUID taskId) {
        return new TaskEnvelope(TaskView.of(operations.cancel(databaseId, taskId)));
    }

    @PostMapping("/v1/databases/{databaseId}/tasks/{taskId}/cancel")
    public TaskEnvelope cancelPost(@PathVariable String databaseId, @PathVariable UUID taskId) {
        return cancel(databaseId, taskId);
    }

    private TaskRow find(String databaseId, UUID taskId) {
        return tasks.find(taskId)
                .filter(t -> t.tenantId().equals(TENANT) && t.databaseId().equals(databaseId))
                .orElseThrow(() -> PgfleetException.notFound("task " + taskId + " of database " + databaseId));
    }

    private static Page page(int limit, UUID after, String sortOrder) {
        if (limit < 1 || limit > 500) {
            throw PgfleetException.badParameter("limit", limit + " is outside 1-500");
        }
        if (!Set.of("asc", "desc", "ascend", "descend").contains(sortOrder)) {
            throw PgfleetException.badParameter("sort_order", "'" + sortOrder + "' is not asc or desc");
        }
        return new Page(limit, after, sortOrder.startsWith("asc"));
    }
}
