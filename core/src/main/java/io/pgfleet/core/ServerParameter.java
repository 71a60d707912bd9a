package io.pgfleet.core;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * One row of a server's {@code pg_settings}: what a {@code postgresql_conf} value is checked against.
 * {@link #check} mirrors PostgreSQL's own parsing (units, bounds, enum values, booleans), so a bad
 * value is refused before any file changes instead of leaving a server that will not start.
 */
public record ServerParameter(
        String name, String context, String vartype, String unit, String minVal, String maxVal, List<String> enumvals) {

    public ServerParameter {
        enumvals = enumvals == null ? List.of() : List.copyOf(enumvals);
    }

    /** A change takes effect only after a restart of the postmaster. */
    public boolean needsRestart() {
        return "postmaster".equals(context);
    }

    /** The server computes it or fixes it at initdb; no configuration file can change it. */
    public boolean isReadOnly() {
        return "internal".equals(context);
    }

    private static final Map<String, Double> MEMORY_UNITS = Map.of(
            "B", 1.0, "kB", 1024.0, "MB", 1024.0 * 1024, "GB", 1024.0 * 1024 * 1024, "TB", 1024.0 * 1024 * 1024 * 1024);
    private static final Map<String, Double> TIME_UNITS =
            Map.of("us", 0.001, "ms", 1.0, "s", 1000.0, "min", 60_000.0, "h", 3_600_000.0, "d", 86_400_000.0);
    private static final List<String> TRUE_WORDS = List.of("on", "true", "yes", "1");
    private static final List<String> FALSE_WORDS = List.of("off", "false", "no", "0");

    /** Empty when {@code value} is acceptable, else why not, naming what is accepted. */
    public Optional<String> check(String value) {
        if (isReadOnly()) {
            return Optional.of("is fixed by the server (context internal) and cannot be set");
        }
        switch (vartype) {
            case "bool":
                return parseBool(value).isPresent()
                        ? Optional.empty()
                        : Optional.of("'" + value + "' is not a boolean; use on or off");
            case "enum":
                return enumvals.stream().anyMatch(v -> v.equalsIgnoreCase(value.trim()))
                        ? Optional.empty()
                        : Optional.of("'" + value + "' is not one of " + enumvals);
            case "integer":
            case "real":
                return checkNumber(value);
            default:
                return Optional.empty();
        }
    }

    /**
     * The value in a form two spellings of one setting share ({@code 8MB} and {@code 8192kB}), for
     * comparing a desired value with what the server reports in {@code pg_settings.setting}.
     */
    public String canonical(String value) {
        switch (vartype) {
            case "bool":
                return parseBool(value).map(b -> b ? "on" : "off").orElse(value);
            case "enum":
                return value.trim().toLowerCase(Locale.ROOT);
            case "integer":
            case "real":
                Optional<Double> n = inBaseUnit(value);
                if (n.isEmpty()) {
                    return value;
                }
                double v = "integer".equals(vartype) ? Math.rint(n.get()) : n.get();
                return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
            default:
                return value;
        }
    }

    private Optional<String> checkNumber(String value) {
        Optional<Double> n = inBaseUnit(value);
        if (n.isEmpty()) {
            return Optional.of("'" + value + "' is not a valid " + vartype + describeUnits());
        }
        double v = "integer".equals(vartype) ? Math.rint(n.get()) : n.get();
        double min = parseBound(minVal, Double.NEGATIVE_INFINITY);
        double max = parseBound(maxVal, Double.POSITIVE_INFINITY);
        if (v < min || v > max) {
            String u = unit == null || unit.isEmpty() ? "" : " (in units of " + unit + ")";
            return Optional.of("'" + value + "' is outside " + minVal + "-" + maxVal + u);
        }
        return Optional.empty();
    }

    private String describeUnits() {
        if (unit == null || unit.isEmpty()) {
            return "";
        }
        return MEMORY_UNITS.containsKey(stripMultiplier(unit))
                ? "; give a number of " + unit + " or a size such as 64MB"
                : "; give a number of " + unit + " or a duration such as 30s";
    }

    /** The number in the setting's own unit (pg_settings.unit), or empty when it does not parse. */
    Optional<Double> inBaseUnit(String value) {
        String text = value.trim();
        int i = 0;
        while (i < text.length() && "+-0123456789.eE".indexOf(text.charAt(i)) >= 0) {
            // an 'e' only belongs to the number when a digit or sign follows (so "1min" is not parsed as 1e…)
            char c = text.charAt(i);
            if ((c == 'e' || c == 'E') && (i + 1 >= text.length() || "+-0123456789".indexOf(text.charAt(i + 1)) < 0)) {
                break;
            }
            i++;
        }
        double number;
        try {
            number = Double.parseDouble(text.substring(0, i));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
        if (Double.isNaN(number) || Double.isInfinite(number)) {
            return Optional.empty();
        }
        String given = text.substring(i).trim();
        if (given.isEmpty()) {
            return Optional.of(number);
        }
        if (unit == null || unit.isEmpty()) {
            return Optional.empty();
        }
        String baseUnit = stripMultiplier(unit);
        double multiplier = unitMultiplier(unit);
        Map<String, Double> family = MEMORY_UNITS.containsKey(baseUnit) ? MEMORY_UNITS : TIME_UNITS;
        Double givenFactor = family.get(given);
        Double baseFactor = family.get(baseUnit);
        if (givenFactor == null || baseFactor == null) {
            return Optional.empty();
        }
        return Optional.of(number * givenFactor / (baseFactor * multiplier));
    }

    private static String stripMultiplier(String unit) {
        int i = 0;
        while (i < unit.length() && Character.isDigit(unit.charAt(i))) {
            i++;
        }
        return unit.substring(i);
    }

    private static double unitMultiplier(String unit) {
        int i = 0;
        while (i < unit.length() && Character.isDigit(unit.charAt(i))) {
            i++;
        }
        return i == 0 ? 1 : Double.parseDouble(unit.substring(0, i));
    }

    private static double parseBound(String bound, double fallback) {
        if (bound == null || bound.isEmpty()) {
            return fallback;
        }
        try {
            return Double.parseDouble(bound);
        } catch (NumberFormatException e) {
            return fallback;
        }
    }

    private static Optional<Boolean> parseBool(String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        if (TRUE_WORDS.contains(v)) {
            return Optional.of(true);
        }
        if (FALSE_WORDS.contains(v)) {
            return Optional.of(false);
        }
        return Optional.empty();
    }
}
