package io.pgfleet.server.api;

import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.server.security.ApiKeys;
import io.pgfleet.server.security.Caller;
import io.pgfleet.server.security.ConsoleSessions;
import io.pgfleet.server.security.ConsoleSessions.Session;
import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import java.net.URI;
import org.springframework.stereotype.Component;

/**
 * Turns a console session cookie into the same {@link Caller} its API key gives. A change made with a
 * session must also carry the session's CSRF token in {@value #CSRF_HEADER} (a header another site's
 * page cannot set without a CORS preflight pgfleet never grants) and, when the browser sends an
 * {@code Origin}, come from this server's own origin. The cookie is SameSite=Strict besides.
 */
@Component
public class SessionAuthentication {
    public static final String COOKIE = "pgfleet_session";
    public static final String CSRF_HEADER = "X-CSRF-Token";
    static final String SESSION_ATTRIBUTE = "pgfleet.session";

    private final ConsoleSessions sessions;
    private final ApiKeys keys;

    public SessionAuthentication(ConsoleSessions sessions, ApiKeys keys) {
        this.sessions = sessions;
        this.keys = keys;
    }

    /** A request with a session cookie and no {@code Authorization} header: a key always wins. */
    public boolean appliesTo(HttpServletRequest request) {
        return request.getHeader("Authorization") == null && token(request) != null;
    }

    public Caller authenticate(HttpServletRequest request, boolean mutating) {
        Session session = sessions.find(token(request))
                .orElseThrow(() -> new PgfleetException(
                        ErrorCode.UNAUTHORIZED, "the console session has expired or ended; log in again"));
        if (mutating) {
            String origin = request.getHeader("Origin");
            if (origin != null && !isSameOrigin(origin, request.getHeader("Host"))) {
                throw new PgfleetException(
                        ErrorCode.FORBIDDEN, "a console session may only make changes from this server's own pages");
            }
            if (!ConsoleSessions.csrfMatches(session, request.getHeader(CSRF_HEADER))) {
                throw new PgfleetException(
                        ErrorCode.FORBIDDEN,
                        "a change made with a console session needs its " + CSRF_HEADER + " header; reload the page");
            }
        }
        request.setAttribute(SESSION_ATTRIBUTE, session);
        return keys.authenticateKeyId(session.keyId(), request.getHeader("X-Pgfleet-Tenant"));
    }

    static String token(HttpServletRequest request) {
        Cookie[] cookies = request.getCookies();
        if (cookies == null) {
            return null;
        }
        for (Cookie cookie : cookies) {
            if (cookie.getName().equals(COOKIE) && !cookie.getValue().isEmpty()) {
                return cookie.getValue();
            }
        }
        return null;
    }

    private static boolean isSameOrigin(String origin, String host) {
        if (host == null) {
            return false;
        }
        try {
            URI uri = URI.create(origin);
            String authority = uri.getRawAuthority();
            return authority != null && authority.equalsIgnoreCase(host);
        } catch (IllegalArgumentException e) {
            return false; // "null" or garbage: not our origin
        }
    }
}
