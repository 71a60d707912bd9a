package io.pgfleet.cli;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/** Reading the API's JSON for tables: absent and null read as null, never as the word "null". */
final class Json {
    private Json() {}

    /**
     * Jackson's mapper, for reading a spec file (its messages say where the JSON breaks): reading answers
     * ({@link JsonReader}) and writing JSON ({@link JsonWriter}) do without its cost and its classes.
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

    /** The API's JSON, indented for a person or a script to read (as Jackson's pretty printer does). */
    static String pretty(JsonNode node) {
        return JsonWriter.pretty(node);
    }

    /** An empty object to build a request body in. */
    static ObjectNode object() {
        return JsonNodeFactory.instance.objectNode();
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
