package io.pgfleet.server.agent;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/** Whether anything on this host listens on a TCP port: a bind test on the wildcard address, then a connect. */
public final class PortProbe {
    private PortProbe() {}

    public static boolean isFree(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            // Postgres binds with SO_REUSEADDR, so connections left in TIME_WAIT by a stopped instance
            // do not block its restart; probe the same way, or a just-stopped port would look taken.
            socket.setReuseAddress(true);
            // A host listening on its own address (a fleet's hosts on one machine) probes that address only.
            socket.bind(
                    InstanceAddress.listensEverywhere()
                            ? new InetSocketAddress((InetAddress) null, port)
                            : new InetSocketAddress(InstanceAddress.get(), port));
        } catch (IOException e) {
            return false;
        }
        // A listener on one specific address may let the wildcard bind succeed on some systems; ask it.
        try (Socket client = new Socket()) {
            client.connect(new InetSocketAddress(InstanceAddress.get(), port), 200);
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    /**
     * Whether the port is free, or becomes free within {@code patience}: a port held for a moment (a
     * bind test of another create, a socket on its way out) is not a conflict; one held longer is.
     */
    public static boolean isFreeWithin(int port, java.time.Duration patience) {
        long deadline = System.nanoTime() + patience.toNanos();
        while (!isFree(port)) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }
}
