package io.pgfleet.server.catalog;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/**
 * Instances whose storage cannot be written (a full disk, a read-only mount): one row each while the
 * problem lasts. Every host records its own instances, so any host can answer for the whole fleet.
 */
@Repository
public class JdbcStorageRepository {
    private final JdbcClient jdbc;

    /**
     * What the last probe of an instance's directories found.
     *
     * @param problem {@code no_space}, {@code quota_exceeded}, {@code read_only}, {@code permission_denied}
     *     or {@code io_error}
     * @param since when the problem was first seen (kept while it lasts, whatever its message)
     */
    public record StorageProblemRow(
            String instanceId, String problem, String message, String directory, Instant since) {}

    public JdbcStorageRepository(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /**
     * Records a problem; returns whether it is new (no row before, or another kind of problem), so the
     * caller writes one event when it starts, not one per probe.
     */
    public boolean record(String instanceId, String problem, String message, String directory) {
        Optional<StorageProblemRow> before = find(instanceId);
        if (before.isPresent() && before.get().problem().equals(problem)) {
            return false;
        }
        jdbc.sql("""
                insert into instance_storage (instance_id, problem, message, directory) values (?, ?, ?, ?)
                on conflict (instance_id) do update
                    set problem = excluded.problem, message = excluded.message, directory = excluded.directory,
                        since = now()""").params(instanceId, problem, message, directory).update();
        return true;
    }

    /** The problem is over; returns the row that was there, if any. */
    public Optional<StorageProblemRow> clear(String instanceId) {
        return jdbc.sql("delete from instance_storage where instance_id = ? returning *")
                .param(instanceId)
                .query(JdbcStorageRepository::map)
                .optional();
    }

    public Optional<StorageProblemRow> find(String instanceId) {
        return jdbc.sql("select * from instance_storage where instance_id = ?")
                .param(instanceId)
                .query(JdbcStorageRepository::map)
                .optional();
    }

    /** The instances of one host that have a problem (usually none). */
    public List<StorageProblemRow> byHost(String hostId) {
        return jdbc.sql("""
                select s.* from instance_storage s join instances i on i.id = s.instance_id
                where i.host_id = ?""").param(hostId).query(JdbcStorageRepository::map).list();
    }

    /** Every problem of the fleet: a short list, read whole for a page of databases. */
    public List<StorageProblemRow> all() {
        return jdbc.sql("select * from instance_storage")
                .query(JdbcStorageRepository::map)
                .list();
    }

    private static StorageProblemRow map(java.sql.ResultSet rs, int n) throws java.sql.SQLException {
        return new StorageProblemRow(
                rs.getString("instance_id"),
                rs.getString("problem"),
                rs.getString("message"),
                rs.getString("directory"),
                rs.getTimestamp("since").toInstant());
    }
}
