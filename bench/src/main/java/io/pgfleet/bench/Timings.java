package io.pgfleet.bench;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/** Durations measured per operation for one side of the comparison (pgfleet or raw). */
final class Timings {
    private final Map<Operation, List<Long>> nanos = new EnumMap<>(Operation.class);

    void add(Operation operation, long elapsedNanos) {
        nanos.computeIfAbsent(operation, o -> new ArrayList<>()).add(elapsedNanos);
    }

    /**
     * Nearest-rank percentile in milliseconds: the smallest sample with at least {@code percent}% of
     * the samples at or below it. With 5 samples p95 is the slowest one; no interpolation invents values.
     */
    double percentileMillis(Operation operation, double percent) {
        List<Long> sorted = new ArrayList<>(nanos.getOrDefault(operation, List.of()));
        if (sorted.isEmpty()) {
            return Double.NaN;
        }
        sorted.sort(null);
        int rank = (int) Math.ceil(percent / 100.0 * sorted.size());
        return sorted.get(Math.max(0, rank - 1)) / 1_000_000.0;
    }
}
