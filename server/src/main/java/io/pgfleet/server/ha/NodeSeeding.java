package io.pgfleet.server.ha;

import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.server.agent.InstanceAgent;
import io.pgfleet.server.agent.InstanceRuntime;
import io.pgfleet.server.agent.PostgresServer;
import io.pgfleet.server.agent.ReplicaAgent;
import io.pgfleet.server.catalog.CatalogRows.DatabaseRow;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.tasks.NodeSteps;
import io.pgfleet.server.tasks.Step;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.springframework.stereotype.Component;

/**
 * {@code source_node}: a node added by an update starts from a copy of another node's primary instead
 * of an empty initdb. SeedFromNode (a slot on the source keeps the WAL of the copy, pgfleet's own base
 * backup with that WAL, standby.signal, the new node's configuration), PromoteSeed (started as a
 * standby without a primary, it replays the copy's WAL to its consistent end and is promoted onto a
 * timeline of its own; then its superuser takes the new instance's password), DropSeedSlot. The node is
 * independent afterwards: nothing streams between the two.
 */
@Component
class NodeSeeding {
    private final HaRepository repo;
    private final Replication replication;
    private final ReplicaClone clones;
    private final ReplicaSteps lanes;
    private final InstanceAgent agent;
    private final ReplicaAgent replicas;

    NodeSeeding(
            HaRepository repo,
            Replication replication,
            ReplicaClone clones,
            ReplicaSteps lanes,
            InstanceAgent agent,
            ReplicaAgent replicas) {
        this.repo = repo;
        this.replication = replication;
        this.clones = clones;
        this.lanes = lanes;
        this.agent = agent;
        this.replicas = replicas;
    }

    List<Step> steps(DatabaseRow db, InstanceRow instance, String sourceNode) {
        String lane = NodeSteps.lane(db, instance);
        String slot = Replication.slotName(instance);
        Step seed = Step.onNode(
                        "SeedFromNode",
                        lane,
                        instance.id(),
                        () -> "node " + lane + ": seeding from node " + sourceNode + "'s primary on "
                                + lanes.primaryOf(db, sourceNode).hostId(),
                        ctx -> {
                            InstanceRow source = lanes.primaryOf(db, sourceNode);
                            InstanceRuntime rt = lanes.runtime(db, instance);
                            // The slot keeps the WAL from before the backup's start until the copy has it.
                            replication.ensureSlot(db, source, instance);
                            String how = clones.copy(db, source, rt, false, () -> {
                                replicas.markStandby(rt);
                                agent.writeConfiguration(rt, db.spec());
                            });
                            ctx.log(
                                    "node " + lane + ": copied node " + sourceNode + " " + how,
                                    Map.of("node", lane, "step", "SeedFromNode", "source_node", sourceNode));
                        })
                .doneWhen(ctx -> clones.isCopied(lanes.runtime(db, instance)));
        Step promote = Step.onNode(
                        "PromoteSeed",
                        lane,
                        instance.id(),
                        () -> "node " + lane + ": replaying the copy's WAL, then promoting it onto a timeline of"
                                + " its own",
                        ctx -> promote(ctx, db, instance, sourceNode, lane))
                .doneWhen(ctx -> {
                    InstanceRuntime rt = lanes.runtime(db, instance);
                    return agent.isRunning(rt) && agent.answers(rt);
                });
        Step dropSlot = Step.onNode("DropSeedSlot", lane, instance.id(), null, ctx -> {
            InstanceRow source = lanes.primaryOf(db, sourceNode);
            try (Connection c = replication.connect(source, Replication.WORKFLOW_CONNECT);
                    PreparedStatement ps = c.prepareStatement("SELECT pg_drop_replication_slot(slot_name)"
                            + " FROM pg_replication_slots WHERE slot_name = ?")) {
                ps.setString(1, slot);
                ps.execute();
            } catch (SQLException e) {
                throw Replication.failure(source, db.id(), "dropping the seed slot " + slot, e);
            }
        });
        return List.of(seed, promote, dropSlot);
    }

    /**
     * Started with the source's superuser password (the copy has it), promoted, and the superuser given
     * the new instance's own password. Redone, it finds the instance answering to its own password: done.
     */
    private void promote(
            io.pgfleet.server.tasks.TaskContext ctx,
            DatabaseRow db,
            InstanceRow instance,
            String sourceNode,
            String lane) {
        InstanceRuntime own = lanes.runtime(db, instance);
        if (agent.isRunning(own) && agent.answers(own)) {
            return; // promoted and given its own password already (the step redone)
        }
        InstanceRow source = lanes.primaryOf(db, sourceNode);
        InstanceRuntime asCopy = new InstanceRuntime(
                own.id(),
                own.nodeName(),
                own.databaseId(),
                own.postgresVersion(),
                own.port(),
                own.poolerPort(),
                replication.superuserPassword(source),
                own.poolerPassword(),
                own.tenantId(),
                own.streaming());
        agent.start(asCopy);
        try (Connection c = PostgresServer.connect(
                        own.port(), "postgres", asCopy.superuserPassword(), Duration.ofSeconds(10));
                Statement st = c.createStatement()) {
            boolean inRecovery;
            try (ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
                rs.next();
                inRecovery = rs.getBoolean(1);
            }
            if (inRecovery) {
                try (ResultSet rs = st.executeQuery("SELECT pg_promote(true, 60)")) {
                    rs.next();
                    if (!rs.getBoolean(1)) {
                        throw new PgfleetException(
                                ErrorCode.INTERNAL, "node " + lane + " of " + db.id() + ": not promoted within 60 s");
                    }
                }
            }
            String timeline;
            try (ResultSet rs = st.executeQuery("SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)")) {
                rs.next();
                timeline = Long.toString(Long.parseLong(rs.getString(1), 16));
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT format('ALTER ROLE postgres PASSWORD %L', ?)")) {
                ps.setString(1, own.superuserPassword().value());
                String sql;
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    sql = rs.getString(1);
                }
                st.execute(sql);
            }
            ctx.log(
                    "node " + lane + ": promoted; a primary of its own (timeline " + timeline + "), seeded from node "
                            + sourceNode,
                    Map.of("node", lane, "step", "PromoteSeed", "timeline", timeline));
        } catch (SQLException e) {
            throw Replication.failure(instance, db.id(), "promoting the seeded copy", e);
        }
    }
}
