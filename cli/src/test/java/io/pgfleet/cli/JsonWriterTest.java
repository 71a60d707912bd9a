package io.pgfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/** The CLI writes JSON byte for byte as Jackson's mapper does, compact and pretty. */
class JsonWriterTest {
    private static final List<String> SAMPLES = List.of(
            "{\"databases\": [{\"id\": \"x\", \"state\": \"available\", \"labels\": {},"
                    + " \"instances\": [{\"node_name\": \"n1\", \"port\": 5433, \"pending_restart\": false},"
                    + " {\"node_name\": \"n2\", \"port\": null}]}], \"next_cursor\": null, \"total\": 1}",
            "[]",
            "{}",
            "[[], {}, [[1]], [{\"a\": []}]]",
            "[1, -1, 0, 2147483648, 9223372036854775808, 0.5, -1.25e3, 1E-7, 3e2, 1e300, 123.456]",
            "\"\\\"q\\\" \\\\ / \\b\\f\\n\\r\\t \\u0001\\u001f\\u007f \\u00e9\\u20ac \\ud83d\\ude00 \\u2028\"",
            "{\"a\": {\"b\": [true, false, null, {\"c\": {\"d\": {}}}]}, \"e\": \"\"}");

    @Test
    void writesAsJacksonWrites() {
        for (String json : SAMPLES) {
            JsonNode node = Json.mapper().readTree(json);
            assertThat(JsonWriter.compact(node))
                    .as(json)
                    .isEqualTo(Json.mapper().writeValueAsString(node));
            assertThat(JsonWriter.pretty(node))
                    .as(json)
                    .isEqualTo(Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(node));
            Object plain = JsonReader.read(json);
            assertThat(JsonWriter.pretty(plain)).as(json).isEqualTo(JsonWriter.pretty(node));
        }
    }

    @Test
    void writesTheTreesCommandsBuild() {
        ObjectNode body =
                Json.mapper().createObjectNode().put("name", "x").put("n", 3).put("f", 1.5f);
        body.putArray("list").add("a").add(2L).add(true);
        body.putObject("o").putNull("z");
        assertThat(JsonWriter.compact(body)).isEqualTo(Json.mapper().writeValueAsString(body));
        assertThat(JsonWriter.pretty(body))
                .isEqualTo(Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(body));
    }
}
