package io.pgfleet.core;

import java.util.List;

/** A role pgfleet manages on every instance of a database. */
public record DatabaseUserSpec(
        String username,
        String password,
        Boolean dbOwner,
        List<String> attributes,
        List<String> roles,
        Integer connectionLimit) {

    /** A user without a connection limit. */
    public DatabaseUserSpec(
            String username, String password, Boolean dbOwner, List<String> attributes, List<String> roles) {
        this(username, password, dbOwner, attributes, roles, null);
    }

    public DatabaseUserSpec {
        attributes = attributes == null ? List.of() : List.copyOf(attributes);
        roles = roles == null ? List.of() : List.copyOf(roles);
    }

    public DatabaseUserSpec withPassword(String newPassword) {
        return new DatabaseUserSpec(username, newPassword, dbOwner, attributes, roles, connectionLimit);
    }

    public boolean ownsDatabase() {
        return Boolean.TRUE.equals(dbOwner);
    }

    /** -1 (no limit) when the spec gives none. */
    public int effectiveConnectionLimit() {
        return connectionLimit == null ? -1 : connectionLimit;
    }

    /**
     * The role attributes as they must be: each of the six boolean attributes pgfleet manages, true or
     * false, LOGIN by default. INHERIT is managed too, true by default.
     */
    public java.util.SortedMap<String, Boolean> desiredAttributes() {
        java.util.SortedMap<String, Boolean> result = new java.util.TreeMap<>();
        for (String a : MANAGED_ATTRIBUTES) {
            result.put(a, a.equals("LOGIN") || a.equals("INHERIT"));
        }
        for (String given : attributes) {
            String upper = given.toUpperCase(java.util.Locale.ROOT);
            if (upper.startsWith("NO") && MANAGED_ATTRIBUTES.contains(upper.substring(2))) {
                result.put(upper.substring(2), false);
            } else if (MANAGED_ATTRIBUTES.contains(upper)) {
                result.put(upper, true);
            }
        }
        return result;
    }

    /** The boolean attributes pgfleet keeps as the spec says, in pg_roles order. */
    public static final List<String> MANAGED_ATTRIBUTES =
            List.of("SUPERUSER", "INHERIT", "CREATEROLE", "CREATEDB", "LOGIN", "REPLICATION", "BYPASSRLS");

    @Override
    public String toString() {
        // Never let a password reach a log through a record's generated toString.
        return "DatabaseUserSpec[username=" + username + ", password=" + (password == null ? "null" : "****")
                + ", dbOwner=" + dbOwner + ", attributes=" + attributes + ", roles=" + roles + ", connectionLimit="
                + connectionLimit + "]";
    }
}
