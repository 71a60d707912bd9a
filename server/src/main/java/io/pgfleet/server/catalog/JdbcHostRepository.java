package io.pgfleet.server.catalog;

import io.pgfleet.core.PortRange;
import io.pgfleet.server.catalog.CatalogRows.HostRow;
import java.util.List;
import java.util.Optional;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/** Hosts running a pgfleet agent and their port ranges. */
@Repository
public class JdbcHostRepository {
    private final JdbcClient jdbc;

    public JdbcHostRepository(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    public void upsert(String hostId, PortRange range) {
        jdbc.sql("""
                insert into hosts (host_id, port_range_first, port_range_last) values (?, ?, ?)
                on conflict (host_id) do update set port_range_first = excluded.port_range_first,
                    port_range_last = excluded.port_range_last, last_seen_at = now()""").params(hostId, range.first(), range.last()).update();
    }

    public List<HostRow> list() {
        return jdbc.sql("select * from hosts order by host_id")
                .query(JdbcHostRepository::map)
                .list();
    }

    public Optional<HostRow> find(String hostId) {
        return jdbc.sql("select * from hosts where host_id = ?")
                .param(hostId)
                .query(JdbcHostRepository::map)
                .optional();
    }

    public List<String> ids() {
        return jdbc.sql("select host_id from hosts").query(String.class).list();
    }

    private static HostRow map(java.sql.ResultSet rs, int n) throws java.sql.SQLException {
        return new HostRow(
                rs.getString("host_id"),
                rs.getInt("port_range_first"),
                rs.getInt("port_range_last"),
                JdbcDatabaseRepository.instant(rs.getTimestamp("created_at")),
                JdbcDatabaseRepository.instant(rs.getTimestamp("last_seen_at")));
    }
}
