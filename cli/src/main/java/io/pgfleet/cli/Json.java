package io.pgfleet.cli;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/** Reading the API's JSON for tables: absent and null read as null, never as the word "null". */
final class Json {
    private Json() {}

    /**
     * Jackson's mapper, built on first use (writing a request, printing {@code -o json}): building it
     * costs a cold start about 40 ms, which reading an answer ({@link JsonReader}) does without.
     */
    static ObjectMapper mapper() {
        return Mapper.INSTANCE;
    }

    private static final class Mapper {
        static final ObjectMapper INSTANCE = JsonMapper.builder().build();
    }

    static String text(JsonNode node, String field) {
        JsonNode value = node == null ? null : node.get(field);
        return value == null || value.isNull() || value.isMissingNode() ? null : value.asString();
    }

    static String orDash(String value) {
        return value == null || value.isEmpty() ? "-" : value;
    }

    /** The API's JSON, indented for a person or a script to read. */
    static String pretty(JsonNode node) {
        return mapper().writerWithDefaultPrettyPrinter().writeValueAsString(node);
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
