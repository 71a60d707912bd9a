package io.pgfleet.server.agent;

import static io.pgfleet.server.agent.RoleStatements.ident;
import static io.pgfleet.server.agent.RoleStatements.literal;

import io.pgfleet.core.DatabaseSpec;
import io.pgfleet.core.DatabaseUserSpec;
import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.core.Secret;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Makes the roles of one instance what the spec says (ReconcileRoles) and reports where they differ
 * (VerifyRoles). Roles pgfleet does not manage are never touched. Every statement runs with statement
 * logging off in the session, so no password reaches the server log, even when a statement fails.
 */
final class RoleReconciler {
    /** PgBouncer's auth_user: it may only call the lookup function below. */
    static final String POOLER_ROLE = "pgfleet_pooler";

    private static final String[] PG_ROLES_COLUMNS = {
        "rolsuper", "rolinherit", "rolcreaterole", "rolcreatedb", "rolcanlogin", "rolreplication", "rolbypassrls"
    };

    private RoleReconciler() {}

    /** Keeps this session's statements (and their errors) out of the server log. */
    static void hideStatements(Statement st) throws SQLException {
        st.execute("SET log_statement = 'none'");
        // RoleStatements quotes literals for standard strings; never let a setting change that.
        st.execute("SET standard_conforming_strings = on");
        st.execute("SET log_min_error_statement = 'panic'");
        st.execute("SET log_min_duration_statement = -1");
    }

    /**
     * Creates or alters every spec user (attributes, connection limit, password, memberships), creates
     * the database or gives it to the db_owner, drops {@code drop} after reassigning what they own, and
     * sets up the pooler's auth_user when {@code poolerPassword} is given.
     *
     * @param postgres a superuser connection to the {@code postgres} database
     * @param appDatabase opens a superuser connection to the spec's database
     */
    static void reconcile(
            Connection postgres,
            ConnectionOpener appDatabase,
            DatabaseSpec spec,
            Map<String, Secret> passwords,
            List<String> drop,
            Secret poolerPassword)
            throws SQLException {
        String owner = spec.owner().map(DatabaseUserSpec::username).orElse(PostgresServer.SUPERUSER);
        try (Statement st = postgres.createStatement()) {
            hideStatements(st);
            for (DatabaseUserSpec user : spec.databaseUsers()) {
                Secret password = passwords.get(user.username());
                if (password == null) {
                    throw new PgfleetException(
                            ErrorCode.INTERNAL, "no stored password for user " + user.username() + "; update the spec");
                }
                st.execute(
                        roleExists(postgres, user.username())
                                ? RoleStatements.alter(user, password)
                                : RoleStatements.create(user, password));
                Set<String> have = memberships(postgres, user.username());
                for (String role : user.roles()) {
                    if (!have.contains(role)) {
                        st.execute("GRANT " + ident(role) + " TO " + ident(user.username()));
                    }
                }
                for (String role : have) {
                    if (!user.roles().contains(role)) {
                        st.execute("REVOKE " + ident(role) + " FROM " + ident(user.username()));
                    }
                }
            }
            Optional<String> currentOwner = databaseOwner(postgres, spec.databaseName());
            if (currentOwner.isEmpty()) {
                st.execute("CREATE DATABASE " + ident(spec.databaseName()) + " OWNER " + ident(owner));
            } else if (!currentOwner.get().equals(owner)) {
                st.execute("ALTER DATABASE " + ident(spec.databaseName()) + " OWNER TO " + ident(owner));
            }
        }
        List<String> toDrop = new ArrayList<>();
        for (String name : drop) {
            if (roleExists(postgres, name)
                    && spec.databaseUsers().stream().noneMatch(u -> u.username().equals(name))) {
                toDrop.add(name);
            }
        }
        if (!toDrop.isEmpty() || poolerPassword != null) {
            try (Connection app = appDatabase.open();
                    Statement st = app.createStatement()) {
                hideStatements(st);
                for (String name : toDrop) {
                    // Objects go to the owner; privileges granted to the role go with DROP OWNED.
                    st.execute("REASSIGN OWNED BY " + ident(name) + " TO " + ident(owner));
                    st.execute("DROP OWNED BY " + ident(name));
                }
                if (poolerPassword != null) {
                    try (Statement ps = postgres.createStatement()) {
                        ps.execute((roleExists(postgres, POOLER_ROLE) ? "ALTER" : "CREATE") + " ROLE " + POOLER_ROLE
                                + " WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD "
                                + literal(poolerPassword.value()));
                    }
                    installLookupFunction(st);
                }
            }
        }
        try (Statement st = postgres.createStatement()) {
            hideStatements(st);
            for (String name : toDrop) {
                st.execute("REASSIGN OWNED BY " + ident(name) + " TO " + ident(owner));
                st.execute("DROP OWNED BY " + ident(name));
                st.execute("DROP ROLE " + ident(name));
            }
        }
    }

