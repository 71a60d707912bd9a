package io.pgfleet.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class HealPolicyTest {
    private final HealPolicy policy =
            new HealPolicy(Duration.ofSeconds(1), Duration.ofSeconds(60), 5, Duration.ofMinutes(10));

    private HealPolicy.Decision decide(
            RestartPolicy restart, boolean suspended, boolean gaveUp, boolean busy, int streak) {
        return policy.decide(new HealPolicy.Facts(restart, suspended, gaveUp, busy, streak));
    }

    @Test
    void theFirstRestartComesAfterTheInitialBackoffAndEachFurtherOneDoubles() {
        assertThat(decide(RestartPolicy.ALWAYS, false, false, false, 0))
                .isEqualTo(new HealPolicy.RestartAfter(1, Duration.ofSeconds(1)));
        assertThat(decide(RestartPolicy.ALWAYS, false, false, false, 1))
                .isEqualTo(new HealPolicy.RestartAfter(2, Duration.ofSeconds(2)));
        assertThat(decide(RestartPolicy.ALWAYS, false, false, false, 4))
                .isEqualTo(new HealPolicy.RestartAfter(5, Duration.ofSeconds(16)));
    }

    @Test
    void theBackoffStopsAtItsMaximumAndNeverOverflows() {
        assertThat(policy.backoff(6)).isEqualTo(Duration.ofSeconds(60));
        assertThat(policy.backoff(1000)).isEqualTo(Duration.ofSeconds(60));
    }

    @Test
    void afterMaxFailuresInTheWindowItGivesUp() {
        assertThat(decide(RestartPolicy.ALWAYS, false, false, false, 5)).isEqualTo(new HealPolicy.GiveUp(5));
        assertThat(decide(RestartPolicy.ALWAYS, false, false, false, 9)).isEqualTo(new HealPolicy.GiveUp(9));
    }

    @Test
    void neverSuspendedGivenUpOrBusyLeavesTheInstanceAlone() {
        assertThat(decide(RestartPolicy.NEVER, false, false, false, 0)).isInstanceOf(HealPolicy.Leave.class);
        assertThat(decide(RestartPolicy.ALWAYS, true, false, false, 0)).isInstanceOf(HealPolicy.Leave.class);
        assertThat(decide(RestartPolicy.ALWAYS, false, true, false, 0)).isInstanceOf(HealPolicy.Leave.class);
        assertThat(decide(RestartPolicy.ALWAYS, false, false, true, 0)).isInstanceOf(HealPolicy.Leave.class);
    }

    @Test
    void theRestartPolicyIsReadFromTheSpecsLabel() {
        assertThat(RestartPolicy.fromLabel(null)).contains(RestartPolicy.ALWAYS);
        assertThat(RestartPolicy.fromLabel("never")).contains(RestartPolicy.NEVER);
        assertThat(RestartPolicy.fromLabel("sometimes")).isEmpty();
        assertThat(RestartPolicy.labels()).containsExactly("always", "never");
    }
}
