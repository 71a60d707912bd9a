package io.pgfleet.core;

import java.util.Locale;

/** Status of an asynchronous task. */
public enum TaskStatus {
    PENDING,
    SCHEDULED,
    RUNNING,
    COMPLETED,
    FAILED,
    CANCELED;

    /** Waiting or working: it still holds (or will take) the database's or instance's update slot. */
    public boolean isActive() {
        return this == PENDING || this == SCHEDULED || this == RUNNING;
    }

    public boolean isFinished() {
        return !isActive();
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static TaskStatus fromLabel(String label) {
        return valueOf(label.toUpperCase(Locale.ROOT));
    }
}
