package io.pgfleet.server.agent;

import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.core.Secret;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.springframework.stereotype.Component;

/**
 * The host-side work of a replica, on the replica's own host and as its OS user: CloneFromPrimary
 * (pg_basebackup over its slot), MarkStandby, RewindToPrimary (pg_rewind), and reading where a
 * stopped server's WAL ended. The primary's address comes from the task layer.
 */
@Component
public class ReplicaAgent {
    private static final Duration CLONE_TIMEOUT = Duration.ofMinutes(30);
    private final HostLayout layout;
    private final PostgresDistribution distribution;
    private final TenantOsUser osUsers;
    private final InstanceAgent agent;

    public ReplicaAgent(
            HostLayout layout, PostgresDistribution distribution, TenantOsUser osUsers, InstanceAgent agent) {
        this.layout = layout;
        this.distribution = distribution;
        this.osUsers = osUsers;
        this.agent = agent;
    }

    private InstancePaths paths(InstanceRuntime instance) {
        return new InstancePaths(layout.instanceDir(instance.id()));
    }

    /** Whether this host's PostgreSQL {@code version} has {@code program} (pg_basebackup, pg_rewind). */
    public boolean has(String version, String program) {
        return Files.isExecutable(distribution.binDir(version).resolve(program));
    }

    private Path bin(InstanceRuntime instance, String program) {
        Path path = distribution.binDir(instance.postgresVersion()).resolve(program);
        if (!Files.isExecutable(path)) {
            throw new PgfleetException(
                    ErrorCode.INVALID_STATE,
                    "PostgreSQL " + instance.postgresVersion() + " on this host has no " + program
                            + "; start pgfleet with --pg-bin-dir of a full installation");
        }
        return path;
    }

    /** The walreceiver's password file (the replication role's password), the instance user's alone. */
    public void writePassfile(InstanceRuntime instance, Secret password) {
        OsAccount account = osUsers.of(instance);
        account.createDirectory(paths(instance).dir(), "rwx------");
        String escaped = password.value().replace("\\", "\\\\").replace(":", "\\:");
        account.writeFile(
                agent.passfile(instance), "*:*:*:" + StreamingSettings.ROLE + ":" + escaped + "\n", "rw-------");
    }

    /** Whether a finished copy (or data directory) is in place. */
    public boolean hasData(InstanceRuntime instance) {
        return Files.exists(paths(instance).data().resolve("PG_VERSION"))
                && Files.exists(paths(instance).data().resolve("global").resolve("pg_control"));
    }

    /**
     * CloneFromPrimary: pg_basebackup from the primary at {@code host:port} over the replica's slot,
     * WAL streamed alongside. A half-made copy of an interrupted clone is removed first.
     */
    public void baseBackup(InstanceRuntime replica, Secret replicationPassword, String host, int port) {
        OsAccount account = osUsers.of(replica);
        InstancePaths paths = paths(replica);
        writePassfile(replica, replicationPassword);
        account.createDirectory(paths.logDir(), "rwx------");
        account.createDirectory(paths.socketDir(), "rwx------");
        removeData(replica);
        List<String> cmd = new ArrayList<>(account.commandPrefix());
        cmd.addAll(List.of(
                bin(replica, "pg_basebackup").toString(),
                "-h",
                host,
                "-p",
                Integer.toString(port),
                "-U",
                StreamingSettings.ROLE,
                "-D",
                paths.data().toString(),
                "-X",
                "stream",
                "-S",
                replica.streaming().slotName(),
                "-c",
                "fast",
                "-w"));
        HostCommand.Result result = HostCommand.run(
                cmd, paths.dir(), Map.of("PGPASSFILE", agent.passfile(replica).toString()), CLONE_TIMEOUT);
        if (!result.succeeded()) {
            throw new PgfleetException(
                    ErrorCode.INTERNAL,
                    replica.subject() + ": pg_basebackup from " + host + ":" + port + " failed (exit "
                            + result.exitCode() + "): " + result.lastLines(3));
        }
    }

    /** MarkStandby: the server starts as a replica (standby.signal). */
    public void markStandby(InstanceRuntime instance) {
        osUsers.of(instance).writeFile(paths(instance).data().resolve("standby.signal"), "", "rw-------");
    }

    /**
     * RewindToPrimary: pg_rewind from the primary at {@code host:port} (crash recovery first when the
     * server died). Returns what pg_rewind said; throws when it failed, so the caller clones again.
     */
    public String rewind(InstanceRuntime instance, Secret superuserPassword, String host, int port) {
        OsAccount account = osUsers.of(instance);
        List<String> cmd = new ArrayList<>(account.commandPrefix());
        cmd.addAll(List.of(
                bin(instance, "pg_rewind").toString(),
                "-D",
                paths(instance).data().toString(),
                "--source-server=host=" + host + " port=" + port + " user=postgres dbname=postgres connect_timeout=5"));
        HostCommand.Result result = HostCommand.run(
                cmd, paths(instance).dir(), Map.of("PGPASSWORD", superuserPassword.value()), CLONE_TIMEOUT);
        if (!result.succeeded()) {
            throw new PgfleetException(
                    ErrorCode.INTERNAL, instance.subject() + ": pg_rewind failed: " + result.lastLines(3));
        }
        return result.output().strip().replace('\n', ' ');
    }

    /** The "Latest checkpoint location" of a stopped server: where a clean shutdown ended its WAL. */
    public String checkpointLsn(InstanceRuntime instance) {
        List<String> cmd = new ArrayList<>(osUsers.of(instance).commandPrefix());
        cmd.addAll(List.of(
                bin(instance, "pg_controldata").toString(),
                "-D",
                paths(instance).data().toString()));
        HostCommand.Result result = HostCommand.run(cmd, paths(instance).dir(), Map.of(), Duration.ofSeconds(30));
        for (String line : result.output().split("\n")) {
            if (line.startsWith("Latest checkpoint location:")) {
                return line.substring(line.indexOf(':') + 1).trim();
            }
        }
        throw new PgfleetException(
                ErrorCode.INTERNAL,
                instance.subject() + ": pg_controldata gave no checkpoint location: " + result.lastLines(3));
    }

    public void removeData(InstanceRuntime instance) {
        try {
            PostgresDistribution.deleteTree(paths(instance).data());
        } catch (IOException e) {
            throw new UncheckedIOException("removing " + paths(instance).data(), e);
        }
    }
}
