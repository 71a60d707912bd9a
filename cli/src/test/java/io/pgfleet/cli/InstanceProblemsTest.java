package io.pgfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** What {@code pgfleet db get} puts in an instance's ERROR column. */
class InstanceProblemsTest {
    private static JsonNode instance(String json) {
        return Json.mapper().readTree(json);
    }

    @Test
    void aWritableInstanceShowsOnlyItsError() {
        assertThat(DbCommand.problems(instance("{\"error\": null, \"storage\": {\"writable\": true}}")))
                .isNull();
        assertThat(DbCommand.problems(instance("{\"error\": \"boom\"}"))).isEqualTo("boom");
    }

    @Test
    void aFullDiskIsShownBesideTheError() {
        String storage = "\"storage\": {\"writable\": false, \"problem\": \"no_space\","
                + " \"message\": \"no space left on device\", \"directory\": \"/var/lib/pgfleet/instances/i/data\"}";
        assertThat(DbCommand.problems(instance("{\"error\": null, " + storage + "}")))
                .isEqualTo("storage: no space left on device (/var/lib/pgfleet/instances/i/data)");
        assertThat(DbCommand.problems(instance("{\"error\": \"the postmaster is not running\", " + storage + "}")))
                .isEqualTo("the postmaster is not running; storage: no space left on device"
                        + " (/var/lib/pgfleet/instances/i/data)");
    }
}
