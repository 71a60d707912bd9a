package io.pgfleet.server.api;

import io.pgfleet.core.CreateDatabaseRequest;
import io.pgfleet.core.DatabaseSpec;
import io.pgfleet.core.DatabaseState;
import io.pgfleet.core.DatabaseUserSpec;
import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.FieldError;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.core.SuperuserPowers;
import io.pgfleet.core.UpdateDatabaseRequest;
import io.pgfleet.server.agent.HostLayout;
import io.pgfleet.server.agent.InstancePaths;
import io.pgfleet.server.agent.PostgresDistribution;
import io.pgfleet.server.agent.ServerLog;
import io.pgfleet.server.api.Views.ConnectionInstance;
import io.pgfleet.server.api.Views.ConnectionView;
import io.pgfleet.server.api.Views.CreatedEnvelope;
import io.pgfleet.server.api.Views.DatabaseList;
import io.pgfleet.server.api.Views.DatabaseView;
import io.pgfleet.server.api.Views.RestartRequest;
import io.pgfleet.server.api.Views.ServerLogView;
import io.pgfleet.server.api.Views.TaskEnvelope;
import io.pgfleet.server.api.Views.UpdateEnvelope;
import io.pgfleet.server.catalog.CatalogRows.DatabaseRow;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.catalog.JdbcDatabaseRepository;
import io.pgfleet.server.catalog.JdbcInstanceRepository;
import io.pgfleet.server.config.PgfleetProperties;
import io.pgfleet.server.security.Caller;
import io.pgfleet.server.security.SecretBox;
import io.pgfleet.server.tasks.DatabaseOperations;
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
import org.springframework.web.bind.annotation.RequestAttribute;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

/** {@code /v1/databases}: create, read, list, delete, and the instance lifecycle. */
@RestController
@RequestMapping("/v1/databases")
public class DatabaseController {
    /** The catalog stores times as timestamptz: a year past 9999 would fail there. */
    private static final java.time.Instant LATEST_SCHEDULE = java.time.Instant.parse("9999-12-31T23:59:59Z");

    private final DatabaseOperations operations;
    private final JdbcDatabaseRepository databases;
    private final JdbcInstanceRepository instances;
    private final HostLayout layout;
    private final SecretBox secrets;
    private final PgfleetProperties properties;
    private final PostgresDistribution distribution;
    private final PgEdgeCompat compat;
    private final io.pgfleet.server.fleet.HostCalls hostCalls;
    private final io.pgfleet.server.ha.ReplicationStatus replicationStatus;

    public DatabaseController(
            DatabaseOperations operations,
            JdbcDatabaseRepository databases,
            JdbcInstanceRepository instances,
            HostLayout layout,
            SecretBox secrets,
            PgfleetProperties properties,
            PostgresDistribution distribution,
            PgEdgeCompat compat,
            io.pgfleet.server.fleet.HostCalls hostCalls,
            io.pgfleet.server.ha.ReplicationStatus replicationStatus) {
        this.replicationStatus = replicationStatus;
        this.distribution = distribution;
        this.compat = compat;
        this.hostCalls = hostCalls;
        this.operations = operations;
        this.databases = databases;
        this.instances = instances;
        this.layout = layout;
        this.secrets = secrets;
        this.properties = properties;
    }

    @PostMapping
    @ResponseStatus(HttpStatus.ACCEPTED)
    public CreatedEnvelope create(
            @RequestAttribute(Caller.ATTRIBUTE) Caller caller, @RequestBody CreateDatabaseRequest request) {
        CreateDatabaseRequest normalized =
                new CreateDatabaseRequest(request.id(), request.labels(), compat.normalize(request.spec()));
        refuseSuperuserPowers(caller, null, normalized.spec());
        DatabaseOperations.Created created = operations.create(caller.tenant(), normalized);
        DatabaseRow db = created.database();
        return new CreatedEnvelope(
                DatabaseView.of(db, instances.byDatabase(db.uuid()), compat.facts()), compat.task(created.task()));
    }

