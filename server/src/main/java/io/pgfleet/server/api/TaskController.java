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
import io.pgfleet.server.security.Caller;
import io.pgfleet.server.tasks.DatabaseOperations;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestAttribute;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/** Tasks: per database and across all, their logs, and canceling a scheduled one. Tasks outlive their database. */
@RestController
public class TaskController {
    private final JdbcTaskRepository tasks;
    private final DatabaseOperations operations;

    private final io.pgfleet.server.catalog.JdbcDatabaseRepository databases;

    public TaskController(
            JdbcTaskRepository tasks,
            DatabaseOperations operations,
            io.pgfleet.server.catalog.JdbcDatabaseRepository databases) {
        this.databases = databases;
        this.tasks = tasks;
        this.operations = operations;
    }

    @GetMapping("/v1/databases/{databaseId}/tasks")
    public TaskList list(
            @RequestAttribute(Caller.ATTRIBUTE) Caller caller,
            @PathVariable String databaseId,
            @RequestParam(defaultValue = "50") int limit,
            @RequestParam(name = "after_task_id", required = false) UUID afterTaskId,
            @RequestParam(required = false) String cursor,
            @RequestParam(name = "sort_order", defaultValue = "desc") String sortOrder) {
        Page page = page(limit, after(afterTaskId, cursor), sortOrder);
        if (!databases.exists(caller.tenant(), databaseId)) {
            throw PgfleetException.notFound("database " + databaseId);
        }
        return paged(
                tasks.byDatabase(caller.tenant(), databaseId, page.withLimit(limit + 1)),
                limit,
                tasks.countByDatabase(caller.tenant(), databaseId));
    }

    @GetMapping("/v1/tasks")
    public TaskList all(
            @RequestAttribute(Caller.ATTRIBUTE) Caller caller,
            @RequestParam(required = false) String scope,
            @RequestParam(name = "entity_id", required = false) String entityId,
            @RequestParam(defaultValue = "50") int limit,
            @RequestParam(name = "after_task_id", required = false) UUID afterTaskId,
            @RequestParam(required = false) String cursor,
            @RequestParam(name = "sort_order", defaultValue = "desc") String sortOrder) {
        if (scope != null && !Set.of("database", "instance").contains(scope)) {
            throw PgfleetException.badParameter("scope", "'" + scope + "' is not one of [database, instance]");
        }
        Page page = page(limit, after(afterTaskId, cursor), sortOrder);
        return paged(
                tasks.all(caller.tenant(), scope, entityId, page.withLimit(limit + 1)),
                limit,
                tasks.countAll(caller.tenant(), scope, entityId));
    }

    private static UUID after(UUID afterTaskId, String cursor) {
        if (cursor == null) {
            return afterTaskId;
        }
        try {
            return UUID.fromString(Cursors.decode("cursor", cursor));
        } catch (IllegalArgumentException e) {
            throw PgfleetException.badParameter("cursor", "is not a cursor this server handed out");
        }
    }

    private static TaskList paged(List<TaskRow> rows, int limit, long total) {
        boolean more = rows.size() > limit;
        List<TaskRow> page = more ? rows.subList(0, limit) : rows;
        return new TaskList(
                page.stream().map(TaskView::of).toList(),
                more ? Cursors.encode(page.get(page.size() - 1).taskId().toString()) : null,
                total);
    }

    @GetMapping("/v1/databases/{databaseId}/tasks/{taskId}")
    public TaskView get(
            @RequestAttribute(Caller.ATTRIBUTE) Caller caller,
            @PathVariable String databaseId,
            @PathVariable UUID taskId) {
        return TaskView.of(find(caller, databaseId, taskId));
    }

    @GetMapping("/v1/databases/{databaseId}/tasks/{taskId}/log")
    public TaskLogView log(
            @RequestAttribute(Caller.ATTRIBUTE) Caller caller,
            @PathVariable String databaseId,
            @PathVariable UUID taskId,
            @RequestParam(name = "after_entry_id", required = false) Long afterEntryId,
            @RequestParam(defaultValue = "1000") int limit) {
        if (limit < 1 || limit > 10_000) {
            throw PgfleetException.badParameter("limit", limit + " is outside 1-10000");
        }
        TaskRow task = find(caller, databaseId, taskId);
        return new TaskLogView(
                task.taskId().toString(),
                task.status().label(),
                tasks.log(taskId, afterEntryId, limit).stream()
                        .map(LogEntryView::of)
                        .toList());
    }

    @DeleteMapping("/v1/databases/{databaseId}/tasks/{taskId}")
    public TaskEnvelope cancel(
            @RequestAttribute(Caller.ATTRIBUTE) Caller caller,
            @PathVariable String databaseId,
            @PathVariable UUID taskId) {
        return new TaskEnvelope(TaskView.of(operations.cancel(caller.tenant(), databaseId, taskId)));
    }

    @PostMapping("/v1/databases/{databaseId}/tasks/{taskId}/cancel")
    public TaskEnvelope cancelPost(
            @RequestAttribute(Caller.ATTRIBUTE) Caller caller,
            @PathVariable String databaseId,
            @PathVariable UUID taskId) {
        return cancel(caller, databaseId, taskId);
    }

    private TaskRow find(Caller caller, String databaseId, UUID taskId) {
        return tasks.find(caller.tenant(), taskId)
                .filter(t -> t.databaseId().equals(databaseId))
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