    /**
     * The auth_query function: SECURITY DEFINER so the unprivileged auth_user reads one role's SCRAM
     * verifier and nothing else; never for postgres or pgfleet's own roles.
     */
    private static void installLookupFunction(Statement st) throws SQLException {
        st.execute("CREATE SCHEMA IF NOT EXISTS pgfleet AUTHORIZATION " + PostgresServer.SUPERUSER);
        st.execute("""
                CREATE OR REPLACE FUNCTION pgfleet.user_lookup(i_username text, OUT uname text, OUT phash text)
                RETURNS record LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS $$
                  SELECT rolname::text, rolpassword::text FROM pg_catalog.pg_authid
                  WHERE rolname = i_username AND rolcanlogin
                    AND rolname <> 'postgres' AND rolname NOT LIKE 'pgfleet%'
                $$""");
        st.execute("REVOKE ALL ON FUNCTION pgfleet.user_lookup(text) FROM PUBLIC");
        st.execute("GRANT USAGE ON SCHEMA pgfleet TO " + POOLER_ROLE);
        st.execute("GRANT EXECUTE ON FUNCTION pgfleet.user_lookup(text) TO " + POOLER_ROLE);
    }

    /** What differs from the spec on this instance: one message per finding, empty when none. */
    static List<String> verify(Connection postgres, DatabaseSpec spec, Map<String, Secret> passwords)
            throws SQLException {
        List<String> drift = new ArrayList<>();
        Map<String, Map<String, Object>> roles = new HashMap<>();
        String[] names =
                spec.databaseUsers().stream().map(DatabaseUserSpec::username).toArray(String[]::new);
        try (PreparedStatement ps = postgres.prepareStatement(
                "SELECT rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication,"
                        + " rolbypassrls, rolconnlimit, rolpassword FROM pg_authid WHERE rolname = ANY(?)")) {
            ps.setArray(1, postgres.createArrayOf("text", names));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Map<String, Object> row = new HashMap<>();
                    for (String column : PG_ROLES_COLUMNS) {
                        row.put(column, rs.getBoolean(column));
                    }
                    row.put("rolconnlimit", rs.getInt("rolconnlimit"));
                    row.put("rolpassword", rs.getString("rolpassword"));
                    roles.put(rs.getString("rolname"), row);
                }
            }
        }
        for (DatabaseUserSpec user : spec.databaseUsers()) {
            String who = "role " + ident(user.username());
            Map<String, Object> row = roles.get(user.username());
            if (row == null) {
                drift.add(who + " is missing");
                continue;
            }
            List<String> attributes = io.pgfleet.core.DatabaseUserSpec.MANAGED_ATTRIBUTES;
            for (int i = 0; i < attributes.size(); i++) {
                boolean want = user.desiredAttributes().get(attributes.get(i));
                boolean have = (Boolean) row.get(PG_ROLES_COLUMNS[i]);
                if (want != have) {
                    drift.add(who + ": " + (have ? "" : "NO") + attributes.get(i) + ", the spec says "
                            + (want ? "" : "NO") + attributes.get(i));
                }
            }
            int limit = (Integer) row.get("rolconnlimit");
            if (limit != user.effectiveConnectionLimit()) {
                drift.add(who + ": connection limit " + limit + ", the spec says " + user.effectiveConnectionLimit());
            }
            Secret password = passwords.get(user.username());
            if (password != null && !ScramVerifier.matches((String) row.get("rolpassword"), password.value())) {
                drift.add(who + ": the password differs from the stored one");
            }
            Set<String> have = memberships(postgres, user.username());
            if (!have.equals(new TreeSet<>(user.roles()))) {
                drift.add(who + ": member of " + have + ", the spec says " + new TreeSet<>(user.roles()));
            }
        }
        String owner = spec.owner().map(DatabaseUserSpec::username).orElse(PostgresServer.SUPERUSER);
        Optional<String> currentOwner = databaseOwner(postgres, spec.databaseName());
        if (currentOwner.isEmpty()) {
            drift.add("database " + ident(spec.databaseName()) + " is missing");
        } else if (!currentOwner.get().equals(owner)) {
            drift.add("database " + ident(spec.databaseName()) + " is owned by " + ident(currentOwner.get())
                    + ", the spec says " + ident(owner));
        }
        return drift;
    }

    /** Opens a connection when needed. */
    @FunctionalInterface
    interface ConnectionOpener {
        Connection open() throws SQLException;
    }

    static boolean roleExists(Connection c, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_roles WHERE rolname = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    private static Set<String> memberships(Connection c, String member) throws SQLException {
        Set<String> result = new TreeSet<>();
        try (PreparedStatement ps =
                c.prepareStatement("SELECT r.rolname FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid"
                        + " JOIN pg_roles m ON m.oid = a.member WHERE m.rolname = ?")) {
            ps.setString(1, member);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    result.add(rs.getString(1));
                }
            }
        }
        return result;
    }

    private static Optional<String> databaseOwner(Connection c, String database) throws SQLException {
        try (PreparedStatement ps =
                c.prepareStatement("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = ?")) {
            ps.setString(1, database);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
            }
        }
    }
}
