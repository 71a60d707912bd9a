package io.pgfleet.server.api;

import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.server.catalog.CatalogFailures;
import io.pgfleet.server.events.AuditAggregator;
import io.pgfleet.server.events.JdbcAuditRepository;
import io.pgfleet.server.events.JdbcAuditRepository.AuditRow;
import io.pgfleet.server.security.ApiKeys;
import io.pgfleet.server.security.Caller;
import io.pgfleet.server.security.Role;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.MediaType;
import org.springframework.stereotype.Component;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.TransactionStatus;
import org.springframework.transaction.support.DefaultTransactionDefinition;
import org.springframework.web.filter.OncePerRequestFilter;
import org.springframework.web.servlet.HandlerMapping;
import org.springframework.web.util.ContentCachingResponseWrapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * The door of the API. Every {@code /v1} route but {@code GET /v1/health} (and the Prometheus endpoint)
 * needs a key; the role decides what it may do; bodies are limited to 1 MiB. A mutating call runs in
 * one transaction with its audit record, so a change without a record (or the reverse) cannot exist;
 * refused calls (401, 403, 409 …) are recorded too.
 */
@Component
public class ApiFilter extends OncePerRequestFilter {
    private static final Logger log = LoggerFactory.getLogger(ApiFilter.class);
    static final int MAX_BODY_BYTES = 1 << 20;
    private static final Set<String> READS = Set.of("GET", "HEAD", "OPTIONS");
    private static final Pattern REQUEST_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    private final ApiKeys keys;
    private final JdbcAuditRepository audit;
    private final PlatformTransactionManager transactions;
    private final JsonMapper json;
    private final AuditAggregator refusals;
    private final SessionAuthentication sessions;

    public ApiFilter(
            ApiKeys keys,
            JdbcAuditRepository audit,
            PlatformTransactionManager transactions,
            JsonMapper json,
            AuditAggregator refusals,
            SessionAuthentication sessions) {
        this.keys = keys;
        this.sessions = sessions;
        this.audit = audit;
        this.transactions = transactions;
        this.json = json;
        this.refusals = refusals;
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        String path = request.getRequestURI();
        boolean guarded = path.startsWith("/v1/") || path.equals("/actuator/prometheus");
        // The OpenAPI document holds no tenant's data: code generators fetch it without a key.
        boolean open = path.equals("/v1/health") || path.equals("/v1/openapi.json");
        // A host joining the fleet has no key yet: its join token, checked by ClusterController, is its proof.
        boolean joining =
                path.equals("/v1/cluster/join-options") && request.getMethod().equals("POST");
        return !guarded || (open && READS.contains(request.getMethod())) || joining;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest raw, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        try {
            filter(raw, response, chain);
        } catch (RuntimeException e) {
            // The key check, the audit and the transaction all need the catalog: while it is down (the
            // watchdog restarts it) the caller gets a 503 to retry, not a 500.
            if (!CatalogFailures.isUnavailable(e) || response.isCommitted()) {
                throw e;
            }
            log.warn(
                    "request {} {}: the catalog is unavailable: {}",
                    raw.getMethod(),
                    raw.getRequestURI(),
                    e.getMessage());
            response.resetBuffer();
            response.setHeader("Retry-After", "1");
            writeProblem(
                    raw,
                    response,
                    503,
                    ErrorCode.CATALOG_UNAVAILABLE.code(),
                    "the catalog is unavailable (pgfleet is restarting it); retry in a moment");
        }
    }

