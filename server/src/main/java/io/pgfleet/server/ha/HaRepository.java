package io.pgfleet.server.ha;

import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.catalog.JdbcInstanceRepository;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/** The catalog rows of replication: roles, demotion, the replication password and node transitions. */
@Repository
public class HaRepository {
    private final JdbcClient jdbc;
    private final JdbcInstanceRepository instances;

    public HaRepository(JdbcClient jdbc, JdbcInstanceRepository instances) {
        this.jdbc = jdbc;
        this.instances = instances;
    }

    /** What a switchover decided; every host running a part of it reads the same. */
    public record Transition(
            UUID taskId,
            UUID databaseUuid,
            String nodeName,
            String kind,
            String oldPrimaryId,
            String candidateId,
            String shutdownLsn) {}

    public List<InstanceRow> node(UUID databaseUuid, String nodeName) {
        return instances.byDatabase(databaseUuid).stream()
                .filter(i -> i.nodeName().equals(nodeName))
                .toList();
    }

    public List<InstanceRow> allOf(UUID databaseUuid) {
        return instances.byDatabase(databaseUuid);
    }

    public Optional<InstanceRow> find(String instanceId) {
        return instanceId == null ? Optional.empty() : instances.find(instanceId);
    }

    public Optional<InstanceRow> primaryOf(UUID databaseUuid, String nodeName) {
        return node(databaseUuid, nodeName).stream().filter(i -> !i.isReplica()).findFirst();
    }

    public Optional<byte[]> replicationPassword(UUID databaseUuid) {
        return jdbc.sql("select replication_password_enc from databases where uuid = ?")
                .param(databaseUuid)
                .query((rs, n) -> Optional.ofNullable(rs.getBytes(1)))
                .optional()
                .flatMap(b -> b);
    }

    /** Stores the password unless another host stored one first; the stored one wins. */
    public void storeReplicationPasswordIfAbsent(UUID databaseUuid, byte[] encrypted) {
        jdbc.sql(
                        "update databases set replication_password_enc = ? where uuid = ? and replication_password_enc is null")
                .params(encrypted, databaseUuid)
                .update();
    }

    public void insertTransition(Transition t) {
        jdbc.sql("""
                insert into node_transitions (task_id, database_uuid, node_name, kind, old_primary_id, candidate_id)
                values (?, ?, ?, ?, ?, ?)""")
                .params(t.taskId(), t.databaseUuid(), t.nodeName(), t.kind(), t.oldPrimaryId(), t.candidateId())
                .update();
    }

    /** Inserts the transition unless the task has one for that node already (a resumed update). */
    public void insertTransitionIfAbsent(Transition t) {
        jdbc.sql("""
                insert into node_transitions (task_id, database_uuid, node_name, kind, old_primary_id, candidate_id)
                values (?, ?, ?, ?, ?, ?) on conflict (task_id, node_name) do nothing""")
                .params(t.taskId(), t.databaseUuid(), t.nodeName(), t.kind(), t.oldPrimaryId(), t.candidateId())
                .update();
    }

    /** The transition of a switchover or failover task (one node). */
    public Optional<Transition> transition(UUID taskId) {
        return transition(taskId, null);
    }

    /** The transition of {@code node} in the task (null: the task's only one). */
    public Optional<Transition> transition(UUID taskId, String node) {
        return jdbc.sql("select * from node_transitions where task_id = ? and (?::text is null or node_name = ?)")
                .params(taskId, node, node)
                .query((rs, n) -> new Transition(
                        rs.getObject("task_id", UUID.class),
                        rs.getObject("database_uuid", UUID.class),
                        rs.getString("node_name"),
                        rs.getString("kind"),
                        rs.getString("old_primary_id"),
                        rs.getString("candidate_id"),
                        rs.getString("shutdown_lsn")))
                .optional();
    }

    public void setCandidate(UUID taskId, String node, String candidateId) {
        jdbc.sql("update node_transitions set candidate_id = ? where task_id = ? and node_name = ?")
                .params(candidateId, taskId, node)
                .update();
    }

    public void setShutdownLsn(UUID taskId, String node, String lsn) {
        jdbc.sql("update node_transitions set shutdown_lsn = ? where task_id = ? and node_name = ?")
                .params(lsn, taskId, node)
                .update();
    }

    /** The old primary becomes a replica that must rejoin: it is never started as a primary again. */
    public void fence(String oldPrimaryId) {
        jdbc.sql("update instances set role = 'replica', needs_rejoin = true, updated_at = now()"
                        + " where id = ? and role = 'primary'")
                .param(oldPrimaryId)
                .update();
    }

    /** The promoted replica is the node's primary (the unique index refuses a second one). */
    public void makePrimary(String instanceId) {
        jdbc.sql("update instances set role = 'primary', needs_rejoin = false, updated_at = now() where id = ?")
                .param(instanceId)
                .update();
    }

    /** Primaries of nodes that have at least one replica: what automatic failover watches. */
    public List<InstanceRow> replicatedPrimaries() {
        List<String> ids = jdbc.sql("select p.id from instances p where p.role = 'primary' and exists"
                        + " (select 1 from instances r where r.database_uuid = p.database_uuid"
                        + " and r.node_name = p.node_name and r.role = 'replica')")
                .query(String.class)
                .list();
        return ids.stream().map(instances::find).flatMap(Optional::stream).toList();
    }

    /** A rejoined instance streams from the primary again. */
    /** A replica left behind by a failover (its host silent): it rejoins the new primary on its return. */
    public void markToRejoin(String replicaId) {
        jdbc.sql("update instances set needs_rejoin = true, updated_at = now() where id = ? and role = 'replica'")
                .param(replicaId)
                .update();
    }

    public void rejoined(String instanceId) {
        jdbc.sql("update instances set role = 'replica', needs_rejoin = false, updated_at = now()"
                        + " where id = ? and needs_rejoin")
                .param(instanceId)
                .update();
    }
}
