package io.pgfleet.server.api;

import io.pgfleet.core.PgfleetException;
import io.pgfleet.server.security.Caller;
import io.pgfleet.server.security.ConsoleSessions;
import io.pgfleet.server.security.ConsoleSessions.Session;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.time.Duration;
import java.time.Instant;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseCookie;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestAttribute;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code /v1/session}: the web console logs in by sending its API key once ({@code POST} with
 * {@code Authorization: Bearer}); the answer sets an HttpOnly, SameSite=Strict cookie and gives the
 * page the CSRF token to send with changes. {@code DELETE} ends the session on the server.
 */
@RestController
public class SessionController {
    private final ConsoleSessions sessions;

    public SessionController(ConsoleSessions sessions) {
        this.sessions = sessions;
    }

    /** Who the session (or key) is; {@code csrf_token} is null for a call made with a key. */
    public record SessionView(
            String keyId, String role, String tenant, String tenantId, String csrfToken, Instant expiresAt) {
        static SessionView of(Caller caller, Session session) {
            return new SessionView(
                    caller.keyId(),
                    caller.role().label(),
                    caller.tenantName(),
                    caller.tenant(),
                    session == null ? null : session.csrfToken(),
                    session == null ? null : session.expiresAt());
        }
    }

    @PostMapping("/v1/session")
    @ResponseStatus(HttpStatus.CREATED)
    public SessionView login(
            @RequestAttribute(Caller.ATTRIBUTE) Caller caller,
            HttpServletRequest request,
            HttpServletResponse response) {
        if (request.getHeader("Authorization") == null) {
            throw PgfleetException.badParameter(
                    "Authorization", "a console session is opened with Authorization: Bearer <api key>");
        }
        ConsoleSessions.Opened opened = sessions.open(caller.keyId());
        response.addHeader(
                HttpHeaders.SET_COOKIE,
                cookie(opened.token(), ConsoleSessions.MAX_AGE, request.isSecure())
                        .toString());
        return SessionView.of(caller, opened.session());
    }

    @GetMapping("/v1/session")
    public SessionView current(@RequestAttribute(Caller.ATTRIBUTE) Caller caller, HttpServletRequest request) {
        return SessionView.of(caller, (Session) request.getAttribute(SessionAuthentication.SESSION_ATTRIBUTE));
    }

    @DeleteMapping("/v1/session")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    public void logout(HttpServletRequest request, HttpServletResponse response) {
        sessions.end(SessionAuthentication.token(request));
        response.addHeader(
                HttpHeaders.SET_COOKIE,
                cookie("", Duration.ZERO, request.isSecure()).toString());
    }

    private static ResponseCookie cookie(String value, Duration maxAge, boolean secure) {
        return ResponseCookie.from(SessionAuthentication.COOKIE, value)
                .httpOnly(true)
                .sameSite("Strict")
                .secure(secure)
                .path("/")
                .maxAge(maxAge)
                .build();
    }
}
