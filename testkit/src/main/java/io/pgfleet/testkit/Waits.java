package io.pgfleet.testkit;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** A bounded wait for a condition, for code that has no Awaitility (the benchmarks, this kit). */
public final class Waits {
    private Waits() {}

    /** Polls {@code condition} every {@code poll} until it holds; fails after {@code timeout}. */
    public static void until(String what, Duration timeout, Duration poll, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("gave up waiting for " + what + " after " + timeout.toSeconds() + " s");
            }
            sleep(poll);
        }
    }

    public static void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
