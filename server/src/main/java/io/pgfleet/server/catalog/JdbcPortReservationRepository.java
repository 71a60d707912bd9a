package io.pgfleet.server.catalog;

import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/** Port reservations; the primary key (host_id, port) is what makes a port unique per host. */
@Repository
public class JdbcPortReservationRepository {
    /** Who holds a port: the instance, its database, node and tenant, for a 409 that names the holder. */
    public record Holder(String instanceId, String databaseId, String nodeName, String purpose, String tenantId) {
        public String describe() {
            return purpose + " of instance " + nodeName + " of database " + databaseId;
        }

        /**
         * Why {@code port} cannot be had, as {@code tenant} may read it: the holder is named only to its own
         * tenant; to another, "port N is reserved on host H" and nothing more.
         */
        public String conflict(String tenant, int port, String hostId) {
            return tenant.equals(tenantId)
                    ? "port " + port + " on " + hostId + " is reserved by the " + describe()
                    : "port " + port + " is reserved on host " + hostId;
        }
    }

    private final JdbcClient jdbc;

    public JdbcPortReservationRepository(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    public Set<Integer> reservedPorts(String hostId) {
        return new HashSet<>(jdbc.sql("select port from port_reservations where host_id = ?")
                .param(hostId)
                .query(Integer.class)
                .list());
    }

    public Optional<Holder> holder(String hostId, int port) {
        return jdbc.sql("""
                select r.instance_id, d.id, i.node_name, r.purpose, d.tenant_id
                from port_reservations r join instances i on i.id = r.instance_id join databases d on d.uuid = i.database_uuid
                where r.host_id = ? and r.port = ?""")
                .params(hostId, port)
                .query((rs, n) ->
                        new Holder(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5)))
                .optional();
    }

    /** Inserts the reservation; false when the port is already held (the caller names the holder). */
    public boolean reserve(String hostId, int port, String instanceId, String purpose) {
        return jdbc.sql(
                                "insert into port_reservations (host_id, port, instance_id, purpose) values (?, ?, ?, ?) on conflict do nothing")
                        .params(hostId, port, instanceId, purpose)
                        .update()
                == 1;
    }

    /** Frees one port an instance held (after a port change, or when its pooler is switched off). */
    public void release(String hostId, int port, String instanceId) {
        jdbc.sql("delete from port_reservations where host_id = ? and port = ? and instance_id = ?")
                .params(hostId, port, instanceId)
                .update();
    }

    /** Every port one instance holds (its Postgres port, its pooler's, one reserved for a port change). */
    public Set<Integer> heldBy(String hostId, String instanceId) {
        return new HashSet<>(jdbc.sql("select port from port_reservations where host_id = ? and instance_id = ?")
                .params(hostId, instanceId)
                .query(Integer.class)
                .list());
    }

    /** Serializes port choices on one host (two creates must not pick the same free port). */
    public void lockHost(String hostId) {
        jdbc.sql("select host_id from hosts where host_id = ? for update")
                .param(hostId)
                .query(String.class)
                .optional();
    }
}
