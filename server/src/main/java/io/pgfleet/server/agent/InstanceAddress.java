package io.pgfleet.server.agent;

/**
 * The address this host's agent uses to reach its own instances and poolers: the first of
 * {@code pgfleet.listen-addresses}, or 127.0.0.1 when they listen everywhere. Hosts of a fleet
 * that share one machine (tests, a demo) listen on their own loopback alias (127.0.0.2 …) so the
 * same port can serve an instance on each. One pgfleet host per JVM, so one value per process.
 */
public final class InstanceAddress {
    private static volatile String address = "127.0.0.1";
    private static volatile boolean everywhere = true;

    private InstanceAddress() {}

    static void configure(String listenAddresses) {
        String first = listenAddresses == null ? "*" : listenAddresses.split(",")[0].trim();
        everywhere = first.isEmpty() || first.equals("*") || first.equals("0.0.0.0") || first.equals("::");
        address = everywhere || first.equals("localhost") ? "127.0.0.1" : first;
    }

    /** Whether instances listen on every address (the default), so a port is taken by anything bound. */
    public static boolean listensEverywhere() {
        return everywhere;
    }

    public static String get() {
        return address;
    }
}
