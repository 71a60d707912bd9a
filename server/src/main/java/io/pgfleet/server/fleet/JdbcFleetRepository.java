package io.pgfleet.server.fleet;

import io.pgfleet.server.catalog.CatalogRows.TaskRow;
import io.pgfleet.server.catalog.JdbcTaskRepository;
import java.sql.Array;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/** The fleet's rows: hosts' registration and heartbeats, the leader lease, task claims and task parts. */
@Repository
public class JdbcFleetRepository {
    private final JdbcClient jdbc;
    private final JdbcTaskRepository tasks;

    public JdbcFleetRepository(JdbcClient jdbc, JdbcTaskRepository tasks) {
        this.jdbc = jdbc;
        this.tasks = tasks;
    }

    /** What a host says about itself when it starts. */
    public record Registration(
            String hostId,
            String advertiseHost,
            String apiUrl,
            int portRangeFirst,
            int portRangeLast,
            List<String> postgresVersions,
            int cores,
            long memoryBytes,
            int maxInstances) {}

    // ---- hosts ----

    public void register(Registration r) {
        jdbc.sql("""
                insert into hosts (host_id, port_range_first, port_range_last, advertise_host, api_url,
                                   postgres_versions, cores, memory_bytes, max_instances, started_at, last_seen_at)
                values (?, ?, ?, ?, ?, ?, ?, ?, ?, now(), now())
                on conflict (host_id) do update set port_range_first = excluded.port_range_first,
                    port_range_last = excluded.port_range_last, advertise_host = excluded.advertise_host,
                    api_url = excluded.api_url, postgres_versions = excluded.postgres_versions,
                    cores = excluded.cores, memory_bytes = excluded.memory_bytes,
                    max_instances = excluded.max_instances, started_at = now(), last_seen_at = now()""")
                .params(
                        r.hostId(),
                        r.portRangeFirst(),
                        r.portRangeLast(),
                        r.advertiseHost(),
                        r.apiUrl(),
                        r.postgresVersions().toArray(String[]::new),
                        r.cores(),
                        r.memoryBytes(),
                        r.maxInstances())
                .update();
    }

    /** One heartbeat: a single UPDATE; returns the stored state (empty when the row is gone: removed). */
    public Optional<String> heartbeat(String hostId, String problem) {
        return jdbc.sql("update hosts set last_seen_at = now(), problem = ? where host_id = ? returning state")
                .params(problem, hostId)
                .query(String.class)
                .optional();
    }

    public void setState(String hostId, String state) {
        jdbc.sql("update hosts set state = ?, unreachable_epoch = null where host_id = ?")
                .params(state, hostId)
                .update();
    }

    public boolean setDraining(String hostId, boolean draining) {
        return jdbc.sql("update hosts set draining = ? where host_id = ?")
                        .params(draining, hostId)
                        .update()
                == 1;
    }

    public List<HostRecord> hosts() {
        return jdbc.sql(HOSTS + " order by h.host_id")
                .query(JdbcFleetRepository::host)
                .list();
    }

    public Optional<HostRecord> host(String hostId) {
        return jdbc.sql(HOSTS + " where h.host_id = ?")
                .param(hostId)
                .query(JdbcFleetRepository::host)
                .optional();
    }

    /** Removes an empty host; false when it still has instances (the caller said which). */
    public boolean removeIfEmpty(String hostId) {
        return jdbc.sql("""
                        delete from hosts h where host_id = ?
                          and not exists (select 1 from instances i where i.host_id = h.host_id)
                          and not exists (select 1 from port_reservations p where p.host_id = h.host_id)""").param(hostId).update() == 1;
    }

    private static final String HOSTS = """
            select h.*, (extract(epoch from now() - h.last_seen_at) * 1000)::bigint as millis_since_seen,
                   (select count(*) from instances i where i.host_id = h.host_id) as instance_count
            from hosts h""";

