package io.pgfleet.server.config;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.unit.DataSize;

/**
 * The settings of self-healing ({@code pgfleet.*}, beside {@link PgfleetProperties}); the README's
 * configuration table lists them.
 *
 * @param healthInterval how often the health monitor looks at every instance that should run (its
 *     postmaster alive, its files there): a crash is noticed within it
 * @param probeInterval how often, at most, a running instance is also asked to answer on its port (each
 *     probe makes Postgres fork a backend, so it is rarer than the liveness check)
 * @param healBackoffInitial the wait before the first automatic restart; each further one doubles it
 * @param healBackoffMax the longest wait between two automatic restarts
 * @param healMaxFailures how many automatic restarts within {@code healWindow} before giving up
 * @param healWindow the window over which automatic restarts are counted
 * @param logMaxSize a server or pooler log larger than this is rotated (one previous file is kept)
 * @param catalogWatchdogInterval how often the embedded catalog's postmaster is checked
 * @param catalogConnectionTimeout how long a request waits for a catalog connection before a 503
 * @param testPauseAtStep test only: step names ({@code StartPostgres}, or {@code DATABASE_ID/StartPostgres}
 *     for one database), comma separated; a worker sleeps right after finishing such a step, so a test
 *     can kill pgfleet at that point of a workflow
 */
@ConfigurationProperties("pgfleet")
public record HealingProperties(
        Duration healthInterval,
        Duration probeInterval,
        Duration healBackoffInitial,
        Duration healBackoffMax,
        int healMaxFailures,
        Duration healWindow,
        DataSize logMaxSize,
        Duration catalogWatchdogInterval,
        Duration catalogConnectionTimeout,
        String testPauseAtStep) {

    public HealingProperties {
        healthInterval = healthInterval == null ? Duration.ofSeconds(1) : healthInterval;
        probeInterval = probeInterval == null ? Duration.ofSeconds(5) : probeInterval;
        healBackoffInitial = healBackoffInitial == null ? Duration.ofSeconds(1) : healBackoffInitial;
        healBackoffMax = healBackoffMax == null ? Duration.ofSeconds(60) : healBackoffMax;
        healMaxFailures = healMaxFailures <= 0 ? 5 : healMaxFailures;
        healWindow = healWindow == null ? Duration.ofMinutes(10) : healWindow;
        logMaxSize = logMaxSize == null ? DataSize.ofMegabytes(10) : logMaxSize;
        catalogWatchdogInterval = catalogWatchdogInterval == null ? Duration.ofSeconds(1) : catalogWatchdogInterval;
        catalogConnectionTimeout = catalogConnectionTimeout == null ? Duration.ofSeconds(5) : catalogConnectionTimeout;
        testPauseAtStep = testPauseAtStep == null || testPauseAtStep.isBlank() ? null : testPauseAtStep;
    }

    /** The heal decision these settings make (backoff, give up): a core value. */
    public io.pgfleet.core.HealPolicy healPolicy() {
        return new io.pgfleet.core.HealPolicy(healBackoffInitial, healBackoffMax, healMaxFailures, healWindow);
    }

    /** The wait before automatic restart number {@code attempt + 1}: initial × 2^attempt, at most the max. */
    public Duration backoff(int attempt) {
        return healPolicy().backoff(attempt);
    }
}
