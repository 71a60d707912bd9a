package io.pgfleet.server.api;

import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.http.HttpStatus;
import tools.jackson.databind.json.JsonMapper;

/**
 * The RFC 9457 body of a problem, for the places that answer before Spring MVC does (filters, the
 * Tomcat error valve): the same members as {@link ProblemHandler}'s, pgEdge's {@code name} and
 * {@code message} included.
 */
final class ProblemBodies {
    static final String CONTENT_TYPE = "application/problem+json";
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private ProblemBodies() {}

    static byte[] of(int status, String code, String detail, String instance) {
        HttpStatus known = HttpStatus.resolve(status);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("type", "about:blank");
        body.put("title", known == null ? "Error" : known.getReasonPhrase());
        body.put("status", status);
        body.put("detail", detail);
        if (instance != null) {
            body.put("instance", printable(instance, 256));
        }
        body.put("code", code);
        body.put("name", code);
        body.put("message", detail);
        return JSON.writeValueAsBytes(body);
    }

    /** The code of a status when nothing more specific is known. */
    static String codeOf(int status) {
        return switch (status) {
            case 400 -> "bad_request";
            case 401 -> "unauthorized";
            case 403 -> "forbidden";
            case 404 -> "not_found";
            case 405 -> "method_not_allowed";
            case 406 -> "not_acceptable";
            case 413 -> "payload_too_large";
            case 414 -> "uri_too_long";
            case 415 -> "unsupported_media_type";
            case 431 -> "headers_too_large";
            case 503 -> "unavailable";
            default -> status >= 500 ? "internal" : "bad_request";
        };
    }

    /** {@code text} cut to {@code max} characters with control characters shown as {@code \\uXXXX}. */
    static String printable(String text, int max) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < text.length() && sb.length() < max; i++) {
            char c = text.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.length() >= max && text.length() > max ? sb + "…" : sb.toString();
    }
}
