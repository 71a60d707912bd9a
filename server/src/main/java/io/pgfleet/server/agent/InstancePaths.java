package io.pgfleet.server.agent;

import java.nio.file.Path;

/** Where one instance's files live: {@code instances/<id>/{data,log,run,pgbouncer}}. */
public record InstancePaths(Path dir) {
    public Path data() {
        return dir.resolve("data");
    }

    public Path logDir() {
        return dir.resolve("log");
    }

    public Path logFile() {
        return logDir().resolve("postgresql.log");
    }

    /** The Unix socket directory, inside the instance so two instances never share /tmp's. */
    public Path socketDir() {
        return dir.resolve("run");
    }

    /**
     * Whether the socket of {@code port} fits in the 107 bytes Linux allows a Unix socket path. With a
     * long home directory it does not, and Postgres would refuse to start; the instance is then reached
     * over TCP only.
     */
    public boolean socketPathFits(int port) {
        String socket = socketDir().resolve(".s.PGSQL." + port).toString();
        return socket.getBytes(java.nio.charset.StandardCharsets.UTF_8).length <= MAX_SOCKET_PATH_BYTES;
    }

    private static final int MAX_SOCKET_PATH_BYTES = 107;

    /** PgBouncer's directory: its configuration, auth file, log and PID file. */
    public Path pgbouncerDir() {
        return dir.resolve("pgbouncer");
    }

    /** Present while initdb runs: a data directory beside it is half made, whatever it holds. */
    public Path initdbMarker() {
        return dir.resolve("initdb.incomplete");
    }

    /** Whether initdb finished here: PG_VERSION exists (initdb writes it early) and no run was cut off. */
    public boolean hasDataDirectory() {
        return java.nio.file.Files.exists(data().resolve("PG_VERSION")) && !java.nio.file.Files.exists(initdbMarker());
    }

    public Path pidFile() {
        return data().resolve("postmaster.pid");
    }
}
