package io.pgfleet.server.agent;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The health monitor's one-read check of a postmaster it identified before, on real processes. */
class ProcessesTest {
    @Test
    void aRunningProcessPassesWithItsStartTimeAndFailsWithAnother() {
        long pid = ProcessHandle.current().pid();
        long ticks = Processes.startTicks(pid).orElseThrow();
        assertThat(Processes.isStillRunning(pid, ticks)).isTrue();
        assertThat(Processes.isStillRunning(pid, ticks + 1))
                .as("a recycled pid")
                .isFalse();
    }

    @Test
    void anExitedProcessDoesNotPass() throws Exception {
        Process sleeper = new ProcessBuilder("sleep", "30").start();
        long pid = sleeper.pid();
        long ticks = Processes.startTicks(pid).orElseThrow();
        assertThat(Processes.isStillRunning(pid, ticks)).isTrue();
        sleeper.destroyForcibly().waitFor();
        assertThat(Processes.isStillRunning(pid, ticks)).isFalse();
    }
}