    private static HostRecord host(ResultSet rs, int n) throws SQLException {
        Array versions = rs.getArray("postgres_versions");
        return new HostRecord(
                rs.getString("host_id"),
                rs.getString("advertise_host"),
                rs.getString("api_url"),
                rs.getInt("port_range_first"),
                rs.getInt("port_range_last"),
                versions == null ? List.of() : Arrays.asList((String[]) versions.getArray()),
                (Integer) rs.getObject("cores"),
                (Long) rs.getObject("memory_bytes"),
                (Integer) rs.getObject("max_instances"),
                rs.getString("state"),
                rs.getString("problem"),
                rs.getBoolean("draining"),
                instant(rs.getTimestamp("created_at")),
                instant(rs.getTimestamp("started_at")),
                instant(rs.getTimestamp("last_seen_at")),
                rs.getLong("millis_since_seen"),
                rs.getInt("instance_count"));
    }

    // ---- fleet identity ----

    /** Records the fleet's key fingerprint if no host has yet (race-safe); returns the fleet's. */
    public String fleetFingerprint(String fingerprint, String hostId) {
        jdbc.sql("insert into fleet (id, key_fingerprint, created_by) values (1, ?, ?) on conflict (id) do nothing")
                .params(fingerprint, hostId)
                .update();
        return jdbc.sql("select key_fingerprint from fleet where id = 1")
                .query(String.class)
                .single();
    }

    // ---- leader lease ----

    /**
     * Takes the lease when it is free or expired (bumping the epoch) or renews it when this host holds
     * it. Returns the epoch held, or empty when another host holds a live lease.
     */
    public Optional<Long> acquireOrRenew(String hostId, Duration lease) {
        return jdbc.sql("""
                update fleet_leader set
                    epoch = case when host_id = ? and expires_at > now() then epoch else epoch + 1 end,
                    host_id = ?, expires_at = now() + make_interval(secs => ?)
                where id = 1 and (host_id = ? or expires_at <= now() or host_id is null)
                returning epoch""")
                .params(hostId, hostId, lease.toMillis() / 1000.0, hostId)
                .query(Long.class)
                .optional();
    }

    /**
     * Fencing: inside a transaction, locks the lease row (shared) if this host still holds it with this
     * epoch. While the lock is held no other host can take the lease, so the decisions written in the
     * same transaction are the leader's.
     */
    public boolean holdsLease(String hostId, long epoch) {
        return jdbc.sql("""
                        select 1 from fleet_leader
                        where id = 1 and host_id = ? and epoch = ? and expires_at > now() for share""")
                .params(hostId, epoch)
                .query(Integer.class)
                .optional()
                .isPresent();
    }

    public record Leader(String hostId, long epoch, Instant expiresAt) {}

    public Optional<Leader> leader() {
        return jdbc.sql("select host_id, epoch, expires_at from fleet_leader where id = 1 and host_id is not null")
                .query((rs, n) -> new Leader(rs.getString(1), rs.getLong(2), instant(rs.getTimestamp(3))))
                .optional();
    }

    /** Marks silent hosts unreachable, with the leader's epoch; returns their ids. */
    public List<String> markSilentUnreachable(String leaderId, Duration timeout, long epoch) {
        return jdbc.sql("""
                update hosts set state = 'unreachable', unreachable_epoch = ?
                where state <> 'unreachable' and host_id <> ?
                  and last_seen_at < now() - make_interval(secs => ?)
                returning host_id""")
                .params(epoch, leaderId, timeout.toMillis() / 1000.0)
                .query(String.class)
                .list();
    }

    /** Hosts declared unreachable whose instances may still need to be made unknown. */
    public List<String> unreachableHosts() {
        return jdbc.sql("select host_id from hosts where state = 'unreachable' for update")
                .query(String.class)
                .list();
    }

    public void setUnknownFrom(String instanceId, String state) {
        jdbc.sql("update instances set unknown_from = ? where id = ?")
                .params(state, instanceId)
                .update();
    }

