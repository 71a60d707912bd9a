package io.pgfleet.server.ha;

import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * How far each replica is behind its primary, as the primary's pg_stat_replication says (one short
 * query per replicated node; a primary that does not answer gives no numbers, not an error).
 */
@Component
public class ReplicationStatus {
    private static final Logger log = LoggerFactory.getLogger(ReplicationStatus.class);
    private final Replication replication;

    public ReplicationStatus(Replication replication) {
        this.replication = replication;
    }

    /** One replica as its primary sees it. */
    public record ReplicaLag(String state, String syncState, Long lagBytes, Double lagSeconds) {}

    /** Replica instance id to its lag, for the replicated nodes among {@code instances}. */
    public Map<String, ReplicaLag> of(List<InstanceRow> instances) {
        Map<String, ReplicaLag> result = new HashMap<>();
        for (InstanceRow primary : instances) {
            if (primary.isReplica()) {
                continue;
            }
            Map<String, InstanceRow> bySlot = new HashMap<>();
            instances.stream()
                    .filter(i -> i.isReplica() && i.nodeName().equals(primary.nodeName()))
                    .forEach(i -> bySlot.put(Replication.slotName(i), i));
            if (bySlot.isEmpty()) {
                continue;
            }
            try (Connection c = replication.connect(primary, Duration.ofSeconds(1));
                    Statement st = c.createStatement()) {
                st.setQueryTimeout(2);
                try (ResultSet rs = st.executeQuery("""
                        SELECT application_name, state, sync_state,
                               pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint,
                               extract(epoch FROM replay_lag)::float8
                        FROM pg_stat_replication""")) {
                    while (rs.next()) {
                        InstanceRow replica = bySlot.get(rs.getString(1));
                        if (replica != null) {
                            Object seconds = rs.getObject(5);
                            result.put(
                                    replica.id(),
                                    new ReplicaLag(
                                            rs.getString(2),
                                            rs.getString(3),
                                            (Long) rs.getObject(4),
                                            seconds == null ? 0.0 : ((Number) seconds).doubleValue()));
                        }
                    }
                }
            } catch (SQLException e) {
                // The view shows the replicas without lag this time; said at debug, a GET is not an incident.
                log.debug("node {}: no replication figures from its primary: {}", primary.nodeName(), e.getMessage());
            }
        }
        return result;
    }
}