    private void filter(HttpServletRequest raw, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String requestId = requestId(raw);
        response.setHeader("X-Request-Id", requestId);
        boolean mutating = !READS.contains(raw.getMethod());
        HttpServletRequest request = raw;
        if (mutating) {
            byte[] body = readAtMost(raw, MAX_BODY_BYTES);
            if (body == null) {
                refuse(raw, response, null, requestId, 413, "payload_too_large", "the request body exceeds 1 MiB");
                return;
            }
            request = new CachedBodyRequest(raw, body);
        }
        Caller caller;
        try {
            // The web console's session cookie gives the same Caller as the key it was opened with.
            caller = sessions.appliesTo(raw)
                    ? sessions.authenticate(raw, mutating)
                    : keys.authenticate(raw.getHeader("Authorization"), raw.getHeader("X-Pgfleet-Tenant"));
        } catch (PgfleetException e) {
            if (e.code() == ErrorCode.UNAUTHORIZED) {
                response.setHeader("WWW-Authenticate", "Bearer");
            }
            refuse(
                    request,
                    response,
                    null,
                    requestId,
                    e.code().httpStatus(),
                    e.code().code(),
                    e.getMessage());
            return;
        }
        String denied = denied(caller, raw.getMethod(), raw.getRequestURI());
        if (denied != null) {
            refuse(request, response, caller, requestId, 403, ErrorCode.FORBIDDEN.code(), denied);
            return;
        }
        request.setAttribute(Caller.ATTRIBUTE, caller);
        if (!mutating) {
            chain.doFilter(request, response);
            return;
        }
        runAudited(request, response, chain, caller, requestId);
    }

    /** What the role may not do here, or null. Checked on the path, so no controller can forget it. */
    static String denied(Caller caller, String method, String path) {
        Role role = caller.role();
        if (path.equals("/v1/session")) {
            return null; // every role may open and end its own console session
        }
        if ((path.startsWith("/v1/tenants") || path.startsWith("/v1/cluster/") || path.equals("/actuator/prometheus"))
                && role != Role.ADMIN) {
            return "only admin keys may use " + path;
        }
        if ((path.startsWith("/v1/api-keys") || path.startsWith("/v1/audit")) && role == Role.VIEWER) {
            return "viewer keys may not use " + path;
        }
        if (!READS.contains(method) && role == Role.VIEWER) {
            return "viewer keys are read-only; " + method + " " + path + " needs an operator or admin key";
        }
        return null;
    }

    private void runAudited(
            HttpServletRequest request,
            HttpServletResponse response,
            FilterChain chain,
            Caller caller,
            String requestId)
            throws IOException, ServletException {
        ContentCachingResponseWrapper wrapped = new ContentCachingResponseWrapper(response);
        TransactionStatus tx = transactions.getTransaction(new DefaultTransactionDefinition());
        try {
            chain.doFilter(request, wrapped);
        } catch (IOException | ServletException | RuntimeException e) {
            transactions.rollback(tx);
            throw e;
        }
        int status = wrapped.getStatus();
        try {
            if (status < 400 && !tx.isRollbackOnly()) {
                audit.insert(record(request, caller, requestId, status, null));
                transactions.commit(tx);
            } else {
                transactions.rollback(tx);
                inNewTransaction(record(request, caller, requestId, status, null));
            }
        } catch (RuntimeException e) {
            if (!tx.isCompleted()) {
                transactions.rollback(tx);
            }
            // No change may stand without its record: undo and say so.
            if (CatalogFailures.isUnavailable(e)) {
                throw e; // rolled back; answered 503 catalog_unavailable by doFilterInternal
            }
            log.error("request {}: the audit record could not be written; the change was rolled back", requestId, e);
            wrapped.resetBuffer();
            writeProblem(
                    request,
                    response,
                    503,
                    "audit_unavailable",
                    "the audit record could not be written, so nothing was changed; retry");
            return;
        }
        wrapped.copyBodyToResponse();
    }

    private void refuse(
            HttpServletRequest request,
            HttpServletResponse response,
            Caller caller,
            String requestId,
            int status,
            String code,
            String detail)
            throws IOException {
        if (status == 401 || status == 403) {
            // Counted per caller and minute, written in the background: a flood of refusals costs no write.
            refusals.refused(record(request, caller, requestId, status, detail));
            writeProblem(request, response, status, code, detail);
            return;
        }
        try {
            inNewTransaction(record(request, caller, requestId, status, detail));
        } catch (RuntimeException e) {
            if (CatalogFailures.isUnavailable(e)) {
                throw e; // answered 503 catalog_unavailable by doFilterInternal
            }
            log.error("request {}: the audit record of a refused call could not be written", requestId, e);
            writeProblem(request, response, 503, "audit_unavailable", "the audit record could not be written; retry");
            return;
        }
        writeProblem(request, response, status, code, detail);
    }

