package io.pgfleet.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgfleet.core.Recovery.Observed;
import org.junit.jupiter.api.Test;

class RecoveryTest {
    private static final Observed DOWN = new Observed(false, false);
    private static final Observed SILENT = new Observed(true, false);
    private static final Observed UP = new Observed(true, true);

    @Test
    void everyStateAndObservationLeadsToAStateTheTableAllows() {
        for (InstanceState was : InstanceState.values()) {
            for (Observed host : new Observed[] {DOWN, SILENT, UP}) {
                Recovery.Outcome outcome = Recovery.afterPgfleetRestart(was, host);
                assertThat(was.canMoveTo(outcome.state()) || outcome.state() == InstanceState.ERROR)
                        .as(was + " seen " + host + " -> " + outcome)
                        .isTrue();
                if (outcome.state() == InstanceState.AVAILABLE) {
                    assertThat(host).as("available only after a probe answered").isEqualTo(UP);
                }
            }
        }
    }

    @Test
    void aCutOffCreateIsFailedAndACutOffDeleteIsError() {
        assertThat(Recovery.afterPgfleetRestart(InstanceState.CREATING, UP).state())
                .isEqualTo(InstanceState.FAILED);
        assertThat(Recovery.afterPgfleetRestart(InstanceState.DELETING, DOWN).state())
                .isEqualTo(InstanceState.ERROR);
    }

    @Test
    void whatRunsAndAnswersIsAvailableWhatStoppedWhileStoppingIsStopped() {
        assertThat(Recovery.afterPgfleetRestart(InstanceState.RESTARTING, UP))
                .isEqualTo(new Recovery.Outcome(InstanceState.AVAILABLE, null));
        assertThat(Recovery.afterPgfleetRestart(InstanceState.STOPPING, DOWN))
                .isEqualTo(new Recovery.Outcome(InstanceState.STOPPED, null));
        assertThat(Recovery.afterPgfleetRestart(InstanceState.STARTING, DOWN).state())
                .isEqualTo(InstanceState.FAILED);
        assertThat(Recovery.afterPgfleetRestart(InstanceState.MODIFYING, SILENT).error())
                .contains("not answering");
    }
}
