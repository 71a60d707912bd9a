package io.pgfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** What {@code pgfleet db get} puts in an instance's LAG column. */
class InstanceLagTest {
    @Test
    void aStreamingReplicaShowsBytesAndSecondsAndAPrimaryNothing() {
        assertThat(DbCommand.lag(Json.mapper()
                        .readTree("{\"role\": \"replica\", \"replication\": {\"state\":"
                                + " \"streaming\", \"lag_bytes\": 1024, \"lag_seconds\": 0.25}}")))
                .isEqualTo("1024 B, 0.3 s");
        assertThat(DbCommand.lag(Json.mapper()
                        .readTree("{\"role\": \"replica\", \"replication\": {\"state\":"
                                + " \"catchup\", \"lag_bytes\": 0, \"lag_seconds\": 0.0}}")))
                .isEqualTo("0 B, 0.0 s (catchup)");
        assertThat(DbCommand.lag(Json.mapper().readTree("{\"role\": \"replica\"}")))
                .isEqualTo("not streaming");
        assertThat(DbCommand.lag(Json.mapper().readTree("{\"role\": \"primary\"}")))
                .isNull();
    }
}
