package io.pgfleet.core;

import java.util.Locale;

/** What a task does; database-wide types exclude every other task of their database (DESIGN.md §4). */
public enum TaskType {
    CREATE(true),
    UPDATE(true),
    DELETE(true),
    STOP_INSTANCE(false),
    START_INSTANCE(false),
    RESTART_INSTANCE(false),
    /** A restart of a failed instance by its restart policy (spec.restart_policy = always). */
    HEAL_INSTANCE(false),
    SUSPEND(true),
    UNSUSPEND(true),
    /** A planned move of a node's primary role to one of its replicas (DESIGN.md §5b). */
    SWITCHOVER(true),
    /** A promotion of a replica because the node's primary is lost (automatic, or forced by a person). */
    FAILOVER(true);

    private final boolean databaseWide;

    TaskType(boolean databaseWide) {
        this.databaseWide = databaseWide;
    }

    public boolean isDatabaseWide() {
        return databaseWide;
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static TaskType fromLabel(String label) {
        return valueOf(label.toUpperCase(Locale.ROOT));
    }
}
