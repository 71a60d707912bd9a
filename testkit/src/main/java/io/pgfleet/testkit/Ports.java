package io.pgfleet.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/** Ports for tests: instance ranges shifted per checkout, and free ones for an API. */
public final class Ports {
    private Ports() {}

    /**
     * A port for a test's instances. {@code -Dpgfleet.it.port-offset=N} shifts every one, so two
     * checkouts can run their integration tests on one machine at once; {@code pgfleet.it.fork} (the
     * build's fork number, from 1) shifts each further fork by 1000, so test classes run side by side
     * in two JVMs never share a range.
     */
    public static int offset(int base) {
        int fork = Math.max(1, Integer.getInteger("pgfleet.it.fork", 1));
        return base + Integer.getInteger("pgfleet.it.port-offset", 0) + (fork - 1) * 1000;
    }

    /** A port nothing listens on now, chosen by the kernel. */
    public static int free() {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Whether nothing is bound to {@code port} on any address. */
    public static boolean isFree(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getByName("0.0.0.0"), port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
