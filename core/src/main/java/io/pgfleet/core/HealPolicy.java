package io.pgfleet.core;

import java.time.Duration;

/**
 * The heal decision for a {@code failed} instance: restart it after a backoff (initial × 2^streak, at
 * most {@code backoffMax}), or give up after {@code maxFailures} automatic restarts within the window
 * that did not keep it running. Pure: the health monitor supplies the facts and acts on the outcome.
 */
public record HealPolicy(Duration backoffInitial, Duration backoffMax, int maxFailures, Duration window) {

    /** What to do about one failed instance. */
    public sealed interface Decision permits Leave, GiveUp, RestartAfter {}

    /** Nothing now: the policy is never, the database is suspended, pgfleet gave up, or a task is on it. */
    public record Leave(String why) implements Decision {}

    /** Stop trying: {@code attempts} restarts in the window did not keep it up. */
    public record GiveUp(int attempts) implements Decision {}

    /** Schedule automatic restart number {@code attempt} after {@code backoff}. */
    public record RestartAfter(int attempt, Duration backoff) implements Decision {}

    /** The facts the decision needs about one failed instance. */
    public record Facts(
            RestartPolicy policy, boolean suspended, boolean gaveUpAlready, boolean taskActive, int healStreak) {}

    public HealPolicy {
        if (maxFailures <= 0) {
            throw new IllegalArgumentException("maxFailures must be positive, not " + maxFailures);
        }
    }

    public Decision decide(Facts facts) {
        if (facts.policy() != RestartPolicy.ALWAYS) {
            return new Leave("restart_policy " + facts.policy().label());
        }
        if (facts.suspended()) {
            return new Leave("the database is suspended");
        }
        if (facts.gaveUpAlready()) {
            return new Leave("pgfleet gave up on it; a person starts it");
        }
        if (facts.taskActive()) {
            return new Leave("a task is working on it");
        }
        if (facts.healStreak() >= maxFailures) {
            return new GiveUp(facts.healStreak());
        }
        return new RestartAfter(facts.healStreak() + 1, backoff(facts.healStreak()));
    }

    /** The wait before automatic restart number {@code streak + 1}: initial × 2^streak, at most the max. */
    public Duration backoff(int streak) {
        long factor = 1L << Math.min(streak, 30);
        Duration wait = backoffInitial.multipliedBy(factor);
        return wait.compareTo(backoffMax) > 0 || wait.isNegative() ? backoffMax : wait;
    }
}
