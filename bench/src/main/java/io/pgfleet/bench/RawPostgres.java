package io.pgfleet.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Comparator;
import java.util.Properties;
import java.util.stream.Stream;

/**
 * The baseline: one PostgreSQL server driven by hand with initdb, pg_ctl and JDBC, doing what a
 * pgfleet instance does and nothing more. Same binaries, same initdb options, same settings file
 * lines, same readiness test (a connection and {@code SELECT 1}), same fast shutdown.
 */
final class RawPostgres {
    private static final Duration COMMAND_TIMEOUT = Duration.ofMinutes(2);
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
    private static final String SUPERUSER = "postgres";

    private final Path binDir;
    private final Path dir;
    private final Path data;
    private final Path logFile;
    private final int port;
    private final String superuserPassword;
    private final String osUser;
    private final OsCommand command;

    RawPostgres(Path binDir, Path dir, int port, String superuserPassword, String osUser, Path commandLog) {
        this.binDir = binDir;
        this.dir = dir;
        this.data = dir.resolve("data");
        this.logFile = dir.resolve("postgresql.log");
        this.port = port;
        this.superuserPassword = superuserPassword;
        this.osUser = osUser;
        this.command = new OsCommand(osUser, commandLog);
    }

    Path dataDirectory() {
        return data;
    }

    /** initdb, settings, start, wait for SELECT 1, then the owner role and its database. */
    void create(String databaseName, String owner, String ownerPassword) {
        createOwnedDirectory(dir);
        Path pwfile = dir.resolve(".pwfile");
        writeOwnedFile(pwfile, superuserPassword + "\n");
        command.run(
                COMMAND_TIMEOUT,
                pg("initdb"),
                "-D",
                data.toString(),
                "-U",
                SUPERUSER,
                "--auth=scram-sha-256",
                "--pwfile=" + pwfile,
                "--encoding=UTF8",
                "--locale=C",
                "--no-instructions");
        deleteTree(pwfile);
        // The lines pgfleet writes into its included pgfleet.conf, appended here directly.
        appendOwned(
                data.resolve("postgresql.conf"),
                "\nport = " + port + "\nlisten_addresses = '*'\nunix_socket_directories = '" + dir
                        + "'\npassword_encryption = 'scram-sha-256'\n");
        start();
        try (Connection c = connect("postgres");
                Statement st = c.createStatement()) {
            st.execute("CREATE ROLE " + ident(owner) + " WITH LOGIN PASSWORD " + literal(ownerPassword));
            st.execute("CREATE DATABASE " + ident(databaseName) + " OWNER " + ident(owner));
        } catch (SQLException e) {
            throw new IllegalStateException("raw instance on port " + port + ": creating role and database: " + e, e);
        }
    }

    void stop() {
        command.run(COMMAND_TIMEOUT, pg("pg_ctl"), "stop", "-D", data.toString(), "-m", "fast", "-w");
    }

    void start() {
        command.run(COMMAND_TIMEOUT, pg("pg_ctl"), "start", "-w", "-D", data.toString(), "-l", logFile.toString());
        awaitReady();
    }

    void restart() {
        command.run(
                COMMAND_TIMEOUT,
                pg("pg_ctl"),
                "restart",
                "-w",
                "-m",
                "fast",
                "-D",
                data.toString(),
                "-l",
                logFile.toString());
        awaitReady();
    }

    /** Fast shutdown, then rm -rf of the instance directory (in-process, as pgfleet does it). */
    void delete() {
        stop();
        deleteTree(dir);
    }

    /** For clean-up after a failure: stops the server whatever state it is in, and removes it. */
    void discard() {
        if (Files.exists(data.resolve("postmaster.pid"))) {
            try {
                command.run(COMMAND_TIMEOUT, pg("pg_ctl"), "stop", "-D", data.toString(), "-m", "immediate", "-w");
            } catch (RuntimeException e) {
                System.err.println("bench: raw instance on port " + port + ": " + e.getMessage());
            }
        }
        deleteTree(dir);
    }

    private void awaitReady() {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (true) {
            try (Connection c = connect("postgres");
                    Statement st = c.createStatement()) {
                st.execute("SELECT 1");
                return;
            } catch (SQLException e) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(
                            "raw instance on port " + port + ": not ready after " + READY_TIMEOUT.toSeconds() + " s: "
                                    + e.getMessage(),
                            e);
                }
            }
            // Same 10 ms retry interval as pgfleet's readiness probe.
            sleep(10);
        }
    }

    private Connection connect(String database) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", SUPERUSER);
        props.setProperty("password", superuserPassword);
        props.setProperty("connectTimeout", "2");
        props.setProperty("loginTimeout", "2");
        props.setProperty("socketTimeout", "60");
        props.setProperty("ApplicationName", "pgfleet-bench");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + database, props);
    }

    private String pg(String program) {
        return binDir.resolve(program).toString();
    }

    private static String ident(String name) {
        return '"' + name.replace("\"", "\"\"") + '"';
    }

    private static String literal(String value) {
        return "'" + value.replace("'", "''") + "'";
    }

    private void createOwnedDirectory(Path path) {
        try {
            Files.createDirectories(path);
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rwx------"));
            giveToOsUser(path);
        } catch (IOException e) {
            throw new UncheckedIOException("creating " + path, e);
        }
    }

    private void writeOwnedFile(Path file, String content) {
        try {
            Files.writeString(file, content);
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
            giveToOsUser(file);
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + file, e);
        }
    }

    private static void appendOwned(Path file, String content) {
        try {
            // Appending keeps the owner initdb gave the file.
            Files.writeString(file, content, java.nio.file.StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + file, e);
        }
    }

    private void giveToOsUser(Path path) throws IOException {
        if (!"root".equals(System.getProperty("user.name"))) {
            return;
        }
        UserPrincipalLookupService lookup = path.getFileSystem().getUserPrincipalLookupService();
        PosixFileAttributeView view =
                Files.getFileAttributeView(path, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
        view.setOwner(lookup.lookupPrincipalByName(osUser));
        view.setGroup(lookup.lookupPrincipalByGroupName(osUser));
    }

    static void deleteTree(Path root) {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("removing " + root, e);
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
