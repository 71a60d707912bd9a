package io.pgfleet.server.agent;

import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.core.Secret;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * PgBouncer's admin console (the {@code pgbouncer} pseudo-database): PAUSE holds clients while the
 * server restarts, RECONNECT drops server connections to the old postmaster, RESUME lets clients on.
 * It speaks the simple query protocol itself: JDBC drivers send SET statements after connecting that
 * the console refuses. The auth_user logs in with its password over loopback (pgbouncer's hba).
 */
final class PgBouncerConsole implements AutoCloseable {
    private final Socket socket;
    private final DataInputStream in;
    private final DataOutputStream out;
    private final String subject;

    PgBouncerConsole(int port, Secret password, String subject) {
        this.subject = subject;
        try {
            socket = new Socket();
            socket.connect(new InetSocketAddress(InstanceAddress.get(), port), 5000);
            socket.setSoTimeout(120_000);
            in = new DataInputStream(socket.getInputStream());
            out = new DataOutputStream(socket.getOutputStream());
            login(password);
        } catch (IOException e) {
            throw new PgfleetException(
                    ErrorCode.INTERNAL, subject + ": cannot reach pgbouncer's console: " + e.getMessage(), e);
        }
    }

    private void login(Secret password) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        DataOutputStream b = new DataOutputStream(body);
        b.writeInt(196608); // protocol 3.0
        for (String s : new String[] {"user", RoleReconciler.POOLER_ROLE, "database", "pgbouncer"}) {
            b.write(s.getBytes(StandardCharsets.UTF_8));
            b.write(0);
        }
        b.write(0);
        out.writeInt(body.size() + 4);
        out.write(body.toByteArray());
        out.flush();
        while (true) {
            int type = in.readUnsignedByte();
            byte[] payload = new byte[in.readInt() - 4];
            in.readFully(payload);
            if (type == 'R') {
                int code = ((payload[0] & 0xff) << 24)
                        | ((payload[1] & 0xff) << 16)
                        | ((payload[2] & 0xff) << 8)
                        | (payload[3] & 0xff);
                if (code == 3) { // cleartext password, over loopback only (see pgbouncer's hba)
                    byte[] pw = password.value().getBytes(StandardCharsets.UTF_8);
                    out.write('p');
                    out.writeInt(pw.length + 5);
                    out.write(pw);
                    out.write(0);
                    out.flush();
                } else if (code != 0) {
                    throw new PgfleetException(
                            ErrorCode.INTERNAL, subject + ": pgbouncer's console asks for auth method " + code);
                }
            } else if (type == 'E') {
                throw new PgfleetException(
                        ErrorCode.INTERNAL, subject + ": pgbouncer's console refused the login: " + message(payload));
            } else if (type == 'Z') {
                return;
            }
        }
    }

    /** Waits until every server connection of {@code database} is released, then holds new queries. */
    void pause(String database) {
        run("PAUSE " + database);
    }

    void resume(String database) {
        run("RESUME " + database);
    }

    /** Closes server connections as they are released, so the next ones go to the new postmaster. */
    void reconnect(String database) {
        run("RECONNECT " + database);
    }

    /** Re-reads pgbouncer.ini (a new backend port, pool sizes). */
    void reload() {
        run("RELOAD");
    }

    /** A command without rows (RELOAD, PAUSE …): the same exchange as {@link #rows}, its answer ignored. */
    private void run(String command) {
        rows(command);
    }

    /** A SHOW command's rows, each column by name; values as text (null for SQL NULL). */
    java.util.List<java.util.Map<String, String>> rows(String command) {
        java.util.List<String> columns = new java.util.ArrayList<>();
        java.util.List<java.util.Map<String, String>> rows = new java.util.ArrayList<>();
        String error = null;
        try {
            byte[] sql = command.getBytes(StandardCharsets.UTF_8);
            out.write('Q');
            out.writeInt(sql.length + 5);
            out.write(sql);
            out.write(0);
            out.flush();
            while (true) {
                int type = in.readUnsignedByte();
                byte[] payload = new byte[in.readInt() - 4];
                in.readFully(payload);
                java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(payload);
                if (type == 'T') {
                    int n = b.getShort();
                    for (int c = 0; c < n; c++) {
                        int start = b.position();
                        while (b.get() != 0) {
                            // the column name runs to its NUL
                        }
                        columns.add(new String(payload, start, b.position() - start - 1, StandardCharsets.UTF_8));
                        b.position(b.position() + 18); // table oid, column, type oid, size, modifier, format
                    }
                } else if (type == 'D') {
                    int n = b.getShort();
                    java.util.Map<String, String> row = new java.util.LinkedHashMap<>();
                    for (int c = 0; c < n; c++) {
                        int length = b.getInt();
                        String value = null;
                        if (length >= 0) {
                            value = new String(payload, b.position(), length, StandardCharsets.UTF_8);
                            b.position(b.position() + length);
                        }
                        row.put(c < columns.size() ? columns.get(c) : "column" + c, value);
                    }
                    rows.add(row);
                } else if (type == 'E') {
                    error = message(payload);
                } else if (type == 'Z') {
                    break;
                }
            }
        } catch (IOException e) {
            throw new PgfleetException(
                    ErrorCode.INTERNAL, subject + ": pgbouncer " + command + " failed: " + e.getMessage(), e);
        }
        if (error != null) {
            throw new PgfleetException(ErrorCode.INTERNAL, subject + ": pgbouncer " + command + " failed: " + error);
        }
        return rows;
    }

    /** The 'M' (message) field of an ErrorResponse. */
    private static String message(byte[] payload) {
        int i = 0;
        while (i < payload.length && payload[i] != 0) {
            int start = i + 1;
            int end = start;
            while (end < payload.length && payload[end] != 0) {
                end++;
            }
            if (payload[i] == 'M') {
                return new String(payload, start, end - start, StandardCharsets.UTF_8);
            }
            i = end + 1;
        }
        return "unknown error";
    }

    @Override
    public void close() {
        try (Socket s = socket) {
            out.write('X');
            out.writeInt(4);
            out.flush();
        } catch (IOException e) {
            throw new PgfleetException(
                    ErrorCode.INTERNAL, subject + ": closing pgbouncer's console failed: " + e.getMessage(), e);
        }
    }
}
