package io.pgfleet.server.api;

import io.pgfleet.core.CreateDatabaseRequest;
import io.pgfleet.core.DatabaseState;
import io.pgfleet.core.DatabaseUserSpec;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.core.UpdateDatabaseRequest;
import io.pgfleet.server.agent.HostLayout;
import io.pgfleet.server.agent.InstancePaths;
import io.pgfleet.server.agent.ServerLog;
import io.pgfleet.server.api.Views.ConnectionInstance;
import io.pgfleet.server.api.Views.ConnectionView;
import io.pgfleet.server.api.Views.CreatedEnvelope;
import io.pgfleet.server.api.Views.DatabaseList;
import io.pgfleet.server.api.Views.DatabaseView;
import io.pgfleet.server.api.Views.RestartRequest;
import io.pgfleet.server.api.Views.ServerLogView;
import io.pgfleet.server.api.Views.TaskEnvelope;
import io.pgfleet.server.api.Views.TaskView;
import io.pgfleet.server.api.Views.UpdateEnvelope;
import io.pgfleet.server.catalog.CatalogRows.DatabaseRow;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.catalog.JdbcDatabaseRepository;
import io.pgfleet.server.catalog.JdbcInstanceRepository;
import io.pgfleet.server.config.PgfleetProperties;
import io.pgfleet.server.security.SecretBox;
import io.pgfleet.server.tasks.DatabaseOperations;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

/** {@code /v1/databases}: create, read, list, delete, and the instance lifecycle. */
@RestController
@RequestMapping("/v1/databases")
public class DatabaseController {
    private static final String TENANT = DatabaseOperations.DEFAULT_TENANT;
    private final DatabaseOperations operations;
    private final JdbcDatabaseRepository databases;
    private final JdbcInstanceRepository instances;
    private final HostLayout layout;
    private final SecretBox secrets;
    private final PgfleetProperties properties;

    public DatabaseController(
            DatabaseOperations operations,
            JdbcDatabaseRepository databases,
            JdbcInstanceRepository instances,
            HostLayout layout,
            SecretBox secrets,
            PgfleetProperties properties) {
        this.operations = operations;
        this.databases = databases;
        this.instances = instances;
        this.layout = layout;
        this.secrets = secrets;
        this.properties = properties;
    }

    @PostMapping
    @ResponseStatus(HttpStatus.ACCEPTED)
    public CreatedEnvelope create(@RequestBody CreateDatabaseRequest request) {
        DatabaseOperations.Created created = operations.create(request);
        DatabaseRow db = created.database();
        return new CreatedEnvelope(DatabaseView.of(db, instances.byDatabase(db.uuid())), TaskView.of(created.task()));
    }

    @GetMapping
    public DatabaseList list(
            @RequestParam(required = false) String state,
            @RequestParam(required = false) List<String> label,
            @RequestParam(defaultValue = "50") int limit,
            @RequestParam(required = false) String cursor) {
        if (limit < 1 || limit > 500) {
            throw PgfleetException.badParameter("limit", limit + " is outside 1-500");
        }
        DatabaseState wanted = state == null ? null : DatabaseState.fromLabel(state);
        Map<String, String> labels = new LinkedHashMap<>();
        for (String l : label == null ? List.<String>of() : label) {
            int eq = l.indexOf('=');
            if (eq <= 0) {
                throw PgfleetException.badParameter("label", "'" + l + "' is not key=value");
            }
            labels.put(l.substring(0, eq), l.substring(eq + 1));
        }
        // The state is derived from the instances, so it is filtered here rather than in SQL.
        List<DatabaseRow> rows = databases.list(TENANT, labels, null, Integer.MAX_VALUE);
        Map<java.util.UUID, List<InstanceRow>> byDb =
                instances.byDatabases(rows.stream().map(DatabaseRow::uuid).toList()).stream()
                        .collect(Collectors.groupingBy(InstanceRow::databaseUuid));
        List<DatabaseView> matching = new ArrayList<>();
        for (DatabaseRow row : rows) {
            DatabaseView view = DatabaseView.of(row, byDb.getOrDefault(row.uuid(), List.of()));
            if (wanted == null || view.state().equals(wanted.label())) {
                matching.add(view);
            }
        }
        List<DatabaseView> page = matching.stream()
                .filter(v -> cursor == null || v.id().compareTo(cursor) > 0)
                .limit(limit)
                .toList();
        boolean more = matching.stream()
                        .filter(v -> cursor == null || v.id().compareTo(cursor) > 0)
                        .count()
                > page.size();
        return new DatabaseList(page, more ? page.get(page.size() - 1).id() : null, matching.size());
    }

    @GetMapping("/{databaseId}")
    public DatabaseView get(@PathVariable String databaseId) {
        DatabaseRow db = find(databaseId);
        return DatabaseView.of(db, instances.byDatabase(db.uuid()));
    }

    /** A spec update: the whole desired spec; 202 with the task and the plan it applies. */
    @PostMapping("/{databaseId}")
    @ResponseStatus(HttpStatus.ACCEPTED)
    public UpdateEnvelope update(@PathVariable String databaseId, @RequestBody UpdateDatabaseRequest request) {
        DatabaseOperations.Updated updated = operations.update(databaseId, request);
        return new UpdateEnvelope(TaskView.of(updated.task()), updated.plan());
    }

