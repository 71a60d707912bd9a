package io.pgfleet.server.catalog;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/** Tenants: who owns databases and keys. */
@Repository
public class JdbcTenantRepository {
    public static final UUID DEFAULT_TENANT = UUID.fromString("00000000-0000-0000-0000-000000000001");

    /** A tenant as stored. */
    public record TenantRow(UUID id, String name, Instant createdAt) {}

    private final JdbcClient jdbc;

    public JdbcTenantRepository(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    public void insert(TenantRow row) {
        jdbc.sql("insert into tenants (id, name) values (?, ?)")
                .params(row.id(), row.name())
                .update();
    }

    public Optional<TenantRow> find(UUID id) {
        return jdbc.sql("select * from tenants where id = ?")
                .param(id)
                .query(this::map)
                .optional();
    }

    public Optional<TenantRow> findByName(String name) {
        return jdbc.sql("select * from tenants where name = ?")
                .param(name)
                .query(this::map)
                .optional();
    }

    public List<TenantRow> list() {
        return jdbc.sql("select * from tenants order by name").query(this::map).list();
    }

    public int delete(UUID id) {
        return jdbc.sql("delete from tenants where id = ?").param(id).update();
    }

    private TenantRow map(java.sql.ResultSet rs, int n) throws java.sql.SQLException {
        return new TenantRow(
                rs.getObject("id", UUID.class),
                rs.getString("name"),
                rs.getTimestamp("created_at").toInstant());
    }
}
