package io.pgfleet.server.api;

import io.pgfleet.core.CreateDatabaseRequest;
import io.pgfleet.core.DatabaseSpec;
import io.pgfleet.core.FieldError;
import io.pgfleet.core.NodeSpec;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.core.UpdateDatabaseRequest;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.springframework.boot.jackson.autoconfigure.JsonMapperBuilderCustomizer;
import org.springframework.core.MethodParameter;
import org.springframework.http.HttpInputMessage;
import org.springframework.http.converter.HttpMessageConverter;
import org.springframework.web.bind.annotation.ControllerAdvice;
import org.springframework.web.servlet.mvc.method.annotation.RequestBodyAdviceAdapter;
import tools.jackson.core.JsonParser;
import tools.jackson.databind.DeserializationContext;
import tools.jackson.databind.ValueDeserializer;
import tools.jackson.databind.deser.DeserializationProblemHandler;

/**
 * pgEdge Control Plane's spec fields that mean nothing in pgfleet: a request naming one gets a 422
 * saying why, not "unknown field", so a pgEdge user knows to drop it rather than fix its spelling.
 */
@ControllerAdvice
public class PgEdgeFields extends RequestBodyAdviceAdapter implements JsonMapperBuilderCustomizer {
    // The fields found while one request body is read, so a 422 lists them all (the reading thread's own).
    private static final ThreadLocal<List<FieldError>> FOUND = new ThreadLocal<>();

    private static final String BACKUPS = "backups (pgBackRest) are not supported by pgfleet yet; remove it";
    private static final String HBA = "pgfleet writes pg_hba.conf itself (scram-sha-256 for the spec's users);"
            + " custom rules are not supported yet; remove it";
    private static final String PATRONI = "pgfleet runs no Patroni: it supervises Postgres itself; remove it";
    private static final String ORCHESTRATOR =
            "pgfleet runs Postgres as host processes, not through Docker Swarm or another orchestrator; remove it";

    static final Map<String, String> SPEC = Map.of(
            "spock_version",
            "pgfleet runs PostgreSQL without Spock: its nodes are not replicated with one another; remove it",
            "patroni_port",
            PATRONI,
            "orchestrator_opts",
            ORCHESTRATOR,
            "backup_config",
            BACKUPS,
            "restore_config",
            BACKUPS,
            "services",
            "pgfleet runs no services (MCP, PostgREST, RAG) beside databases; remove it",
            "scripts",
            "is not supported yet: run the SQL once the create task has completed; remove it",
            "pg_hba_conf",
            HBA,
            "pg_ident_conf",
            HBA);

    static final Map<String, String> NODE = Map.of(
            "patroni_port", PATRONI,
            "orchestrator_opts", ORCHESTRATOR,
            "backup_config", BACKUPS,
            "restore_config", BACKUPS,
            "pg_hba_conf", HBA);

    static final Map<String, String> REQUEST = Map.of(
            "tenant_id",
            "the tenant is the API key's (an admin key chooses another with the X-Pgfleet-Tenant header); remove it");

    @Override
    public void customize(tools.jackson.databind.json.JsonMapper.Builder builder) {
        builder.addHandler(new DeserializationProblemHandler() {
            @Override
            public boolean handleUnknownProperty(
                    DeserializationContext ctxt,
                    JsonParser p,
                    ValueDeserializer<?> deserializer,
                    Object beanOrClass,
                    String propertyName) {
                String why = reason(type(beanOrClass), propertyName);
                if (why == null) {
                    return false; // the usual "is not a known field"
                }
                String field = path(p.streamReadContext().pathAsPointer().toString(), propertyName);
                p.skipChildren();
                List<FieldError> found = FOUND.get();
                if (found == null) {
                    throw PgfleetException.invalidSpec(List.of(new FieldError(field, why)));
                }
                found.add(new FieldError(field, why));
                return true;
            }
        });
    }

    @Override
    public boolean supports(
            MethodParameter parameter, Type targetType, Class<? extends HttpMessageConverter<?>> converterType) {
        return targetType == CreateDatabaseRequest.class || targetType == UpdateDatabaseRequest.class;
    }

    @Override
    public HttpInputMessage beforeBodyRead(
            HttpInputMessage input,
            MethodParameter parameter,
            Type targetType,
            Class<? extends HttpMessageConverter<?>> converterType) {
        FOUND.set(new ArrayList<>());
        return input;
    }

    @Override
    public Object afterBodyRead(
            Object body,
            HttpInputMessage input,
            MethodParameter parameter,
            Type targetType,
            Class<? extends HttpMessageConverter<?>> converterType) {
        List<FieldError> found = FOUND.get();
        FOUND.remove();
        if (found != null && !found.isEmpty()) {
            throw PgfleetException.invalidSpec(found);
        }
        return body;
    }

    @Override
    public Object handleEmptyBody(
            Object body,
            HttpInputMessage input,
            MethodParameter parameter,
            Type targetType,
            Class<? extends HttpMessageConverter<?>> converterType) {
        FOUND.remove();
        return body;
    }

    static String reason(Class<?> type, String property) {
        if (type == DatabaseSpec.class) {
            return SPEC.get(property);
        }
        if (type == NodeSpec.class) {
            return NODE.get(property);
        }
        if (type == CreateDatabaseRequest.class || type == UpdateDatabaseRequest.class) {
            return REQUEST.get(property);
        }
        return null;
    }

    private static Class<?> type(Object beanOrClass) {
        return beanOrClass instanceof Class<?> c ? c : beanOrClass.getClass();
    }

    /** "/spec/nodes/0/patroni_port" → "spec.nodes[0].patroni_port". */
    static String path(String pointer, String property) {
        StringBuilder sb = new StringBuilder();
        for (String part : pointer.split("/")) {
            if (part.isEmpty()) {
                continue;
            }
            if (part.chars().allMatch(Character::isDigit)) {
                sb.append('[').append(part).append(']');
            } else {
                sb.append(sb.isEmpty() ? "" : ".")
                        .append(part.replace("~1", "/").replace("~0", "~"));
            }
        }
        String path = sb.toString();
        return path.endsWith(property) ? path : (path.isEmpty() ? property : path + "." + property);
    }
}
