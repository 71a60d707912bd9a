package io.pgfleet.server.api;

import io.pgfleet.core.PgfleetException;
import io.pgfleet.server.events.AuditAggregator;
import io.pgfleet.server.events.EventStream;
import io.pgfleet.server.events.JdbcAuditRepository;
import io.pgfleet.server.events.JdbcAuditRepository.AuditRow;
import io.pgfleet.server.events.JdbcEventRepository;
import io.pgfleet.server.events.JdbcEventRepository.EventFilter;
import io.pgfleet.server.events.JdbcEventRepository.EventRow;
import io.pgfleet.server.security.Caller;
import java.util.List;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestAttribute;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

/** What happened ({@code /v1/events}, live as server-sent events) and who did what ({@code /v1/audit}). */
@RestController
public class EventController {
    private final JdbcEventRepository events;
    private final JdbcAuditRepository audit;
    private final EventStream stream;
    private final AuditAggregator refusals;

    public EventController(
            JdbcEventRepository events, JdbcAuditRepository audit, EventStream stream, AuditAggregator refusals) {
        this.events = events;
        this.audit = audit;
        this.stream = stream;
        this.refusals = refusals;
    }

    public record EventList(List<EventRow> events, String nextCursor, long total) {}

    public record AuditList(List<AuditRow> audit, String nextCursor, long total) {}

    @GetMapping("/v1/events")
    public EventList list(
            @RequestAttribute(Caller.ATTRIBUTE) Caller caller,
            @RequestParam(name = "database_id", required = false) String databaseId,
            @RequestParam(name = "instance_id", required = false) String instanceId,
            @RequestParam(required = false) String type,
            @RequestParam(name = "after_id", required = false) Long afterId,
            @RequestParam(required = false) String cursor,
            @RequestParam(defaultValue = "50") int limit) {
        checkLimit(limit);
        EventFilter filter = new EventFilter(caller.tenant(), databaseId, instanceId, type);
        long after =
                cursor != null ? number("cursor", Cursors.decode("cursor", cursor)) : afterId == null ? 0 : afterId;
        List<EventRow> rows = events.list(filter, after, limit + 1);
        boolean more = rows.size() > limit;
        List<EventRow> page = more ? rows.subList(0, limit) : rows;
        return new EventList(
                page,
                more ? Cursors.encode(Long.toString(page.get(page.size() - 1).eventId())) : null,
                events.count(filter));
    }

    @GetMapping(path = "/v1/events/stream", produces = MediaType.TEXT_EVENT_STREAM_VALUE)
    public SseEmitter stream(
            @RequestAttribute(Caller.ATTRIBUTE) Caller caller,
            @RequestHeader(name = "Last-Event-ID", required = false) String lastEventId,
            @RequestParam(name = "database_id", required = false) String databaseId,
            @RequestParam(name = "instance_id", required = false) String instanceId,
            @RequestParam(required = false) String type,
            @RequestParam(name = "after_id", required = false) Long afterId) {
        long after = lastEventId != null
                ? number("Last-Event-ID", lastEventId)
                : afterId != null ? afterId : latestId(caller);
        return stream.subscribe(new EventFilter(caller.tenant(), databaseId, instanceId, type), after);
    }

    @GetMapping("/v1/audit")
    public AuditList audit(
            @RequestAttribute(Caller.ATTRIBUTE) Caller caller,
            @RequestParam(required = false) String cursor,
            @RequestParam(defaultValue = "50") int limit) {
        checkLimit(limit);
        // Refusals counted in memory are written first, so the audit shows every call up to this one.
        refusals.flush();
        String tenant = caller.isAdmin() ? null : caller.tenant();
        Long before = cursor == null ? null : number("cursor", Cursors.decode("cursor", cursor));
        List<AuditRow> rows = audit.list(tenant, before, limit + 1);
        boolean more = rows.size() > limit;
        List<AuditRow> page = more ? rows.subList(0, limit) : rows;
        return new AuditList(
                page,
                more ? Cursors.encode(Long.toString(page.get(page.size() - 1).auditId())) : null,
                audit.count(tenant));
    }

    /** A new stream without a cursor starts now: it shows what happens from here on. */
    private long latestId(Caller caller) {
        return events.latestId(caller.tenant());
    }

    private static void checkLimit(int limit) {
        if (limit < 1 || limit > 500) {
            throw PgfleetException.badParameter("limit", limit + " is outside 1-500");
        }
    }

    private static long number(String parameter, String value) {
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw PgfleetException.badParameter(parameter, "'" + value + "' is not an event id");
        }
    }
}
