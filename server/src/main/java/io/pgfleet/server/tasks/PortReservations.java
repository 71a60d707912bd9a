package io.pgfleet.server.tasks;

import io.pgfleet.core.DatabaseSpec;
import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.InstanceIds;
import io.pgfleet.core.InstanceState;
import io.pgfleet.core.NodeSpec;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.core.PortRange;
import io.pgfleet.core.Secret;
import io.pgfleet.server.catalog.CatalogRows.DatabaseRow;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.catalog.JdbcInstanceRepository;
import io.pgfleet.server.catalog.JdbcPortReservationRepository;
import io.pgfleet.server.config.PgfleetProperties;
import io.pgfleet.server.security.SecretBox;
import java.util.List;
import org.springframework.stereotype.Component;

/**
 * The one place a port is reserved (DESIGN.md §4, Ports): a port someone asked for is refused with
 * 409 when another instance or pooler holds it or another process is bound to it; an automatic one
 * is the first of the host's range that neither holds. Call inside the intake's transaction, after
 * {@link JdbcPortReservationRepository#lockHost}, so two requests cannot both take a port.
 */
@Component
public class PortReservations {
    private final JdbcPortReservationRepository ports;
    private final JdbcInstanceRepository instances;
    private final SecretBox secrets;
    private final PortRange range;
    private final io.pgfleet.server.fleet.Placement placement;

    public PortReservations(
            JdbcPortReservationRepository ports,
            JdbcInstanceRepository instances,
            SecretBox secrets,
            PgfleetProperties properties,
            io.pgfleet.server.fleet.Placement placement) {
        this.placement = placement;
        this.ports = ports;
        this.instances = instances;
        this.secrets = secrets;
        this.range = PortRange.parse(properties.portRange());
    }

    /** This host's own range (from {@code --port-range}); {@link io.pgfleet.server.fleet.Placement} has the others'. */
    public PortRange range() {
        return range;
    }

    /**
     * Refuses {@code port} with 409 when another instance or pooler holds it or a process is bound to
     * it. {@code subject} names who asks in the message (null: the port alone); {@code unchanged} says
     * what stays as it was when refused (null: nothing to say). The holder is named only to its own
     * {@code tenant}; another tenant reads "port N is reserved on host H".
     */
    public void checkRequested(String tenant, String hostId, int port, String subject, String unchanged) {
        String who = subject == null ? "" : subject + ": ";
        String what = who + "port " + port + " on " + hostId;
        ports.holder(hostId, port).ifPresent(holder -> {
            throw new PgfleetException(
                    ErrorCode.PORT_CONFLICT,
                    who + holder.conflict(tenant, port, hostId) + (unchanged == null ? "" : "; " + unchanged));
        });
        if (!placement.portProbe(hostId).test(port)) {
            throw new PgfleetException(
                    ErrorCode.PORT_CONFLICT,
                    what + " is in use by another process; "
                            + (unchanged == null
                                    ? "choose another port or leave it out to auto-assign"
                                    : unchanged + " and the spec is unchanged"));
        }
    }

    /** The first port of the host's range that nothing holds or is bound to; {@code purpose} names it. */
    public int firstFree(String hostId, String purpose) {
        PortRange hostRange = placement.portRange(hostId);
        return hostRange
                .firstFree(ports.reservedPorts(hostId), placement.portProbe(hostId))
                .orElseThrow(() -> new PgfleetException(
                        ErrorCode.PORT_CONFLICT,
                        "no free port left in " + hostId + "'s range " + hostRange
                                + ("pooler".equals(purpose) ? " for a pooler" : "")));
    }

    /** Checks the port as asked, then reserves it for the (existing) instance. */
    public int reserveRequested(
            String tenant,
            String hostId,
            int port,
            String instanceId,
            String purpose,
            String subject,
            String unchanged) {
        checkRequested(tenant, hostId, port, subject, unchanged);
        take(hostId, port, instanceId, purpose);
        return port;
    }

    /** Reserves the first free port of the host's range for the (existing) instance. */
    public int reserveFree(String hostId, String instanceId, String purpose) {
        int port = firstFree(hostId, purpose);
        take(hostId, port, instanceId, purpose);
        return port;
    }

    /** The reservation itself; the unique key decides between two requests that raced past the checks. */
    public void take(String hostId, int port, String instanceId, String purpose) {
        if (!ports.reserve(hostId, port, instanceId, purpose)) {
            throw new PgfleetException(
                    ErrorCode.PORT_CONFLICT,
                    "port " + port + " on " + hostId + " was just reserved by another request; retry");
        }
    }

    /**
     * One instance per host of the node: the primary on the first, replicas on the others. A replica is
     * a copy of its primary, so it shares the primary's superuser and pooler passwords.
     */
    public List<InstanceRow> reserveInstances(DatabaseRow db, DatabaseSpec spec, NodeSpec node) {
        List<InstanceRow> result = new java.util.ArrayList<>();
        for (String hostId : node.hostIds()) {
            result.add(reserveInstance(db, spec, node, hostId, result.isEmpty() ? null : result.get(0)));
        }
        return result;
    }

    /** A new replica of {@code node} on {@code hostId} (a host an update added to its host_ids). */
    public InstanceRow reserveReplica(
            DatabaseRow db, DatabaseSpec spec, NodeSpec node, String hostId, InstanceRow primary) {
        return reserveInstance(db, spec, node, hostId, primary);
    }

    /** A new instance of {@code node}: its row ({@code creating}) and its port, asked for or the first free one. */
    private InstanceRow reserveInstance(
            DatabaseRow db, DatabaseSpec spec, NodeSpec node, String hostId, InstanceRow primaryOfNode) {
        String instanceId = InstanceIds.newInstanceId(db.uuid(), node.name());
        Integer requested = spec.requestedPort(node);
        int port;
        if (requested != null) {
            checkRequested(db.tenantId(), hostId, requested, null, null);
            port = requested;
        } else {
            port = firstFree(hostId, "postgres");
        }
        instances.insert(new InstanceRow(
                instanceId,
                db.uuid(),
                node.name(),
                hostId,
                spec.nodeVersion(node),
                port,
                null,
                InstanceState.CREATING,
                false,
                null,
                primaryOfNode == null ? secrets.seal(Secret.generate()) : primaryOfNode.superuserPasswordEnc(),
                null,
                null,
                List.of(),
                primaryOfNode == null ? secrets.seal(Secret.generate()) : primaryOfNode.poolerPasswordEnc(),
                primaryOfNode == null ? InstanceRow.PRIMARY : InstanceRow.REPLICA,
                false));
        take(hostId, port, instanceId, "postgres");
        return instances.find(instanceId).orElseThrow();
    }

    /** A pooler port from the same host range and table as the instances' (DESIGN.md §4, Ports). */
    public void reservePoolerPort(InstanceRow instance) {
        if (instance.poolerPort() != null) {
            return;
        }
        int port = reserveFree(instance.hostId(), instance.id(), "pooler");
        instances.setPoolerPort(instance.id(), port);
        if (instance.poolerPasswordEnc() == null) {
            instances.setPoolerPassword(instance.id(), secrets.seal(Secret.generate()));
        }
    }
}
