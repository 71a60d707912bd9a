package io.pgfleet.server.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import org.junit.jupiter.api.Test;

class ConsoleSessionsTest {
    /** A clock the test moves by hand. */
    private static final class Hands extends Clock {
        Instant now = Instant.parse("2026-12-03T10:00:00Z");

        @Override
        public ZoneId getZone() {
            return ZoneId.of("UTC");
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    private final Hands clock = new Hands();
    private final ConsoleSessions sessions = new ConsoleSessions(clock);

    @Test
    void aSessionIsFoundByItsTokenOnlyAndEndsOnLogout() {
        ConsoleSessions.Opened opened = sessions.open("key1");
        assertThat(sessions.find(opened.token()))
                .map(ConsoleSessions.Session::keyId)
                .contains("key1");
        assertThat(sessions.find(opened.token() + "x")).isEmpty();
        assertThat(sessions.find(null)).isEmpty();
        assertThat(sessions.end(opened.token())).isTrue();
        assertThat(sessions.find(opened.token())).isEmpty();
        assertThat(sessions.end(opened.token())).isFalse();
    }

    @Test
    void anIdleSessionExpiresAndABusyOneEndsAfterTwelveHours() {
        ConsoleSessions.Opened idle = sessions.open("key1");
        ConsoleSessions.Opened busy = sessions.open("key1");
        for (int minutes = 0; minutes < 12 * 60 - 20; minutes += 20) {
            clock.now = clock.now.plus(Duration.ofMinutes(20));
            assertThat(sessions.find(busy.token()))
                    .as("after %d minutes", minutes + 20)
                    .isPresent();
        }
        assertThat(sessions.find(idle.token())).isEmpty();
        clock.now = clock.now.plus(Duration.ofMinutes(25));
        assertThat(sessions.find(busy.token())).as("past 12 hours").isEmpty();
    }

    @Test
    void theCsrfTokenMustMatchExactly() {
        ConsoleSessions.Session session = sessions.open("key1").session();
        assertThat(ConsoleSessions.csrfMatches(session, session.csrfToken())).isTrue();
        assertThat(ConsoleSessions.csrfMatches(session, null)).isFalse();
        assertThat(ConsoleSessions.csrfMatches(session, "")).isFalse();
        assertThat(ConsoleSessions.csrfMatches(session, session.csrfToken().substring(1)))
                .isFalse();
        assertThat(ConsoleSessions.csrfMatches(sessions.open("key1").session(), session.csrfToken()))
                .isFalse();
    }
}