    private void inNewTransaction(AuditRow row) {
        DefaultTransactionDefinition definition = new DefaultTransactionDefinition();
        definition.setPropagationBehavior(TransactionDefinition.PROPAGATION_REQUIRES_NEW);
        TransactionStatus tx = transactions.getTransaction(definition);
        try {
            audit.insert(row);
        } catch (RuntimeException e) {
            transactions.rollback(tx);
            throw e;
        }
        transactions.commit(tx);
    }

    private static AuditRow record(
            HttpServletRequest request, Caller caller, String requestId, int status, String detail) {
        Object pattern = request.getAttribute(HandlerMapping.BEST_MATCHING_PATTERN_ATTRIBUTE);
        String path = request.getRequestURI();
        String action = request.getMethod() + " " + (pattern == null ? path : pattern);
        return new AuditRow(
                0,
                null,
                caller == null ? null : caller.keyId(),
                caller == null ? null : caller.tenant(),
                request.getMethod(),
                abbreviate(path, 512),
                abbreviate(action, 512),
                abbreviate(path, 512),
                outcome(status),
                status,
                requestId,
                request.getRemoteAddr(),
                detail == null ? null : abbreviate(detail, 1024));
    }

    static String outcome(int status) {
        if (status < 400) {
            return "succeeded";
        }
        return switch (status) {
            case 401 -> "unauthenticated";
            case 403 -> "forbidden";
            case 404 -> "not_found";
            case 409 -> "conflict";
            default -> status >= 500 ? "error" : "rejected";
        };
    }

    private void writeProblem(
            HttpServletRequest request, HttpServletResponse response, int status, String code, String detail)
            throws IOException {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("type", "about:blank");
        body.put("title", org.springframework.http.HttpStatus.valueOf(status).getReasonPhrase());
        body.put("status", status);
        body.put("detail", detail);
        body.put("instance", request.getRequestURI());
        body.put("code", code);
        body.put("name", code); // pgEdge Control Plane's error members
        body.put("message", detail);
        response.setStatus(status);
        response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
        response.getOutputStream().write(json.writeValueAsBytes(body));
    }

    private static String requestId(HttpServletRequest request) {
        String given = request.getHeader("X-Request-Id");
        return given != null && REQUEST_ID.matcher(given).matches()
                ? given
                : UUID.randomUUID().toString();
    }

    /** The whole body, or null when it is longer than {@code max} bytes (declared or actual). */
    private static byte[] readAtMost(HttpServletRequest request, int max) throws IOException {
        if (request.getContentLengthLong() > max) {
            return null;
        }
        try (InputStream in = request.getInputStream()) {
            byte[] body = in.readNBytes(max + 1);
            return body.length > max ? null : body;
        }
    }

    private static String abbreviate(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max) + "…";
    }

    /** A request whose body was read (and measured) already. */
    private static final class CachedBodyRequest extends HttpServletRequestWrapper {
        private final byte[] body;

        CachedBodyRequest(HttpServletRequest request, byte[] body) {
            super(request);
            this.body = body;
        }

        @Override
        public ServletInputStream getInputStream() {
            ByteArrayInputStream in = new ByteArrayInputStream(body);
            return new ServletInputStream() {
                @Override
                public boolean isFinished() {
                    return in.available() == 0;
                }

                @Override
                public boolean isReady() {
                    return true;
                }

                @Override
                public void setReadListener(ReadListener listener) {
                    throw new UnsupportedOperationException("the body was read already; no async reads");
                }

                @Override
                public int read() {
                    return in.read();
                }

                @Override
                public int read(byte[] b, int off, int len) {
                    return in.read(b, off, len);
                }
            };
        }

        @Override
        public BufferedReader getReader() {
            return new BufferedReader(new InputStreamReader(getInputStream(), StandardCharsets.UTF_8));
        }

        @Override
        public int getContentLength() {
            return body.length;
        }

        @Override
        public long getContentLengthLong() {
            return body.length;
        }
    }
}
