package io.pgfleet.cli;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** A plain text table: upper-case headers, columns two spaces apart, "-" for nothing. */
final class Table {
    private final List<String> headers;
    private final List<String[]> rows = new ArrayList<>();

    Table(String... headers) {
        this.headers = List.of(headers);
    }

    Table row(String... cells) {
        if (cells.length != headers.size()) {
            throw new IllegalArgumentException(cells.length + " cells for " + headers.size() + " columns");
        }
        rows.add(Arrays.stream(cells).map(Json::orDash).toArray(String[]::new));
        return this;
    }

    boolean isEmpty() {
        return rows.isEmpty();
    }

    void print(PrintStream out) {
        int[] widths = new int[headers.size()];
        for (int c = 0; c < widths.length; c++) {
            widths[c] = headers.get(c).length();
            for (String[] row : rows) {
                widths[c] = Math.max(widths[c], visible(row[c]));
            }
        }
        out.println(line(headers.toArray(String[]::new), widths));
        for (String[] row : rows) {
            out.println(line(row, widths));
        }
    }

    private static String line(String[] cells, int[] widths) {
        StringBuilder sb = new StringBuilder();
        for (int c = 0; c < cells.length; c++) {
            sb.append(cells[c]);
            if (c < cells.length - 1) {
                sb.append(" ".repeat(widths[c] - visible(cells[c]) + 2));
            }
        }
        return sb.toString();
    }

    /** Width on screen: color codes (ESC [ digits and ; m) take none. Not a regex: one less class to load. */
    static int visible(String cell) {
        int width = 0;
        for (int i = 0; i < cell.length(); i++) {
            int end = colorCodeEnd(cell, i);
            if (end > i) {
                i = end - 1;
            } else {
                width++;
            }
        }
        return width;
    }

    /** The index after the color code starting at {@code i}, or {@code i} when none starts there. */
    private static int colorCodeEnd(String s, int i) {
        if (s.charAt(i) != '\u001b' || i + 1 >= s.length() || s.charAt(i + 1) != '[') {
            return i;
        }
        int j = i + 2;
        while (j < s.length() && (s.charAt(j) >= '0' && s.charAt(j) <= '9' || s.charAt(j) == ';')) {
            j++;
        }
        return j < s.length() && s.charAt(j) == 'm' ? j + 1 : i;
    }
}
