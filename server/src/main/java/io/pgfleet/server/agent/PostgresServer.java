package io.pgfleet.server.agent;

import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.PgfleetException;
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
import java.util.TreeMap;

/**
 * One PostgreSQL server on this host, driven through initdb and pg_ctl as the instance user. Each
 * method looks before it acts, so calling it twice has the effect of calling it once.
 */
public final class PostgresServer {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(PostgresServer.class);
    public static final String SUPERUSER = "postgres";
    private static final Duration COMMAND_TIMEOUT = Duration.ofMinutes(5);

    private final OsAccount account;
    private final Path binDir;
    private final InstancePaths paths;
    private final String subject;
    private final List<String> launchPrefix;

    /** A server whose processes run as, and whose files belong to, {@code account}. */
    public PostgresServer(OsAccount account, Path binDir, InstancePaths paths, String subject) {
        this(account, binDir, paths, subject, List.of());
    }

    /** As above; {@code launchPrefix} runs before pg_ctl start, as root (its CPU group: {@link CpuLimits}). */
    public PostgresServer(
            OsAccount account, Path binDir, InstancePaths paths, String subject, List<String> launchPrefix) {
        this.account = account;
        this.binDir = binDir;
        this.paths = paths;
        this.subject = subject;
        this.launchPrefix = launchPrefix;
    }

    public InstancePaths paths() {
        return paths;
    }

