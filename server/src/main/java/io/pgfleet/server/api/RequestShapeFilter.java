package io.pgfleet.server.api;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.InvalidMediaTypeException;
import org.springframework.http.MediaType;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Refuses, with a 400 problem before anything else looks at it, the request shapes Tomcat and Spring
 * would otherwise turn into a 500: a query string with broken percent-encoding or invalid UTF-8, a
 * control character (NUL …) in a query parameter, a body whose Content-Type is not JSON (a wildcard,
 * multipart, a form).
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 20)
public class RequestShapeFilter extends OncePerRequestFilter {
    private static final Set<String> BODY_METHODS = Set.of("POST", "PUT", "PATCH", "DELETE");

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String problem = queryProblem(request.getQueryString());
        if (problem == null && BODY_METHODS.contains(request.getMethod())) {
            problem = contentTypeProblem(request.getContentType());
        }
        if (problem != null) {
            response.setStatus(400);
            response.setContentType(ProblemBodies.CONTENT_TYPE);
            response.getOutputStream().write(ProblemBodies.of(400, "bad_request", problem, request.getRequestURI()));
            return;
        }
        chain.doFilter(request, response);
    }

    /** What is wrong with a raw query string, or null. */
    static String queryProblem(String query) {
        if (query == null || query.isEmpty()) {
            return null;
        }
        for (String pair : query.split("&", -1)) {
            int eq = pair.indexOf('=');
            String rawName = eq < 0 ? pair : pair.substring(0, eq);
            String name;
            String value;
            try {
                name = decode(rawName);
                value = eq < 0 ? "" : decode(pair.substring(eq + 1));
            } catch (IllegalArgumentException e) {
                return "query string: '" + ProblemBodies.printable(pair, 64) + "' is not valid percent-encoded UTF-8 ("
                        + e.getMessage() + ")";
            }
            if (hasControlCharacter(name) || hasControlCharacter(value)) {
                return "query parameter '" + ProblemBodies.printable(name, 64)
                        + "' contains a control character (such as NUL); remove it";
            }
        }
        return null;
    }

    /** Strict application/x-www-form-urlencoded decoding: every % needs two hex digits, the bytes UTF-8. */
    static String decode(String raw) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '%') {
                if (i + 2 >= raw.length()) {
                    throw new IllegalArgumentException("'%' needs two hex digits");
                }
                int high = Character.digit(raw.charAt(i + 1), 16);
                int low = Character.digit(raw.charAt(i + 2), 16);
                if (high < 0 || low < 0) {
                    throw new IllegalArgumentException("'%' needs two hex digits");
                }
                bytes.write(high * 16 + low);
                i += 2;
            } else if (c == '+') {
                bytes.write(' ');
            } else {
                byte[] encoded = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                bytes.write(encoded, 0, encoded.length);
            }
        }
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes.toByteArray()))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("the bytes are not UTF-8");
        }
    }

    private static boolean hasControlCharacter(String s) {
        return s.chars().anyMatch(c -> c < 0x20 || c == 0x7f);
    }

    /** What is wrong with the Content-Type of a body sent to the API, or null (JSON, or none at all). */
    static String contentTypeProblem(String contentType) {
        if (contentType == null || contentType.isBlank()) {
            return null;
        }
        MediaType type;
        try {
            type = MediaType.parseMediaType(contentType);
        } catch (InvalidMediaTypeException e) {
            return "Content-Type '" + ProblemBodies.printable(contentType, 64)
                    + "' cannot be read; send application/json";
        }
        boolean json = !type.isWildcardType()
                && !type.isWildcardSubtype()
                && (MediaType.APPLICATION_JSON.isCompatibleWith(type)
                        || (type.getType().equals("application")
                                && type.getSubtype().endsWith("+json")));
        return json
                ? null
                : "Content-Type '" + ProblemBodies.printable(contentType, 64)
                        + "' is not supported; the API takes application/json";
    }
}
