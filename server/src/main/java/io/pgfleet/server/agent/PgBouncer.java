package io.pgfleet.server.agent;

import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.core.PoolerSpec;
import io.pgfleet.core.Secret;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/**
 * The PgBouncer in front of one instance: its files under {@code instances/<id>/pgbouncer/}, started
 * detached as the instance user like the postmaster. Clients authenticate through the auth_user and
 * the {@code pgfleet.user_lookup} function; the auth file holds only that auth_user.
 */
public final class PgBouncer {
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);

    /** Where and how one pooler runs. */
    public record Config(
            int listenPort,
            String listenAddresses,
            int postgresPort,
            String databaseName,
            PoolerSpec spec,
            Secret authPassword) {}

    private final OsAccount account;
    private final Path executable;
    private final Path dir;
    private final String subject;

    PgBouncer(OsAccount account, Path executable, Path dir, String subject) {
        this.account = account;
        this.executable = executable;
        this.dir = dir;
        this.subject = subject;
    }

    public Path ini() {
        return dir.resolve("pgbouncer.ini");
    }

    public Path logFile() {
        return dir.resolve("pgbouncer.log");
    }

    private Path pidFile() {
        return dir.resolve("pgbouncer.pid");
    }

    /** Writes pgbouncer.ini and the auth file; returns whether anything changed. */
    public boolean writeConfiguration(Config config) {
        account.createDirectory(dir, "rwx------");
        PoolerSpec spec = config.spec();
        String ini = "; Written by pgfleet; changes here are overwritten. Use the database spec's pooler.\n"
                + "[databases]\n"
                + config.databaseName() + " = host=" + InstanceAddress.get() + " port=" + config.postgresPort()
                + " dbname="
                + config.databaseName() + "\n\n"
                + "[pgbouncer]\n"
                + "listen_addr = " + config.listenAddresses() + "\n"
                + "listen_port = " + config.listenPort() + "\n"
                // No Unix socket: its default directory is shared (/tmp) and clients use TCP.
                + "unix_socket_dir =\n"
                // scram-sha-256 for everyone; the console's cleartext login only for the auth_user on loopback.
                + "auth_type = hba\n"
                + "auth_hba_file = " + dir.resolve("pgbouncer_hba.conf") + "\n"
                + "auth_file = " + dir.resolve("userlist.txt") + "\n"
                + "auth_user = " + RoleReconciler.POOLER_ROLE + "\n"
                + "auth_query = SELECT uname, phash FROM pgfleet.user_lookup($1)\n"
                + "admin_users = " + RoleReconciler.POOLER_ROLE + "\n"
                + "pool_mode = " + (spec.poolMode() == null ? "transaction" : spec.poolMode()) + "\n"
                + "default_pool_size = " + (spec.defaultPoolSize() == null ? 20 : spec.defaultPoolSize()) + "\n"
                + "max_client_conn = " + (spec.maxClientConn() == null ? 500 : spec.maxClientConn()) + "\n"
                // JDBC drivers send these at start-up; PgBouncer would refuse the connection otherwise.
                + "ignore_startup_parameters = extra_float_digits,options,search_path\n"
                // After a restart of Postgres, try again at once rather than after the default 15 s.
                + "server_login_retry = 1\n"
                + "logfile = " + logFile() + "\n"
                + "pidfile = " + pidFile() + "\n";
        String users = "\"" + RoleReconciler.POOLER_ROLE + "\" \""
                + config.authPassword().value().replace("\"", "\"\"") + "\"\n";
        String hba = "host pgbouncer " + RoleReconciler.POOLER_ROLE
                + " 127.0.0.0/8 password\n" // loopback: this host's agent (127.0.0.1, or its alias)
                + "host pgbouncer all 0.0.0.0/0 reject\n"
                + "host all all 0.0.0.0/0 scram-sha-256\n"
                + "host all all ::/0 scram-sha-256\n";
        boolean changed = writeIfDifferent(dir.resolve("userlist.txt"), users);
        changed |= writeIfDifferent(dir.resolve("pgbouncer_hba.conf"), hba);
        changed |= writeIfDifferent(ini(), ini);
        return changed;
    }

    private boolean writeIfDifferent(Path file, String content) {
        try {
            if (Files.exists(file) && Files.readString(file).equals(content)) {
                return false;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + file, e);
        }
        account.writeFile(file, content, "rw-------");
        return true;
    }

    /** The running pgbouncer's PID, if one runs for this instance. */
    public Optional<Long> runningPid() {
        try {
            if (!Files.exists(pidFile())) {
                return Optional.empty();
            }
            String text = Files.readString(pidFile()).trim();
            if (text.isEmpty()) {
                return Optional.empty();
            }
            return ProcessHandle.of(Long.parseLong(text))
                    .filter(Processes::isRunning)
                    .filter(p ->
                            p.info().command().map(c -> c.contains("pgbouncer")).orElse(true))
                    .map(ProcessHandle::pid);
        } catch (IOException | NumberFormatException e) {
            // pgbouncer writes the file while daemonizing; an unreadable moment means "not yet".
            return Optional.empty();
        }
    }

    /** Starts pgbouncer detached (it outlives pgfleet, like the postmaster); a no-op when it runs. */
    public void start(int port) {
        if (runningPid().isPresent()) {
            return;
        }
        if (!PortProbe.isFreeWithin(port, java.time.Duration.ofSeconds(3))) {
            throw new PgfleetException(
                    ErrorCode.PORT_CONFLICT,
                    subject + ": pooler port " + port + " is in use by another process; free it");
        }
        removeStalePidFile();
        List<String> cmd = new ArrayList<>(account.commandPrefix());
        cmd.addAll(List.of(executable.toString(), "-d", ini().toString()));
        HostCommand.Result result = HostCommand.run(cmd, dir, Map.of(), COMMAND_TIMEOUT);
        if (!result.succeeded()) {
            throw new PgfleetException(
                    ErrorCode.INTERNAL,
                    subject + ": pgbouncer did not start (exit " + result.exitCode() + "): " + result.lastLines(3)
                            + "; its log: " + logTail(3));
        }
    }

    /**
     * A killed pgbouncer leaves its PID file behind, and while the dead process is an unreaped zombie
     * (or its number belongs to someone else) pgbouncer refuses to start: "pidfile exists". No pgbouncer
     * of this instance runs (checked by the caller), so the file is stale.
     */
    private void removeStalePidFile() {
        try {
            Files.deleteIfExists(pidFile());
        } catch (IOException e) {
            throw new UncheckedIOException("removing the stale " + pidFile(), e);
        }
    }

    /**
     * Waits until a query through the pooler reaches Postgres: the auth_user logs in through pgbouncer
     * and runs {@code SELECT 1} on the server.
     */
    public void awaitReady(Config config, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        String lastError;
        while (true) {
            try (Connection c = connect(config.listenPort(), config.databaseName(), config.authPassword(), false);
                    Statement st = c.createStatement()) {
                st.execute("SELECT 1");
                return;
            } catch (SQLException e) {
                lastError = e.getMessage();
            }
            if (System.nanoTime() > deadline) {
                throw new PgfleetException(
                        ErrorCode.INTERNAL,
                        subject + ": no query through pgbouncer on port " + config.listenPort() + " after "
                                + timeout.toSeconds() + " s (" + lastError + "); its log: " + logTail(3));
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new PgfleetException(ErrorCode.INTERNAL, subject + ": pooler readiness wait was canceled", e);
            }
        }
    }

    /** Stops pgbouncer (SIGTERM, then SIGKILL after 10 s); a no-op when it does not run. */
    public void stop() {
        Optional<ProcessHandle> process = runningPid().flatMap(ProcessHandle::of);
        if (process.isEmpty()) {
            return;
        }
        process.get().destroy();
        // Polled rather than onExit(): pgbouncer is not pgfleet's child, and a zombie counts as alive there.
        if (!awaitExit(process.get(), 10_000)) {
            process.get().destroyForcibly();
            awaitExit(process.get(), 5_000);
        }
        if (Processes.isRunning(process.get())) {
            throw new PgfleetException(ErrorCode.INTERNAL, subject + ": pgbouncer did not stop");
        }
    }

    private boolean awaitExit(ProcessHandle process, long millis) {
        long deadline = System.nanoTime() + millis * 1_000_000;
        while (Processes.isRunning(process)) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new PgfleetException(ErrorCode.INTERNAL, subject + ": stopping pgbouncer was interrupted", e);
            }
        }
        return true;
    }

    public String logTail(int lines) {
        return String.join(" | ", ServerLog.tail(logFile(), lines));
    }

    /**
     * A connection through pgbouncer as its auth_user: to {@code database} on the server, or to the
     * admin console when {@code console} (which speaks only the simple query protocol).
     */
    static Connection connect(int port, String database, Secret password, boolean console) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", RoleReconciler.POOLER_ROLE);
        props.setProperty("password", password.value());
        props.setProperty("connectTimeout", "5");
        props.setProperty("socketTimeout", "120");
        props.setProperty("prepareThreshold", "0");
        props.setProperty("ApplicationName", "pgfleet");
        if (console) {
            props.setProperty("preferQueryMode", "simple");
            props.setProperty("assumeMinServerVersion", "9.0");
        }
        return DriverManager.getConnection(
                "jdbc:postgresql://" + InstanceAddress.get() + ":" + port + "/" + (console ? "pgbouncer" : database),
                props);
    }
}
