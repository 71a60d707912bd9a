package io.pgfleet.server.security;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The web console's sessions: an API key exchanged once for a random token that travels only in an
 * HttpOnly cookie, plus a CSRF token the page sends back in a header on every change. Sessions live
 * in this process's memory, keyed by a SHA-256 of the token (so a heap dump holds no usable cookie):
 * a restart of pgfleet logs everyone out, and a session works on the host that opened it.
 */
@org.springframework.stereotype.Component
public final class ConsoleSessions {
    /** Idle time after which a session ends; every request slides it. */
    public static final Duration IDLE = Duration.ofMinutes(30);
    /** Longest life of a session, however busy. */
    public static final Duration MAX_AGE = Duration.ofHours(12);

    private static final int MAX_SESSIONS = 10_000;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Map<String, Session> sessions = new ConcurrentHashMap<>();
    private final Clock clock;

    /** One open session; {@code keyId} is re-checked on every request. */
    public record Session(String keyId, String csrfToken, Instant createdAt, Instant expiresAt) {}

    /** A session just opened: the only moment its token exists outside the browser's cookie jar. */
    public record Opened(String token, Session session) {}

    public ConsoleSessions() {
        this(Clock.systemUTC());
    }

    public ConsoleSessions(Clock clock) {
        this.clock = clock;
    }

    public Opened open(String keyId) {
        Instant now = clock.instant();
        if (sessions.size() >= MAX_SESSIONS) {
            sessions.values().removeIf(s -> !isAlive(s, now));
        }
        if (sessions.size() >= MAX_SESSIONS) {
            throw new IllegalStateException(MAX_SESSIONS + " console sessions are open; none could be added");
        }
        String token = randomToken();
        Session session = new Session(keyId, randomToken(), now, expiry(now, now));
        sessions.put(digest(token), session);
        return new Opened(token, session);
    }

    /** The live session of {@code token}, its idle expiry moved on; empty when unknown or expired. */
    public Optional<Session> find(String token) {
        if (token == null || token.isEmpty()) {
            return Optional.empty();
        }
        String id = digest(token);
        Instant now = clock.instant();
        Session found = sessions.computeIfPresent(
                id,
                (k, s) -> isAlive(s, now)
                        ? new Session(s.keyId(), s.csrfToken(), s.createdAt(), expiry(s.createdAt(), now))
                        : null);
        return Optional.ofNullable(found);
    }

    /** Ends the session of {@code token}; true when there was one. */
    public boolean end(String token) {
        return token != null && sessions.remove(digest(token)) != null;
    }

    /** Whether {@code presented} is the session's CSRF token, compared in constant time. */
    public static boolean csrfMatches(Session session, String presented) {
        return presented != null
                && MessageDigest.isEqual(
                        session.csrfToken().getBytes(StandardCharsets.US_ASCII),
                        presented.getBytes(StandardCharsets.US_ASCII));
    }

    private static boolean isAlive(Session s, Instant now) {
        return now.isBefore(s.expiresAt());
    }

    private static Instant expiry(Instant created, Instant now) {
        Instant idle = now.plus(IDLE);
        Instant max = created.plus(MAX_AGE);
        return idle.isBefore(max) ? idle : max;
    }

    private static String randomToken() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private static String digest(String token) {
        return Base64.getEncoder().encodeToString(ApiKeys.hash(token));
    }
}
