package io.pgfleet.server.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A catalog PostgreSQL the test starts itself, as an operator would for a fleet: Debian's
 * postgresql-15 binaries ({@code /usr/lib/postgresql/15/bin}, run as the {@code postgres} OS user when
 * the test runs as root), a data directory under /tmp, trust authentication on 127.0.0.1 only.
 */
public final class CatalogPostgres implements AutoCloseable {
    public static final Path BIN = Path.of("/usr/lib/postgresql/15/bin");
    private final Path dir;
    private final int port;

    private CatalogPostgres(Path dir, int port) {
        this.dir = dir;
        this.port = port;
    }

    public static boolean isInstalled() {
        return Files.isExecutable(BIN.resolve("initdb"));
    }

    /** initdb and start on {@code port}; the cluster's superuser is {@code pgfleet}. */
    public static CatalogPostgres start(int port) {
        Path dir = ServerUnderTest.newHome("fcat");
        CatalogPostgres catalog = new CatalogPostgres(dir, port);
        try {
            Path data = dir.resolve("data");
            if (isRoot()) {
                run("chown", "postgres:postgres", dir.toString());
            }
            catalog.asOwner(
                    BIN.resolve("initdb").toString(),
                    "-D",
                    data.toString(),
                    "-U",
                    "pgfleet",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-sync");
            Files.writeString(
                    data.resolve("postgresql.auto.conf"),
                    "listen_addresses = '127.0.0.1'\nport = " + port + "\nunix_socket_directories = ''\n"
                            + "max_connections = 200\nfsync = off\n");
            if (isRoot()) {
                run(
                        "chown",
                        "postgres:postgres",
                        data.resolve("postgresql.auto.conf").toString());
            }
            catalog.start();
            return catalog;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public void start() {
        asOwner(
                BIN.resolve("pg_ctl").toString(),
                "-D",
                dir.resolve("data").toString(),
                "-l",
                dir.resolve("catalog.log").toString(),
                "-w",
                "-t",
                "60",
                "start");
    }

    public void stop() {
        asOwner(
                BIN.resolve("pg_ctl").toString(),
                "-D",
                dir.resolve("data").toString(),
                "-m",
                "fast",
                "-w",
                "-t",
                "60",
                "stop");
    }

    public String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
    }

    @Override
    public void close() {
        if (Files.exists(dir.resolve("data/postmaster.pid"))) {
            stop();
        }
        ServerUnderTest.deleteTree(dir);
    }

    private void asOwner(String... command) {
        List<String> full = new ArrayList<>();
        if (isRoot()) {
            full.addAll(List.of("setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"));
        }
        full.addAll(List.of(command));
        run(full.toArray(String[]::new));
    }

    private static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    private static void run(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(90, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