    /**
     * Creates the data directory with a scram-sha-256 superuser; skipped when a finished one exists.
     * A marker file lives beside it while initdb runs, so a run cut off by a crash of pgfleet (which
     * leaves PG_VERSION behind, initdb writes it early) is started over, not taken for done.
     */
    public boolean initDataDirectory(Secret superuserPassword) {
        if (paths.hasDataDirectory()) {
            return false;
        }
        // The instance's OS user alone may enter: no other tenant's server reads its files or socket.
        account.createDirectory(paths.dir(), "rwx------");
        account.createDirectory(paths.logDir(), "rwx------");
        account.createDirectory(paths.socketDir(), "rwx------");
        try {
            Files.writeString(paths.initdbMarker(), "initdb started\n");
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + paths.initdbMarker(), e);
        }
        if (Files.exists(paths.data())) {
            // A half-made data directory from an interrupted initdb: start over.
            try {
                PostgresDistribution.deleteTree(paths.data());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        Path pwfile = paths.dir().resolve(".pwfile");
        account.writeFile(pwfile, superuserPassword.value() + "\n", "rw-------");
        try {
            List<String> cmd = new ArrayList<>(account.commandPrefix());
            cmd.addAll(List.of(
                    binDir.resolve("initdb").toString(),
                    "-D",
                    paths.data().toString(),
                    "-U",
                    SUPERUSER,
                    "--auth=scram-sha-256",
                    "--pwfile=" + pwfile,
                    "--encoding=UTF8",
                    "--locale=C",
                    "--no-instructions"));
            HostCommand.Result result = HostCommand.run(cmd, paths.dir(), Map.of(), COMMAND_TIMEOUT);
            if (!result.succeeded()) {
                throw new PgfleetException(
                        ErrorCode.INTERNAL,
                        subject + ": initdb failed (exit " + result.exitCode() + "): " + result.lastLines(5));
            }
            Files.delete(paths.initdbMarker());
        } catch (IOException e) {
            throw new UncheckedIOException("removing " + paths.initdbMarker(), e);
        } finally {
            try {
                Files.deleteIfExists(pwfile);
            } catch (IOException e) {
                throw new UncheckedIOException("removing " + pwfile, e);
            }
        }
        return true;
    }

    /**
     * Writes {@code pgfleet.conf} (included from postgresql.conf) and pg_hba.conf. The spec's
     * parameters come first and pgfleet's own last, so the ones pgfleet owns always win.
     * Returns whether anything changed.
     */
    public boolean writeConfiguration(int port, String listenAddresses, Map<String, String> parameters) {
        return writeConfiguration(port, listenAddresses, parameters, List.of());
    }

    /** The same, allowing replication connections (scram-sha-256) from {@code replicationSources}. */
    public boolean writeConfiguration(
            int port, String listenAddresses, Map<String, String> parameters, List<String> replicationSources) {
        StringBuilder conf =
                new StringBuilder("# Written by pgfleet; changes here are overwritten. Use the database spec.\n");
        new TreeMap<>(parameters)
                .forEach(
                        (k, v) -> conf.append(k).append(" = ").append(quoted(v)).append('\n'));
        conf.append("port = ").append(port).append('\n');
        conf.append("listen_addresses = ").append(quoted(listenAddresses)).append('\n');
        String socketDir = "";
        if (paths.socketPathFits(port)) {
            socketDir = paths.socketDir().toString();
        } else {
            log.warn(
                    "{}: the home directory is too long for a Unix socket under {} (107 bytes at most);"
                            + " this instance listens on TCP port {} only",
                    subject,
                    paths.socketDir(),
                    port);
        }
        conf.append("unix_socket_directories = ").append(quoted(socketDir)).append('\n');
        conf.append("password_encryption = 'scram-sha-256'\n");
        String hba = """
                # Written by pgfleet: every connection authenticates with scram-sha-256.
                local   all   all                 scram-sha-256
                host    all   all   0.0.0.0/0     scram-sha-256
                host    all   all   ::/0          scram-sha-256
                """;
        StringBuilder replicationLines = new StringBuilder();
        for (String source : replicationSources) {
            String cidr = source.contains("/") ? source : source + (source.contains(":") ? "/128" : "/32");
            replicationLines
                    .append("host    replication   ")
                    .append(StreamingSettings.ROLE)
                    .append("   ")
                    .append(cidr)
                    .append("   scram-sha-256\n");
        }
        hba += replicationLines;
        boolean changed = writeIfDifferent(paths.data().resolve("pgfleet.conf"), conf.toString(), "rw-------");
        changed |= writeIfDifferent(paths.data().resolve("pg_hba.conf"), hba, "rw-------");
        Path main = paths.data().resolve("postgresql.conf");
        try {
            String current = Files.readString(main);
            if (!current.contains("include 'pgfleet.conf'")) {
                account.writeFile(main, current + "\ninclude 'pgfleet.conf'\n", "rw-------");
                changed = true;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + main, e);
        }
        return changed;
    }

    /**
     * A value as a postgresql.conf string literal that reads back exactly: backslashes (escapes there)
     * and quotes doubled, so a trailing backslash or a quote can neither end the literal early nor
     * swallow the next line. The spec refuses control characters, so no line break reaches here.
     */
    static String quoted(String value) {
        return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'";
    }

    private boolean writeIfDifferent(Path file, String content, String mode) {
        try {
            if (Files.exists(file) && Files.readString(file).equals(content)) {
                return false;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + file, e);
        }
        account.writeFile(file, content, mode);
        return true;
    }

    /** The postmaster's PID if one runs for this data directory. */
    public Optional<Long> runningPid() {
        Path pidFile = paths.pidFile();
        try {
            if (!Files.exists(pidFile)) {
                return Optional.empty();
            }
            List<String> lines = Files.readAllLines(pidFile);
            if (lines.isEmpty() || lines.get(0).isBlank()) {
                return Optional.empty();
            }
            long pid = Long.parseLong(lines.get(0).trim());
            Optional<ProcessHandle> process = ProcessHandle.of(pid).filter(Processes::isRunning);
            if (process.isPresent() && lines.size() > 2 && !isThePidFilesPostmaster(process.get(), lines.get(2))) {
                // A pid file that survived a reboot: the number now belongs to some other process.
                return Optional.empty();
            }
            return process.map(ProcessHandle::pid);
        } catch (IOException | NumberFormatException e) {
            // The postmaster rewrites the file while starting; an unreadable moment means "not yet".
            return Optional.empty();
        }
    }

    /**
     * A postmaster killed with SIGKILL leaves postmaster.pid behind. While its number still answers
     * kill(0) (an unreaped zombie, or a recycled PID) the next postmaster refuses to start ("lock file
     * already exists"), so a restart would fail at its first try. Once no process of the old server is
     * attached to its shared memory (line 7 of the file names the segment), the file is only a stale lock
     * and is removed; a file whose postmaster runs is left alone.
     */
    void removeStalePidFile(Duration wait) {
        Path pidFile = paths.pidFile();
        List<String> lines;
        try {
            if (!Files.exists(pidFile) || runningPid().isPresent()) {
                return;
            }
            lines = Files.readAllLines(pidFile);
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + pidFile, e);
        }
        String[] shm = lines.size() > 6 ? lines.get(6).trim().split("\\s+") : new String[0];
        long deadline = System.nanoTime() + wait.toNanos();
        while (shm.length == 2 && SharedMemory.attachments(shm[1]) > 0) {
            if (System.nanoTime() > deadline) {
                log.warn(
                        "{}: processes of the old server still use its shared memory after {} s; leaving postmaster.pid",
                        subject,
                        wait.toSeconds());
                return;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new PgfleetException(
                        ErrorCode.INTERNAL, subject + ": waiting for the old server was canceled", e);
            }
        }
        try {
            Files.deleteIfExists(pidFile);
            log.info("{}: removed the stale postmaster.pid of a server that is gone", subject);
        } catch (IOException e) {
            throw new UncheckedIOException("removing " + pidFile, e);
        }
    }

