package io.pgfleet.server.agent;

import java.nio.file.Path;

/** Where one instance's files live: {@code instances/<id>/{data,log,run}}. */
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

    public Path pidFile() {
        return data().resolve("postmaster.pid");
    }
}
