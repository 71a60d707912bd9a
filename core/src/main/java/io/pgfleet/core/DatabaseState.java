package io.pgfleet.core;

import java.util.Collection;
import java.util.Locale;

/** A database's state, derived from its instances (DESIGN.md §3); never stored on its own. */
public enum DatabaseState {
    CREATING,
    AVAILABLE,
    DEGRADED,
    STOPPED,
    MODIFYING,
    DELETING,
    FAILED,
    SUSPENDED;

    public static DatabaseState derive(Collection<InstanceState> instances, boolean suspended) {
        if (suspended) {
            return SUSPENDED;
        }
        if (instances.isEmpty()) {
            return DELETING;
        }
        if (instances.contains(InstanceState.DELETING)) {
            return DELETING;
        }
        if (instances.contains(InstanceState.CREATING)) {
            return CREATING;
        }
        if (instances.stream().allMatch(s -> s == InstanceState.AVAILABLE)) {
            return AVAILABLE;
        }
        if (instances.stream().allMatch(s -> s == InstanceState.STOPPED)) {
            return STOPPED;
        }
        if (instances.stream().allMatch(s -> s == InstanceState.FAILED || s == InstanceState.ERROR)) {
            return FAILED;
        }
        if (instances.contains(InstanceState.MODIFYING)) {
            return MODIFYING;
        }
        return DEGRADED;
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static DatabaseState fromLabel(String label) {
        try {
            return valueOf(label.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw PgfleetException.badParameter(
                    "state",
                    "'" + label + "' is not a database state; use one of "
                            + java.util.Arrays.stream(values())
                                    .map(DatabaseState::label)
                                    .toList());
        }
    }
}
