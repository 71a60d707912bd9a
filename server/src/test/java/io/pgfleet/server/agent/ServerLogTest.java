package io.pgfleet.server.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgfleet.server.config.HealingProperties;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServerLogTest {

    @Test
    void aLogAboveTheLimitIsCopiedAsideAndTruncatedInPlace(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("postgresql.log");
        Files.writeString(log, "x".repeat(2000) + "\nlast line\n");
        assertThat(ServerLog.rotateIfLarger(log, 4096)).isFalse();
        assertThat(ServerLog.rotateIfLarger(log, 1024)).isTrue();
        assertThat(Files.size(log)).isZero();
        assertThat(ServerLog.tail(dir.resolve("postgresql.log.1"), 1)).containsExactly("last line");
        assertThat(ServerLog.rotateIfLarger(log, 1024)).as("twice is once").isFalse();
        assertThat(ServerLog.rotateIfLarger(dir.resolve("absent.log"), 1)).isFalse();
    }

    @Test
    void poolerLinesAreFilteredByTheirLevelWord() {
        List<String> lines = List.of(
                "2026-01-01 10:00:00.000 UTC [7] LOG stats: 0 xacts/s",
                "2026-01-01 10:00:01.000 UTC [7] WARNING server login failed",
                "2026-01-01 10:00:02.000 UTC [7] ERROR accept() failed");
        assertThat(ServerLog.poolerAtLeast(lines, "warning")).hasSize(2);
        assertThat(ServerLog.poolerAtLeast(lines, "error")).containsExactly(lines.get(2));
    }

    @Test
    void theBackoffDoublesUpToItsMaximum() {
        HealingProperties healing = new HealingProperties(
                null, null, Duration.ofSeconds(1), Duration.ofSeconds(60), 0, null, null, null, null, null);
        assertThat(List.of(0, 1, 2, 3, 5, 6, 40).stream().map(healing::backoff).map(Duration::toSeconds))
                .containsExactly(1L, 2L, 4L, 8L, 32L, 60L, 60L);
        assertThat(healing.healMaxFailures()).isEqualTo(5);
        assertThat(healing.healWindow()).isEqualTo(Duration.ofMinutes(10));
    }
}
