package io.pgfleet.bench;

import java.util.Locale;

/** The lifecycle steps one cycle times, in the order a cycle runs them. */
enum Operation {
    CREATE,
    STOP,
    START,
    RESTART,
    DELETE;

    String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
