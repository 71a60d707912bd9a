package io.pgfleet.core;

import java.util.Locale;

/** Lifecycle of an instance. {@link #canMoveTo} is the whole table of DESIGN.md §3. */
public enum InstanceState {
    CREATING,
    AVAILABLE,
    STOPPING,
    STOPPED,
    STARTING,
    RESTARTING,
    MODIFYING,
    FAILED,
    ERROR,
    UNKNOWN,
    DELETING;

    public boolean canMoveTo(InstanceState next) {
        return switch (this) { // exhaustive: a new state breaks the build here
            case CREATING -> next == AVAILABLE || next == FAILED || next == ERROR || next == DELETING;
            case AVAILABLE ->
                next == STOPPING
                        || next == RESTARTING
                        || next == MODIFYING
                        || next == DELETING
                        || next == FAILED
                        || next == UNKNOWN;
            case MODIFYING -> next == AVAILABLE || next == STOPPED || next == RESTARTING || next == ERROR;
            case STOPPING -> next == STOPPED || next == ERROR;
            case STOPPED -> next == STARTING || next == MODIFYING || next == DELETING || next == UNKNOWN;
            case STARTING, RESTARTING -> next == AVAILABLE || next == ERROR || next == FAILED;
            case FAILED, ERROR ->
                next == STARTING || next == RESTARTING || next == STOPPING || next == DELETING || next == AVAILABLE;
            case UNKNOWN -> next == AVAILABLE || next == STOPPED || next == FAILED || next == ERROR || next == DELETING;
            case DELETING -> next == ERROR;
        };
    }

    /** Throws a 409 naming both states when the table forbids the move. */
    public void validateTransition(InstanceState next, String subject) {
        if (!canMoveTo(next)) {
            throw new PgfleetException(
                    ErrorCode.INVALID_STATE, subject + " is " + label() + " and cannot become " + next.label());
        }
    }

    /** Stable: no operation is under way, so a new one may begin. */
    public boolean isStable() {
        return this == AVAILABLE || this == STOPPED || this == FAILED || this == ERROR;
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static InstanceState fromLabel(String label) {
        return valueOf(label.toUpperCase(Locale.ROOT));
    }
}