    public Optional<String> unknownFrom(String instanceId) {
        return jdbc.sql("select unknown_from from instances where id = ? and unknown_from is not null")
                .param(instanceId)
                .query(String.class)
                .optional();
    }

    // ---- tasks ----

    /**
     * Due tasks this host may claim: database-wide ones (any host coordinates them) and the instance
     * tasks of its own instances.
     */
    public List<UUID> dueFor(String hostId, int limit) {
        return jdbc.sql("""
                select t.task_id from tasks t
                where t.status in ('pending', 'scheduled') and coalesce(t.scheduled_at, t.created_at) <= now()
                  and (t.instance_id is null
                       or exists (select 1 from instances i where i.id = t.instance_id and i.host_id = ?))
                order by coalesce(t.scheduled_at, t.created_at), t.created_at limit ?""")
                .params(hostId, limit)
                .query((rs, n) -> rs.getObject(1, UUID.class))
                .list();
    }

    public List<TaskRow> due(String hostId, int limit) {
        return dueFor(hostId, limit).stream()
                .map(tasks::find)
                .flatMap(Optional::stream)
                .toList();
    }

    public void stampClaim(UUID taskId, String hostId) {
        jdbc.sql("update tasks set claimed_by = ? where task_id = ?")
                .params(hostId, taskId)
                .update();
    }

    /** Whether a running task was claimed by this host (or by a pgfleet from before fleets). */
    public boolean claimedBy(UUID taskId, String hostId) {
        return jdbc.sql("select 1 from tasks where task_id = ? and (claimed_by = ? or claimed_by is null)")
                .params(taskId, hostId)
                .query(Integer.class)
                .optional()
                .isPresent();
    }

    // ---- task parts ----

    public record Part(UUID taskId, String hostId, int phase, String status, String error) {}

    /** Asks {@code hostId} to run phase {@code phase} of a task; a failed part of an earlier run is retried. */
    public void requestPart(UUID taskId, String hostId, int phase) {
        jdbc.sql("""
                insert into task_parts (task_id, host_id, phase, status) values (?, ?, ?, 'pending')
                on conflict (task_id, host_id, phase) do update set status = 'pending', error = null,
                    started_at = null, completed_at = null
                where task_parts.status in ('failed', 'canceled')""").params(taskId, hostId, phase).update();
    }

    public Optional<Part> part(UUID taskId, String hostId, int phase) {
        return jdbc.sql("select * from task_parts where task_id = ? and host_id = ? and phase = ?")
                .params(taskId, hostId, phase)
                .query(JdbcFleetRepository::part)
                .optional();
    }

    /** Claims this host's pending parts (each by one claimer only). */
    public List<Part> claimParts(String hostId, int limit) {
        return jdbc.sql("""
                update task_parts set status = 'running', started_at = clock_timestamp()
                where (task_id, host_id, phase) in (
                    select task_id, host_id, phase from task_parts
                    where host_id = ? and status = 'pending' limit ? for update skip locked)
                returning *""")
                .params(hostId, limit)
                .query(JdbcFleetRepository::part)
                .list();
    }

    public void finishPart(Part part, String status, String error) {
        jdbc.sql("""
                update task_parts set status = ?, error = ?, completed_at = clock_timestamp()
                where task_id = ? and host_id = ? and phase = ? and status in ('running', 'pending')""")
                .params(status, error, part.taskId(), part.hostId(), part.phase())
                .update();
    }

    /** Parts a previous run of this host left running: they run again (their steps are idempotent). */
    public int requeueRunningParts(String hostId) {
        return jdbc.sql("update task_parts set status = 'pending' where host_id = ? and status = 'running'")
                .param(hostId)
                .update();
    }

    private static Part part(ResultSet rs, int n) throws SQLException {
        return new Part(
                rs.getObject("task_id", UUID.class),
                rs.getString("host_id"),
                rs.getInt("phase"),
                rs.getString("status"),
                rs.getString("error"));
    }

    static Instant instant(Timestamp ts) {
        return ts == null ? null : ts.toInstant();
    }
}
