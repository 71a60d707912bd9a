package io.pgfleet.core;

import java.util.List;

/** A role pgfleet manages on every instance of a database. */
public record DatabaseUserSpec(
        String username, String password, Boolean dbOwner, List<String> attributes, List<String> roles) {
    public DatabaseUserSpec {
        attributes = attributes == null ? List.of() : List.copyOf(attributes);
        roles = roles == null ? List.of() : List.copyOf(roles);
    }

    public DatabaseUserSpec withPassword(String newPassword) {
        return new DatabaseUserSpec(username, newPassword, dbOwner, attributes, roles);
    }

    public boolean ownsDatabase() {
        return Boolean.TRUE.equals(dbOwner);
    }

    @Override
    public String toString() {
        // Never let a password reach a log through a record's generated toString.
        return "DatabaseUserSpec[username=" + username + ", password=" + (password == null ? "null" : "****")
                + ", dbOwner=" + dbOwner + ", attributes=" + attributes + ", roles=" + roles + "]";
    }
}
