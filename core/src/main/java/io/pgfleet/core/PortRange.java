package io.pgfleet.core;

import java.util.Optional;
import java.util.Set;
import java.util.function.IntPredicate;

/** The ports a host hands out when a spec leaves the port open (DESIGN.md §4, Ports). */
public record PortRange(int first, int last) {
    public static final int MIN_PORT = 1024;
    public static final int MAX_PORT = 65535;

    public PortRange {
        if (first < MIN_PORT || last > MAX_PORT || first > last) {
            throw PgfleetException.invalid(
                    "port_range", first + "-" + last + " is not a range within " + MIN_PORT + "-" + MAX_PORT);
        }
    }

    /** Parses {@code 5433-5999}. */
    public static PortRange parse(String text) {
        String[] parts = text.trim().split("-");
        try {
            if (parts.length == 2) {
                return new PortRange(Integer.parseInt(parts[0].trim()), Integer.parseInt(parts[1].trim()));
            }
        } catch (NumberFormatException e) {
            throw PgfleetException.invalid("port_range", "'" + text + "' is not FIRST-LAST, e.g. 5433-5999");
        }
        throw PgfleetException.invalid("port_range", "'" + text + "' is not FIRST-LAST, e.g. 5433-5999");
    }

    public boolean contains(int port) {
        return port >= first && port <= last;
    }

    /**
     * The first port of the range that no reservation holds and that {@code isFree} (a bind test on
     * the host) accepts; empty when the range is exhausted.
     */
    public Optional<Integer> firstFree(Set<Integer> reserved, IntPredicate isFree) {
        for (int port = first; port <= last; port++) {
            if (!reserved.contains(port) && isFree.test(port)) {
                return Optional.of(port);
            }
        }
        return Optional.empty();
    }

    @Override
    public String toString() {
        return first + "-" + last;
    }
}
