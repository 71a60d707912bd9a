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
import org.springframework.web.bind.annotation.RequestAttribute;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestMethod;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/** Tasks: per database and across all, their logs, and canceling a scheduled one. Tasks outlive their database. */
@RestController
public class TaskController {
    private final JdbcTaskRepository tasks;
    private final DatabaseOperations operations;

    private final io.pgfleet.server.catalog.JdbcDatabaseRepository databases;
    private final PgEdgeCompat compat;

    public TaskController(
            JdbcTaskRepository tasks,
            DatabaseOperations operations,
            io.pgfleet.server.catalog.JdbcDatabaseRepository databases,
            PgEdgeCompat compat) {
        this.databases = databases;
        this.compat = compat;
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

    private TaskList paged(List<TaskRow> rows, int limit, long total) {
        boolean more = rows.size() > limit;
        List<TaskRow> page = more ? rows.subList(0, limit) : rows;
        return new TaskList(
                page.stream().map(compat::task).toList(),
                more ? Cursors.encode(page.get(page.size() - 1).taskId().toString()) : null,
                total);
    }

    @GetMapping("/v1/databases/{databaseId}/tasks/{taskId}")
    public TaskView get(
            @RequestAttribute(Caller.ATTRIBUTE) Caller caller,
            @PathVariable String databaseId,
            @PathVariable UUID taskId) {
        return compat.task(find(caller, databaseId, taskId));
    }

    /**
     * A task's log. Without {@code after_entry_id}: the most recent {@code limit} entries (all, up to
     * 10000, without a limit). With it: the entries after that one, oldest first, which is how a client
     * tails a running task by passing back the {@code last_entry_id} it was given.
     */
    @GetMapping("/v1/databases/{databaseId}/tasks/{taskId}/log")
    public TaskLogView log(
            @RequestAttribute(Caller.ATTRIBUTE) Caller caller,
            @PathVariable String databaseId,
            @PathVariable UUID taskId,
            @RequestParam(name = "after_entry_id", required = false) String afterEntryId,
            @RequestParam(required = false) Integer limit) {
        if (limit != null && (limit < 1 || limit > 10_000)) {
            throw PgfleetException.badParameter("limit", limit + " is outside 1-10000");
        }
        Long after = entryId(afterEntryId);
        TaskRow task = find(caller, databaseId, taskId);
        int max = limit == null ? 10_000 : limit;
        List<LogEntryView> entries = (after == null ? tasks.logTail(taskId, max) : tasks.log(taskId, after, max))
                .stream().map(LogEntryView::of).toList();
        String last = entries.isEmpty()
                ? afterEntryId
                : String.valueOf(entries.get(entries.size() - 1).entryId());
        return new TaskLogView(
                PgEdgeCompat.DATABASE_SCOPE,
                task.databaseId(),
                task.databaseId(),
                task.taskId().toString(),
                task.status().label(),
                last,
                entries);
    }

    private static Long entryId(String given) {
        if (given == null || given.isBlank()) {
            return null;
        }
        try {
            long id = Long.parseLong(given.strip());
            if (id < 0) {
                throw new NumberFormatException();
            }
            return id;
        } catch (NumberFormatException e) {
            throw PgfleetException.badParameter(
                    "after_entry_id",
                    "'" + abbreviate(given) + "' is not an entry id of this log; pass a last_entry_id"
                            + " or entry_id it gave");
        }
    }

    private static String abbreviate(String s) {
        return s.length() > 64 ? s.substring(0, 64) + "…" : s;
    }

    @DeleteMapping("/v1/databases/{databaseId}/tasks/{taskId}")
    public TaskEnvelope cancel(
            @RequestAttribute(Caller.ATTRIBUTE) Caller caller,
            @PathVariable String databaseId,
            @PathVariable UUID taskId) {
        return new TaskEnvelope(compat.task(operations.cancel(caller.tenant(), databaseId, taskId)));
    }

    /**
     * pgEdge's cancel ({@code GET}, answering the task itself) and a {@code POST} for clients that will
     * not change state with a GET: both answer the task's fields and, as pgfleet's other calls, {@code task}.
     */
    @RequestMapping(
            path = "/v1/databases/{databaseId}/tasks/{taskId}/cancel",
            method = {RequestMethod.GET, RequestMethod.POST})
    public Views.CanceledTask cancelPgEdge(
            @RequestAttribute(Caller.ATTRIBUTE) Caller caller,
            @PathVariable String databaseId,
            @PathVariable UUID taskId) {
        TaskView task = compat.task(operations.cancel(caller.tenant(), databaseId, taskId));
        return new Views.CanceledTask(task, task);
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
