package io.pgfleet.server.ha;

import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.server.agent.BackupStream;
import io.pgfleet.server.agent.BackupStream.Copied;
import io.pgfleet.server.agent.InstanceRuntime;
import io.pgfleet.server.agent.ReplicaAgent;
import io.pgfleet.server.catalog.CatalogRows.DatabaseRow;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.catalog.JdbcDatabaseRepository;
import io.pgfleet.server.config.PgfleetProperties;
import io.pgfleet.server.fleet.HostCalls;
import io.pgfleet.server.tasks.InstanceRuntimes;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.springframework.stereotype.Component;

/**
 * A copy of a node's primary into a new instance's data directory on another host: pg_basebackup
 * where this host's PostgreSQL has it, otherwise pgfleet's own base backup ({@link BackupStream}),
 * asked of the primary's host over its host-to-host route and signed with the fleet's key. Either copy
 * is bracketed by the stream's marker, so a copy cut off by a crash is wiped and made again.
 */
@Component
public class ReplicaClone {
    /** The primary's host serves its base backup here; only a call signed with the fleet's key is answered. */
    public static final String ROUTE = "/fleet/v1/instances/{instanceId}/base-backup";
    /** How old a signed request may be: a signature seen on the wire cannot be replayed later. */
    public static final Duration SIGNATURE_VALIDITY = Duration.ofMinutes(2);

    private final HaRepository repo;
    private final JdbcDatabaseRepository databases;
    private final InstanceRuntimes runtimes;
    private final BackupStream stream;
    private final ReplicaAgent replicas;
    private final Replication replication;
    private final HostCalls hostCalls;
    private final String hostId;

    public ReplicaClone(
            HaRepository repo,
            JdbcDatabaseRepository databases,
            InstanceRuntimes runtimes,
            BackupStream stream,
            ReplicaAgent replicas,
            Replication replication,
            HostCalls hostCalls,
            PgfleetProperties properties) {
        this.repo = repo;
        this.databases = databases;
        this.runtimes = runtimes;
        this.stream = stream;
        this.replicas = replicas;
        this.replication = replication;
        this.hostCalls = hostCalls;
        this.hostId = properties.hostId();
    }

    /** Whether the copy of {@code target} is finished (a data directory, no copy under way). */
    public boolean isCopied(InstanceRuntime target) {
        return stream.isCopied(target);
    }

    /** Whether copies of PostgreSQL {@code version} on this host are made with pg_basebackup. */
    public boolean usesPgBaseBackup(String version) {
        return replicas.has(version, "pg_basebackup");
    }

    /**
     * CloneFromPrimary: copies {@code source} (a primary) into {@code target}'s data directory. Returns
     * what the task log says of it: which way, how much, how long.
     */
    public String copy(DatabaseRow db, InstanceRow source, InstanceRuntime target, boolean pgBaseBackup) {
        return copy(db, source, target, pgBaseBackup, () -> {});
    }

    /** The same; {@code finish} runs on the finished copy before it counts as finished (a crash before: copied again). */
    public String copy(
            DatabaseRow db, InstanceRow source, InstanceRuntime target, boolean pgBaseBackup, Runnable finish) {
        long started = System.nanoTime();
        stream.beginCopy(target);
        String how;
        if (pgBaseBackup) {
            replicas.baseBackup(
                    target, replication.replicationPassword(db), replication.address(source.hostId()), source.port());
            how = "with pg_basebackup";
        } else {
            Copied copied = fetch(source, target);
            how = "with the low-level backup API (pg_backup_start/pg_backup_stop, " + copied.files() + " files, "
                    + copied.bytes() / (1024 * 1024) + " MiB streamed from " + source.hostId() + ", end "
                    + copied.endLsn() + ")";
        }
        finish.run();
        stream.endCopy(target);
        return how + " in " + (System.nanoTime() - started) / 1_000_000 + " ms";
    }

    private Copied fetch(InstanceRow source, InstanceRuntime target) {
        String label = "pgfleet clone of " + source.nodeName() + " for " + target.id();
        String pathAndQuery = ROUTE.replace("{instanceId}", source.id()) + "?label="
                + URLEncoder.encode(label, StandardCharsets.UTF_8) + "&at=" + System.currentTimeMillis();
        try (InputStream in = hostCalls.openSigned(source.hostId(), pathAndQuery)) {
            return stream.receive(target, in);
        } catch (IOException e) {
            throw new UncheckedIOException(target.subject() + ": closing the base backup stream", e);
        }
    }

    /**
     * The primary's side: the instance a base backup is asked of, which must be a primary on this host.
     * Its refusals come before the stream's first byte, as problems.
     */
    public InstanceRuntime source(String instanceId) {
        InstanceRow instance =
                repo.find(instanceId).orElseThrow(() -> PgfleetException.notFound("instance " + instanceId));
        if (!instance.hostId().equals(hostId)) {
            throw new PgfleetException(
                    ErrorCode.INVALID_STATE,
                    "instance " + instanceId + " runs on " + instance.hostId() + ", not on " + hostId);
        }
        if (instance.isReplica()) {
            throw new PgfleetException(
                    ErrorCode.INVALID_STATE, "instance " + instanceId + " is a replica; copies are made of a primary");
        }
        DatabaseRow db = databases
                .findByUuid(instance.databaseUuid())
                .orElseThrow(() -> PgfleetException.notFound("instance " + instanceId));
        return runtimes.of(db, instance);
    }

    /** Streams the base backup of {@code source} (from {@link #source}) to {@code out}. */
    public Copied serve(InstanceRuntime source, String label, OutputStream out) {
        return stream.send(source, label, out);
    }
}