    /**
     * Postmasters already found to be the one their pid file names, by pid file and then (pid, start
     * ticks): the health monitor asks every second for every instance, and reading a process's start
     * time through {@link ProcessHandle#info()} costs far more than one read of /proc/PID/stat.
     */
    private static final java.util.Map<Path, String> VERIFIED = new java.util.concurrent.ConcurrentHashMap<>();

    private boolean isThePidFilesPostmaster(ProcessHandle process, String startLine) {
        java.util.OptionalLong ticks = Processes.startTicks(process.pid());
        String identity = process.pid() + "@" + (ticks.isPresent() ? ticks.getAsLong() : "?") + "/" + startLine.trim();
        if (ticks.isPresent() && identity.equals(VERIFIED.get(paths.pidFile()))) {
            return true;
        }
        boolean same = startedWhenPidFileSays(process, startLine);
        if (same && ticks.isPresent()) {
            VERIFIED.put(paths.pidFile(), identity);
        }
        return same;
    }

    /** Line 3 of postmaster.pid is the postmaster's start time in epoch seconds. */
    private static boolean startedWhenPidFileSays(ProcessHandle process, String startLine) {
        Optional<java.time.Instant> started = process.info().startInstant();
        if (started.isEmpty() || startLine.isBlank()) {
            return true; // nothing to compare with: trust the live pid
        }
        long written = Long.parseLong(startLine.trim());
        return Math.abs(started.get().getEpochSecond() - written) <= 5;
    }

    /** Launches the postmaster detached from pgfleet (it outlives the control plane) without waiting. */
    public void launch() {
        removeStalePidFile(Duration.ofSeconds(15));
        List<String> cmd = new ArrayList<>(launchPrefix);
        cmd.addAll(account.commandPrefix());
        cmd.addAll(List.of(
                binDir.resolve("pg_ctl").toString(),
                "start",
                "-W",
                "-D",
                paths.data().toString(),
                "-l",
                paths.logFile().toString()));
        HostCommand.Result result = HostCommand.run(cmd, paths.dir(), Map.of(), COMMAND_TIMEOUT);
        if (!result.succeeded()) {
            throw new PgfleetException(
                    ErrorCode.INTERNAL,
                    subject + ": pg_ctl start failed: " + result.lastLines(3) + "; server log: " + logTail(5));
        }
    }

    /**
     * Waits until a real connection answers {@code SELECT 1}, up to {@code timeout}. Fails early when
     * the postmaster exits, with the last lines of the server log.
     */
    public void awaitReady(int port, Secret superuserPassword, Duration timeout) {
        awaitReady(InstanceAddress.get(), port, superuserPassword, timeout);
    }