    @GetMapping
    public DatabaseList list(
            @RequestAttribute(Caller.ATTRIBUTE) Caller caller,
            @RequestParam(required = false) String state,
            @RequestParam(required = false) List<String> label,
            @RequestParam(defaultValue = "50") int limit,
            @RequestParam(required = false) String cursor) {
        if (limit < 1 || limit > 500) {
            throw PgfleetException.badParameter("limit", limit + " is outside 1-500");
        }
        String wanted = state == null ? null : DatabaseState.fromLabel(state).label();
        Map<String, String> labels = new LinkedHashMap<>();
        for (String l : label == null ? List.<String>of() : label) {
            int eq = l.indexOf('=');
            if (eq <= 0) {
                throw PgfleetException.badParameter("label", "'" + l + "' is not key=value");
            }
            labels.put(l.substring(0, eq), l.substring(eq + 1));
        }
        String after = cursor == null ? null : Cursors.decode("cursor", cursor);
        List<DatabaseRow> rows = databases.list(caller.tenant(), labels, wanted, after, limit + 1);
        boolean more = rows.size() > limit;
        List<DatabaseRow> page = more ? rows.subList(0, limit) : rows;
        Map<java.util.UUID, List<InstanceRow>> byDb =
                instances.byDatabases(page.stream().map(DatabaseRow::uuid).toList()).stream()
                        .collect(Collectors.groupingBy(InstanceRow::databaseUuid));
        PgEdgeCompat.InstanceFacts facts = compat.facts();
        List<DatabaseView> views = page.stream()
                .map(row -> DatabaseView.of(row, byDb.getOrDefault(row.uuid(), List.of()), facts))
                .toList();
        return new DatabaseList(
                views,
                more ? Cursors.encode(page.get(page.size() - 1).id()) : null,
                databases.count(caller.tenant(), labels, wanted));
    }

    @GetMapping("/{databaseId}")
    public DatabaseView get(@RequestAttribute(Caller.ATTRIBUTE) Caller caller, @PathVariable String databaseId) {
        DatabaseRow db = find(caller, databaseId);
        List<InstanceRow> rows = instances.byDatabase(db.uuid());
        return DatabaseView.of(db, rows, compat.facts(), replicationStatus.of(rows));
    }

    /** A spec update: the whole desired spec; 202 with the task and the plan it applies. */
    @PostMapping("/{databaseId}")
    @ResponseStatus(HttpStatus.ACCEPTED)
    public UpdateEnvelope update(
            @RequestAttribute(Caller.ATTRIBUTE) Caller caller,
            @PathVariable String databaseId,
            @RequestBody UpdateDatabaseRequest request) {
        UpdateDatabaseRequest normalized =
                new UpdateDatabaseRequest(request.id(), request.labels(), compat.normalize(request.spec()));
        databases
                .find(caller.tenant(), databaseId)
                .ifPresent(current -> refuseSuperuserPowers(caller, current.spec(), normalized.spec()));
        DatabaseOperations.Updated updated = operations.update(caller.tenant(), databaseId, normalized);
        DatabaseRow db = find(caller, databaseId);
        return new UpdateEnvelope(
                compat.task(updated.task()),
                DatabaseView.of(db, instances.byDatabase(db.uuid()), compat.facts()),
                updated.plan());
    }

    @DeleteMapping("/{databaseId}")
    @ResponseStatus(HttpStatus.ACCEPTED)
    public TaskEnvelope delete(@RequestAttribute(Caller.ATTRIBUTE) Caller caller, @PathVariable String databaseId) {
        return new TaskEnvelope(compat.task(operations.delete(caller.tenant(), databaseId)));
    }

    @PostMapping("/{databaseId}/suspend")
    @ResponseStatus(HttpStatus.ACCEPTED)
    public TaskEnvelope suspend(
            @RequestAttribute(Caller.ATTRIBUTE) Caller caller,
            @PathVariable String databaseId,
            @RequestBody Views.SuspendRequest body) {
        return new TaskEnvelope(compat.task(operations.suspend(caller.tenant(), databaseId, body.reason())));
    }

