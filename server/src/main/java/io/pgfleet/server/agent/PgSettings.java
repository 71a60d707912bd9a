package io.pgfleet.server.agent;

import io.pgfleet.core.ServerParameter;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** A server's {@code pg_settings}, by name: what a {@code postgresql_conf} is checked against. */
final class PgSettings {
    private PgSettings() {}

    static Map<String, ServerParameter> read(Connection c) throws SQLException {
        Map<String, ServerParameter> result = new HashMap<>();
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(
                        "SELECT name, context, vartype, unit, min_val, max_val, enumvals FROM pg_settings")) {
            while (rs.next()) {
                java.sql.Array enumvals = rs.getArray("enumvals");
                result.put(
                        rs.getString("name"),
                        new ServerParameter(
                                rs.getString("name"),
                                rs.getString("context"),
                                rs.getString("vartype"),
                                rs.getString("unit"),
                                rs.getString("min_val"),
                                rs.getString("max_val"),
                                enumvals == null ? List.of() : List.of((String[]) enumvals.getArray())));
            }
        }
        return result;
    }
}