    /** As {@link #awaitReady(int, Secret, Duration)}, on {@code host} (the embedded catalog's loopback). */
    public void awaitReady(String host, int port, Secret superuserPassword, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        long sawNoPostmasterSince = 0;
        String lastError = "no attempt";
        while (true) {
            if (Thread.currentThread().isInterrupted()) {
                throw new PgfleetException(ErrorCode.INTERNAL, subject + ": readiness wait was canceled");
            }
            try (Connection c = connect(host, port, "postgres", superuserPassword, Duration.ofSeconds(2));
                    Statement st = c.createStatement()) {
                st.execute("SELECT 1");
                return;
            } catch (SQLException e) {
                lastError = e.getMessage();
            }
            long now = System.nanoTime();
            if (runningPid().isEmpty()) {
                if (sawNoPostmasterSince == 0) {
                    sawNoPostmasterSince = now;
                } else if (now - sawNoPostmasterSince > Duration.ofMillis(1500).toNanos()) {
                    throw new PgfleetException(
                            ErrorCode.INTERNAL,
                            subject + ": PostgreSQL exited while starting on port " + port + "; server log: "
                                    + logTail(5));
                }
            } else {
                sawNoPostmasterSince = 0;
            }
            if (now > deadline) {
                throw new PgfleetException(
                        ErrorCode.INTERNAL,
                        subject + ": not ready after " + timeout.toSeconds() + " s on port " + port + " (" + lastError
                                + "); server log: " + logTail(5));
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new PgfleetException(ErrorCode.INTERNAL, subject + ": readiness wait was canceled", e);
            }
        }
    }

    /** Fast shutdown (rolls back open transactions); immediate if fast does not finish in time. */
    public void stop(Duration timeout) {
        if (runningPid().isEmpty()) {
            return;
        }
        HostCommand.Result fast = pgCtlStop("fast", timeout);
        if (fast.succeeded() || runningPid().isEmpty()) {
            return;
        }
        HostCommand.Result immediate = pgCtlStop("immediate", Duration.ofSeconds(30));
        if (!immediate.succeeded() && runningPid().isPresent()) {
            throw new PgfleetException(
                    ErrorCode.INTERNAL, subject + ": PostgreSQL did not stop: " + immediate.lastLines(3));
        }
    }

    private HostCommand.Result pgCtlStop(String mode, Duration timeout) {
        List<String> cmd = new ArrayList<>(account.commandPrefix());
        cmd.addAll(List.of(
                binDir.resolve("pg_ctl").toString(),
                "stop",
                "-D",
                paths.data().toString(),
                "-m",
                mode,
                "-w",
                "-t",
                Long.toString(Math.max(1, timeout.toSeconds()))));
        return HostCommand.run(cmd, paths.dir(), Map.of(), timeout.plusSeconds(10));
    }

    public String logTail(int lines) {
        return String.join(" | ", ServerLog.tail(paths.logFile(), lines));
    }

    /** A superuser connection over TCP with scram-sha-256, bounded by {@code timeout}. */
    public static Connection connect(int port, String database, Secret password, Duration timeout) throws SQLException {
        return connect(InstanceAddress.get(), port, database, password, timeout);
    }

    /** As {@link #connect(int, String, Secret, Duration)}, showing {@code applicationName} in pg_stat_activity. */
    public static Connection connect(
            int port, String database, Secret password, Duration timeout, String applicationName) throws SQLException {
        return connect(InstanceAddress.get(), port, database, password, timeout, applicationName);
    }

    private static Connection connect(String host, int port, String database, Secret password, Duration timeout)
            throws SQLException {
        return connect(host, port, database, password, timeout, "pgfleet");
    }

    private static Connection connect(
            String host, int port, String database, Secret password, Duration timeout, String applicationName)
            throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", SUPERUSER);
        props.setProperty("password", password.value());
        props.setProperty("connectTimeout", Long.toString(Math.max(1, timeout.toSeconds())));
        props.setProperty("socketTimeout", "60");
        props.setProperty("loginTimeout", Long.toString(Math.max(1, timeout.toSeconds())));
        props.setProperty("ApplicationName", applicationName);
        return DriverManager.getConnection("jdbc:postgresql://" + host + ":" + port + "/" + database, props);
    }
}
