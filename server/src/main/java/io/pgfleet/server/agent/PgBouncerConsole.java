package io.pgfleet.server.agent;

import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.server.security.Secret;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * PgBouncer's admin console (the {@code pgbouncer} pseudo-database): PAUSE holds clients while the
 * server restarts, RECONNECT drops server connections to the old postmaster, RESUME lets clients on.
 */
final class PgBouncerConsole implements AutoCloseable {
    private final Connection connection;
    private final String subject;

    PgBouncerConsole(int port, Secret password, String subject) {
        this.subject = subject;
        try {
            this.connection = PgBouncer.connect(port, null, password, true);
        } catch (SQLException e) {
            throw new PgfleetException(
                    ErrorCode.INTERNAL, subject + ": cannot reach pgbouncer's console: " + e.getMessage(), e);
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

    private void run(String command) {
        try (Statement st = connection.createStatement()) {
            st.execute(command);
        } catch (SQLException e) {
            throw new PgfleetException(
                    ErrorCode.INTERNAL, subject + ": pgbouncer " + command + " failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            connection.close();
        } catch (SQLException e) {
            throw new PgfleetException(
                    ErrorCode.INTERNAL, subject + ": closing pgbouncer's console failed: " + e.getMessage(), e);
        }
    }
}