    @PostMapping("/{databaseId}/unsuspend")
    @ResponseStatus(HttpStatus.ACCEPTED)
    public TaskEnvelope unsuspend(@RequestAttribute(Caller.ATTRIBUTE) Caller caller, @PathVariable String databaseId) {
        return new TaskEnvelope(compat.task(operations.unsuspend(caller.tenant(), databaseId)));
    }

    @PostMapping({"/{databaseId}/instances/{instanceId}/stop", "/{databaseId}/instances/{instanceId}/stop-instance"})
    @ResponseStatus(HttpStatus.ACCEPTED)
    public TaskEnvelope stop(
            @RequestAttribute(Caller.ATTRIBUTE) Caller caller,
            @PathVariable String databaseId,
            @PathVariable String instanceId) {
        return new TaskEnvelope(compat.task(operations.stop(caller.tenant(), databaseId, instanceId)));
    }

    @PostMapping({"/{databaseId}/instances/{instanceId}/start", "/{databaseId}/instances/{instanceId}/start-instance"})
    @ResponseStatus(HttpStatus.ACCEPTED)
    public TaskEnvelope start(
            @RequestAttribute(Caller.ATTRIBUTE) Caller caller,
            @PathVariable String databaseId,
            @PathVariable String instanceId) {
        return new TaskEnvelope(compat.task(operations.start(caller.tenant(), databaseId, instanceId)));
    }

    @PostMapping({
        "/{databaseId}/instances/{instanceId}/restart",
        "/{databaseId}/instances/{instanceId}/restart-instance"
    })
    @ResponseStatus(HttpStatus.ACCEPTED)
    public TaskEnvelope restart(
            @RequestAttribute(Caller.ATTRIBUTE) Caller caller,
            @PathVariable String databaseId,
            @PathVariable String instanceId,
            @RequestBody(required = false) RestartRequest body) {
        RestartRequest request = body == null ? new RestartRequest(null, null) : body;
        if (request.scheduledAt() != null
                && (request.scheduledAt().isAfter(LATEST_SCHEDULE)
                        || request.scheduledAt().isBefore(java.time.Instant.EPOCH))) {
            throw PgfleetException.badParameter(
                    "scheduled_at",
                    request.scheduledAt()
                            + " is outside 1970-01-01 to 9999-12-31; give an ISO-8601 time such as 2026-01-31T02:00:00Z");
        }
        return new TaskEnvelope(compat.task(operations.restart(
                caller.tenant(),
                databaseId,
                instanceId,
                request.scheduledAt(),
                Boolean.TRUE.equals(request.onlyIfPending()))));
    }

    @GetMapping("/{databaseId}/instances/{instanceId}/logs")
    public ServerLogView logs(
            @RequestAttribute(Caller.ATTRIBUTE) Caller caller,
            @PathVariable String databaseId,
            @PathVariable String instanceId,
            @RequestParam(defaultValue = "100") int tail,
            @RequestParam(required = false) String level,
            @RequestParam(defaultValue = "postgres") String source,
            jakarta.servlet.http.HttpServletRequest request) {
        if (tail < 1 || tail > 10_000) {
            throw PgfleetException.badParameter("tail", tail + " is outside 1-10000");
        }
        if (level != null && !ServerLog.LEVELS.contains(level)) {
            throw PgfleetException.badParameter("level", "'" + level + "' is not one of " + ServerLog.LEVELS);
        }
        if (!source.equals("postgres") && !source.equals("pooler")) {
            throw PgfleetException.badParameter("source", "'" + source + "' is not one of [postgres, pooler]");
        }
        InstanceRow instance = operations.resolve(find(caller, databaseId), instanceId);
        if (!instance.hostId().equals(properties.hostId())) {
            // The files are on the instance's host: ask its API, as this caller, signed as the fleet.
            String pathAndQuery =
                    request.getRequestURI() + (request.getQueryString() == null ? "" : "?" + request.getQueryString());
            if (request.getHeader(io.pgfleet.server.fleet.HostCalls.FORWARDED_BY) != null) {
                throw new PgfleetException(
                        io.pgfleet.core.ErrorCode.HOST_UNAVAILABLE,
                        "instance " + instance.nodeName() + " of " + databaseId + " runs on host " + instance.hostId()
                                + ", not on " + properties.hostId() + "; the hosts disagree, retry in a moment");
            }
            return hostCalls.get(
                    instance.hostId(), pathAndQuery, request.getHeader("Authorization"), ServerLogView.class);
        }
        String forwardedBy = request.getHeader(io.pgfleet.server.fleet.HostCalls.FORWARDED_BY);
        if (forwardedBy != null
                && !hostCalls.isSigned(
                        forwardedBy,
                        request.getRequestURI()
                                + (request.getQueryString() == null ? "" : "?" + request.getQueryString()),
                        request.getHeader(io.pgfleet.server.fleet.HostCalls.SIGNATURE))) {
            throw new PgfleetException(
                    io.pgfleet.core.ErrorCode.FORBIDDEN,
                    "a call forwarded by another host must carry the fleet's signature");
        }
        InstancePaths paths = new InstancePaths(layout.instanceDir(instance.id()));
        boolean pooler = source.equals("pooler");
        java.nio.file.Path file = pooler ? paths.pgbouncerDir().resolve("pgbouncer.log") : paths.logFile();
        List<String> lines;
        if (level == null) {
            lines = ServerLog.tail(file, tail);
        } else if (pooler) {
            lines = ServerLog.poolerAtLeast(ServerLog.tail(file, tail * 20), level);
        } else {
            lines = ServerLog.atLeast(ServerLog.tail(file, tail * 20), level);
        }
        if (lines.size() > tail) {
            lines = lines.subList(lines.size() - tail, lines.size());
        }
        return new ServerLogView(instance.id(), instance.nodeName(), file.toString(), lines);
    }

