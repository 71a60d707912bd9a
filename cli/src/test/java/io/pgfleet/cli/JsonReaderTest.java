package io.pgfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The CLI's own JSON reading gives what Jackson's readTree gives, and refuses what it refuses. */
class JsonReaderTest {

    @Test
    void readsAsJacksonReadsTree() {
        for (String json : List.of(
                "{\"databases\": [{\"id\": \"x\", \"state\": \"available\", \"labels\": {\"a\": \"b\"},"
                        + " \"instances\": [{\"node_name\": \"n1\", \"port\": 5433, \"pending_restart\": false}]}],"
                        + " \"next_cursor\": null, \"total\": 1}",
                "[]",
                "{}",
                " [1, -1, 0, 2147483647, 2147483648, -2147483649, 9223372036854775807, 9223372036854775808,"
                        + " 123456789012345678901234567890, 0.5, -1.25e3, 1E-7, 3e2]\n",
                "\"\\\"quoted\\\" \\\\ \\/ \\b\\f\\n\\r\\t \\u00e9\\u20ac \\ud83d\\ude00 é\"",
                "{\"a\": {\"b\": [true, false, null, {\"c\": []}]}, \"a2\": 1}",
                "{\"dup\": 1, \"dup\": 2}",
                "\t{ \"s\" : \"\" }\r\n")) {
            assertThat(JsonReader.toNode(JsonReader.read(json)))
                    .as(json)
                    .isEqualTo(Json.mapper().readTree(json));
        }
    }

    @Test
    void refusesWhatIsNotJson() {
        for (String bad : List.of(
                "",
                "<html>",
                "{",
                "[1,]",
                "{\"a\" 1}",
                "{\"a\": 1,}",
                "01",
                "1.",
                "-",
                "\"open",
                "tru",
                "{} x",
                "\"\\x\"",
                "\"\\u12\"",
                "\"a\nb\"",
                "[1 2]",
                "nul")) {
            assertThatThrownBy(() -> JsonReader.read(bad)).as(bad).isInstanceOf(JsonReader.InvalidJson.class);
        }
    }

    @Test
    void fieldsReadAsTheTablesNeedThem() {
        Object db = JsonReader.read("{\"id\": \"x\", \"port\": 5433, \"none\": null, \"labels\": {\"a\": \"b\"},"
                + " \"instances\": [{\"node_name\": \"n1\"}], \"ok\": true}");
        assertThat(JsonReader.text(db, "id")).isEqualTo("x");
        assertThat(JsonReader.text(db, "port")).isEqualTo("5433");
        assertThat(JsonReader.text(db, "ok")).isEqualTo("true");
        assertThat(JsonReader.text(db, "none")).isNull();
        assertThat(JsonReader.text(db, "absent")).isNull();
        assertThat(JsonReader.text(db, "labels")).isNull();
        assertThat(JsonReader.object(db, "labels")).isEqualTo(Map.of("a", "b"));
        assertThat(JsonReader.object(db, "id")).isEmpty();
        assertThat(JsonReader.array(db, "instances")).hasSize(1);
        assertThat(JsonReader.array(db, "absent")).isEmpty();
        assertThat(JsonReader.array("not an object", "instances")).isEmpty();
    }

    @Test
    void aTableMeasuresCellsWithoutTheirColorCodes() {
        assertThat(Table.visible("available")).isEqualTo(9);
        assertThat(Table.visible("\u001b[32mavailable\u001b[0m")).isEqualTo(9);
        assertThat(Table.visible("\u001b[2;31mx\u001b[0m")).isEqualTo(1);
        assertThat(Table.visible("\u001b[x")).isEqualTo(3);
        assertThat(Table.visible("")).isZero();
    }
}
