package io.pgfleet.core;

import java.util.Locale;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * pgEdge's {@code memory}: an amount in SI or IEC notation ("16GiB", "500M", "512Mi", "2G", or bytes),
 * as Kubernetes writes quantities.
 */
public final class MemorySize {
    private static final Pattern QUANTITY =
            Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(|k|K|M|G|T|Ki|Mi|Gi|Ti|KB|MB|GB|TB|KiB|MiB|GiB|TiB)");

    private MemorySize() {}

    /** The amount in bytes, or empty when it is not a quantity. */
    public static java.util.OptionalLong bytes(String text) {
        if (text == null) {
            return java.util.OptionalLong.empty();
        }
        Matcher m = QUANTITY.matcher(text.strip());
        if (!m.matches()) {
            return java.util.OptionalLong.empty();
        }
        double amount = Double.parseDouble(m.group(1));
        String unit = m.group(2);
        double factor = switch (unit.toUpperCase(Locale.ROOT).replace("B", "")) {
            case "" -> 1;
            case "K" -> 1e3;
            case "M" -> 1e6;
            case "G" -> 1e9;
            case "T" -> 1e12;
            case "KI" -> 1024.0;
            case "MI" -> 1024.0 * 1024;
            case "GI" -> 1024.0 * 1024 * 1024;
            case "TI" -> 1024.0 * 1024 * 1024 * 1024;
            default -> -1;
        };
        double bytes = amount * factor;
        if (factor < 0 || bytes > Long.MAX_VALUE / 2) {
            return java.util.OptionalLong.empty();
        }
        return java.util.OptionalLong.of((long) bytes);
    }

    /** The amount in whole MiB (what {@code memory_mb} means), or empty when it is not a quantity. */
    public static OptionalInt megabytes(String text) {
        var bytes = bytes(text);
        if (bytes.isEmpty() || bytes.getAsLong() / (1024 * 1024) > Integer.MAX_VALUE) {
            return OptionalInt.empty();
        }
        return OptionalInt.of((int) (bytes.getAsLong() / (1024 * 1024)));
    }
}
