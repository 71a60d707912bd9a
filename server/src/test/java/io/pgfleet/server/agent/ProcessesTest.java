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

    @Test
    void aProcessWhoseNameHoldsSpacesAndParenthesesIsReadFromTheLastParenthesis() throws Exception {
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("procs");
        java.nio.file.Path odd = dir.resolve("a) b (c");
        java.nio.file.Files.copy(java.nio.file.Path.of("/bin/sleep"), odd);
        odd.toFile().setExecutable(true);
        Process sleeper = new ProcessBuilder(odd.toString(), "30").start();
        try {
            long pid = sleeper.pid();
            long ticks = Processes.startTicks(pid).orElseThrow();
            assertThat(Processes.isStillRunning(pid, ticks)).isTrue();
            assertThat(Processes.isStillRunning(pid, ticks - 1)).isFalse();
        } finally {
            sleeper.destroyForcibly().waitFor();
            java.nio.file.Files.delete(odd);
            java.nio.file.Files.delete(dir);
        }
    }
}
