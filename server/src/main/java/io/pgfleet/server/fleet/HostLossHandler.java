package io.pgfleet.server.fleet;

/**
 * What happens to instances when their host is lost and when it returns; the task package carries
 * it out through its state machine ({@code tasks.HostLoss}), the heartbeat here decides when.
 */
public interface HostLossHandler {
    /** The leader's round, fenced by {@code epoch}: silent hosts unreachable, their instances unknown. */
    void sweep(long epoch);

    /** This host is back (or starting): settle its instances from what really runs. */
    void settle();
}
