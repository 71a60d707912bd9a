package io.pgfleet.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * Writes JSON as Jackson's mapper writes it, compact (request bodies, one event per line) or with its
 * default pretty printer ({@code -o json}), without building the mapper: its classes, hundreds of them,
 * would otherwise sit in the client's AOT cache, and a JVM started with the cache loads every class in it.
 * JsonWriterTest holds the output to Jackson's, byte for byte.
 */
final class JsonWriter {
    private JsonWriter() {}

    /** Compact JSON of a tree or of {@link JsonReader}'s plain values. */
    static String compact(Object value) {
        StringBuilder out = new StringBuilder();
        write(out, plain(value), -1);
        return out.toString();
    }

    /** As Jackson's default pretty printer: objects one field a line, two spaces a level; arrays on a line. */
    static String pretty(Object value) {
        StringBuilder out = new StringBuilder();
        write(out, plain(value), 0);
        return out.toString();
    }

    /** {@code level} -1 writes compact; else the number of objects around the value, for the indent. */
    private static void write(StringBuilder out, Object value, int level) {
        boolean pretty = level >= 0;
        if (value instanceof Map<?, ?> map) {
            if (map.isEmpty()) {
                out.append(pretty ? "{ }" : "{}");
                return;
            }
            out.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : map.entrySet()) {
                out.append(first ? "" : ",");
                first = false;
                if (pretty) {
                    out.append('\n').append("  ".repeat(level + 1));
                }
                string(out, (String) e.getKey());
                out.append(pretty ? " : " : ":");
                write(out, e.getValue(), pretty ? level + 1 : -1);
            }
            if (pretty) {
                out.append('\n').append("  ".repeat(level));
            }
            out.append('}');
        } else if (value instanceof List<?> list) {
            if (list.isEmpty()) {
                out.append(pretty ? "[ ]" : "[]");
                return;
            }
            out.append(pretty ? "[ " : "[");
            for (int i = 0; i < list.size(); i++) {
                out.append(i == 0 ? "" : pretty ? ", " : ",");
                write(out, list.get(i), level);
            }
            out.append(pretty ? " ]" : "]");
        } else if (value instanceof String s) {
            string(out, s);
        } else {
            out.append(value); // numbers, booleans and null as Java prints them, as Jackson does
        }
    }

    private static void string(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04X", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    /** Jackson's tree as plain values (numbers keep their Java type, so they print as Jackson prints them). */
    private static Object plain(Object value) {
        if (!(value instanceof JsonNode node)) {
            return value;
        }
        if (node.isObject()) {
            Map<String, Object> map = new LinkedHashMap<>();
            node.properties().forEach(e -> map.put(e.getKey(), plain(e.getValue())));
            return map;
        } else if (node.isArray()) {
            List<Object> list = new ArrayList<>();
            node.forEach(e -> list.add(plain(e)));
            return list;
        } else if (node.isString()) {
            return node.asString();
        } else if (node.isNumber()) {
            return node.numberValue();
        } else if (node.isBoolean()) {
            return node.booleanValue();
        } else if (node.isNull() || node.isMissingNode()) {
            return null;
        }
        throw new IllegalArgumentException("cannot write a " + node.getNodeType() + " node as JSON");
    }
}
