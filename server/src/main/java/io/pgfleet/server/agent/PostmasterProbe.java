package io.pgfleet.server.agent;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;

/**
 * What {@code pg_isready} checks, without a login: the postmaster accepts a TCP connection and the
 * backend it forks answers an SSLRequest with one byte ('S' or 'N'). No password, no session, no log
 * line, so the health monitor can afford it every second for every instance.
 */
public final class PostmasterProbe {
    private static final int SSL_REQUEST_CODE = 80877103;

    private PostmasterProbe() {}

    /** Whether a PostgreSQL server answers on the loopback port within {@code timeout}. */
    public static boolean answers(int port, Duration timeout) {
        int millis = (int) Math.max(1, timeout.toMillis());
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InstanceAddress.get(), port), millis);
            socket.setSoTimeout(millis);
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            out.writeInt(8);
            out.writeInt(SSL_REQUEST_CODE);
            out.flush();
            int answer = new DataInputStream(socket.getInputStream()).read();
            return answer == 'S' || answer == 'N';
        } catch (IOException e) {
            return false;
        }
    }
}
