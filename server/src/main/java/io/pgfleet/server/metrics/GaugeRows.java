package io.pgfleet.server.metrics;

import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The rows of one {@link MultiGauge} whose figures are read on a timer. Registering the rows again with
 * new values ({@code register(rows, true)}) removes each gauge before adding it back, so a scrape in
 * between misses it; here the gauges read the latest figures from a map instead, rows are only added
 * and removed, and a scrape always sees every row.
 */
final class GaugeRows {
    private final MultiGauge gauge;
    private final Map<Tags, Double> latest = new ConcurrentHashMap<>();

    GaugeRows(MultiGauge gauge) {
        this.gauge = gauge;
    }

    /** The figures of this round: values replaced in place, rows gone removed, new ones added. */
    void publish(Map<Tags, ? extends Number> figures) {
        figures.forEach((tags, value) -> latest.put(tags, value.doubleValue()));
        latest.keySet().retainAll(figures.keySet());
        List<MultiGauge.Row<?>> rows = new ArrayList<>();
        for (Tags tags : figures.keySet()) {
            rows.add(MultiGauge.Row.of(tags, latest, m -> m.getOrDefault(tags, Double.NaN)));
        }
        gauge.register(rows, false);
    }
}
