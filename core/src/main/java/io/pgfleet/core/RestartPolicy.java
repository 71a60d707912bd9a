package io.pgfleet.core;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** What pgfleet does when an instance's Postgres dies ({@code spec.restart_policy}). */
public enum RestartPolicy {
    /** Restart it, with a backoff, until {@link HealPolicy} gives up. The default. */
    ALWAYS,
    /** Leave it {@code failed} until a person starts it. */
    NEVER;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The policy a spec's value names; absent means {@link #ALWAYS}. */
    public static Optional<RestartPolicy> fromLabel(String label) {
        if (label == null) {
            return Optional.of(ALWAYS);
        }
        return Arrays.stream(values()).filter(p -> p.label().equals(label)).findFirst();
    }

    public static List<String> labels() {
        return Arrays.stream(values()).map(RestartPolicy::label).toList();
    }
}