    @DeleteMapping("/{databaseId}")
    @ResponseStatus(HttpStatus.ACCEPTED)
    public TaskEnvelope delete(@PathVariable String databaseId) {
        return new TaskEnvelope(TaskView.of(operations.delete(databaseId)));
    }

    @PostMapping({"/{databaseId}/instances/{instanceId}/stop", "/{databaseId}/instances/{instanceId}/stop-instance"})
    @ResponseStatus(HttpStatus.ACCEPTED)
    public TaskEnvelope stop(@PathVariable String databaseId, @PathVariable String instanceId) {
        return new TaskEnvelope(TaskView.of(operations.stop(databaseId, instanceId)));
    }

    @PostMapping({"/{databaseId}/instances/{instanceId}/start", "/{databaseId}/instances/{instanceId}/start-instance"})
    @ResponseStatus(HttpStatus.ACCEPTED)
    public TaskEnvelope start(@PathVariable String databaseId, @PathVariable String instanceId) {
        return new TaskEnvelope(TaskView.of(operations.start(databaseId, instanceId)));
    }

    @PostMapping({
        "/{databaseId}/instances/{instanceId}/restart",
        "/{databaseId}/instances/{instanceId}/restart-instance"
    })
    @ResponseStatus(HttpStatus.ACCEPTED)
    public TaskEnvelope restart(
            @PathVariable String databaseId,
            @PathVariable String instanceId,
            @RequestBody(required = false) RestartRequest body) {
        RestartRequest request = body == null ? new RestartRequest(null, null) : body;
        return new TaskEnvelope(TaskView.of(operations.restart(
                databaseId, instanceId, request.scheduledAt(), Boolean.TRUE.equals(request.onlyIfPending()))));
    }

    @GetMapping("/{databaseId}/instances/{instanceId}/logs")
    public ServerLogView logs(
            @PathVariable String databaseId,
            @PathVariable String instanceId,
            @RequestParam(defaultValue = "100") int tail,
            @RequestParam(required = false) String level) {
        if (tail < 1 || tail > 10_000) {
            throw PgfleetException.badParameter("tail", tail + " is outside 1-10000");
        }
        if (level != null && !ServerLog.LEVELS.contains(level)) {
            throw PgfleetException.badParameter("level", "'" + level + "' is not one of " + ServerLog.LEVELS);
        }
        InstanceRow instance = operations.resolve(find(databaseId), instanceId);
        InstancePaths paths = new InstancePaths(layout.instanceDir(instance.id()));
        List<String> lines = level == null
                ? ServerLog.tail(paths.logFile(), tail)
                : ServerLog.atLeast(ServerLog.tail(paths.logFile(), tail * 20), level);
        if (lines.size() > tail) {
            lines = lines.subList(lines.size() - tail, lines.size());
        }
        return new ServerLogView(
                instance.id(), instance.nodeName(), paths.logFile().toString(), lines);
    }

    @GetMapping("/{databaseId}/connection")
    public ConnectionView connection(
            @PathVariable String databaseId,
            @RequestParam(required = false) String user,
            @RequestParam(defaultValue = "false") boolean reveal) {
        DatabaseRow db = find(databaseId);
        List<DatabaseUserSpec> users = db.spec().databaseUsers();
        Optional<DatabaseUserSpec> chosen = user != null
                ? users.stream().filter(u -> u.username().equals(user)).findFirst()
                : db.spec().owner().or(() -> users.stream().findFirst());
        if (user != null && chosen.isEmpty()) {
            throw PgfleetException.notFound("user " + user + " of database " + databaseId);
        }
        String username = chosen.map(DatabaseUserSpec::username).orElse(null);
        String password = "****";
        if (reveal && username != null) {
            byte[] encrypted = databases.userPasswords(db.uuid()).get(username);
            password = encrypted == null ? "****" : secrets.open(encrypted).value();
        }
        List<ConnectionInstance> result = new ArrayList<>();
        for (InstanceRow i : instances.byDatabase(db.uuid())) {
            String auth = username == null ? "" : enc(username) + ":" + (reveal ? enc(password) : password) + "@";
            String direct = "postgresql://" + auth + properties.advertiseHost() + ":" + i.port() + "/"
                    + enc(db.spec().databaseName());
            String pooled = i.poolerPort() == null
                    ? null
                    : "postgresql://" + auth + properties.advertiseHost() + ":" + i.poolerPort() + "/"
                            + enc(db.spec().databaseName());
            result.add(new ConnectionInstance(
                    i.id(),
                    i.nodeName(),
                    i.state().label(),
                    properties.advertiseHost(),
                    i.port(),
                    i.poolerPort(),
                    username,
                    db.spec().databaseName(),
                    direct,
                    pooled));
        }
        return new ConnectionView(db.id(), result);
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private DatabaseRow find(String databaseId) {
        return databases
                .find(TENANT, databaseId)
                .orElseThrow(() -> PgfleetException.notFound("database " + databaseId));
    }
}