    @GetMapping("/{databaseId}/connection")
    public ConnectionView connection(
            @RequestAttribute(Caller.ATTRIBUTE) Caller caller,
            @PathVariable String databaseId,
            @RequestParam(required = false) String user,
            @RequestParam(defaultValue = "false") boolean reveal) {
        DatabaseRow db = find(caller, databaseId);
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
        Map<String, String> addresses = new java.util.HashMap<>();
        for (InstanceRow i : instances.byDatabase(db.uuid())) {
            String address = addresses.computeIfAbsent(i.hostId(), hostCalls::advertiseHost);
            ConnectionUrls urls =
                    new ConnectionUrls(address, db.spec().databaseName(), username, reveal ? password : null);
            result.add(new ConnectionInstance(
                    i.id(),
                    i.nodeName(),
                    i.state().label(),
                    address,
                    i.port(),
                    i.poolerPort(),
                    username,
                    db.spec().databaseName(),
                    urls.libpq(i.port()),
                    i.poolerPort() == null ? null : urls.libpq(i.poolerPort()),
                    urls.jdbc(i.port(), false),
                    i.poolerPort() == null ? null : urls.jdbc(i.poolerPort(), true)));
        }
        return new ConnectionView(
                db.id(),
                result,
                ConnectionUrls.nodes(result, db.spec().databaseName(), username, reveal ? password : null));
    }

    /**
     * Superuser power only from an admin key (DESIGN.md §7): an operator's spec that asks for it anew is
     * a 403 naming each attribute and role, before anything is checked or stored.
     */
    private void refuseSuperuserPowers(Caller caller, DatabaseSpec current, DatabaseSpec desired) {
        if (caller.isAdmin() || desired == null) {
            return;
        }
        String version = desired.postgresVersion() != null
                ? desired.postgresVersion()
                : current != null ? current.postgresVersion() : distribution.defaultVersion();
        List<FieldError> asked = SuperuserPowers.askedFor(current, desired, SuperuserPowers.major(version));
        if (!asked.isEmpty()) {
            String summary = asked.size() == 1
                    ? asked.get(0).field() + ": " + asked.get(0).message()
                    : asked.size() + " fields ask for superuser power, which only an admin key may grant; see errors";
            throw new PgfleetException(ErrorCode.FORBIDDEN, summary, asked, null);
        }
    }

    private DatabaseRow find(Caller caller, String databaseId) {
        return databases
                .find(caller.tenant(), databaseId)
                .orElseThrow(() -> PgfleetException.notFound("database " + databaseId));
    }
}
