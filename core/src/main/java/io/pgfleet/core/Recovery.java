package io.pgfleet.core;

/**
 * What the host shows → which state: where an instance caught in a transient state by a restart of
 * pgfleet goes, from what its host shows now. Never {@code available} without a probe that answered.
 */
public final class Recovery {
    private Recovery() {}

    /** What the host shows of one instance: its postmaster runs; it answers {@code SELECT 1}. */
    public record Observed(boolean running, boolean answers) {}

    /** The state to move to, and the instance's error (null when none). */
    public record Outcome(InstanceState state, String error) {}

    /**
     * The state after a restart of pgfleet for an instance that was {@code was} and that no resumed
     * task owns: a create or delete cut off is {@code failed} or {@code error}; otherwise what runs and
     * answers is {@code available}, what stopped while stopping is {@code stopped}, the rest {@code failed}.
     * A target the transition table does not allow from {@code was} becomes {@code error}.
     */
    public static Outcome afterPgfleetRestart(InstanceState was, Observed host) {
        Outcome outcome;
        if (was == InstanceState.CREATING) {
            outcome = new Outcome(
                    InstanceState.FAILED, "interrupted by a pgfleet restart while creating; start it to finish");
        } else if (was == InstanceState.DELETING) {
            outcome = new Outcome(
                    InstanceState.ERROR, "interrupted by a pgfleet restart while deleting; delete the database again");
        } else if (!host.running()) {
            outcome = was == InstanceState.STOPPING
                    ? new Outcome(InstanceState.STOPPED, null)
                    : new Outcome(InstanceState.FAILED, "not running after a pgfleet restart; start it");
        } else if (host.answers()) {
            outcome = new Outcome(InstanceState.AVAILABLE, null);
        } else {
            outcome = new Outcome(InstanceState.FAILED, "running but not answering after a pgfleet restart");
        }
        return was.canMoveTo(outcome.state()) ? outcome : new Outcome(InstanceState.ERROR, outcome.error());
    }
}
