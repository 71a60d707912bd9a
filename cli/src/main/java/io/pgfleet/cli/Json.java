package io.pgfleet.cli;

import tools.jackson.databind.JsonNode;

/** Reading the API's JSON for tables: absent and null read as null, never as the word "null". */
final class Json {
    private Json() {}

    static String text(JsonNode node, String field) {
        JsonNode value = node == null ? null : node.get(field);
        return value == null || value.isNull() || value.isMissingNode() ? null : value.asString();
    }

    static String orDash(String value) {
        return value == null || value.isEmpty() ? "-" : value;
    }

    /** The API's JSON, indented for a person or a script to read. */
    static String pretty(JsonNode node) {
        return ApiClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node);
    }

    /** A timestamp as the API gives it, cut to the second: 2026-01-31T02:00:00Z. */
    static String time(String iso) {
        if (iso == null) {
            return "-";
        }
        int dot = iso.indexOf('.');
        return dot > 0 && iso.endsWith("Z") ? iso.substring(0, dot) + "Z" : iso;
    }
}
