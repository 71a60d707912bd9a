package io.pgfleet.server.security;

import io.pgfleet.core.PgfleetException;
import java.util.Locale;

/** What a key may do: admin (every tenant, tenants and keys), operator (its tenant), viewer (read only). */
public enum Role {
    VIEWER,
    OPERATOR,
    ADMIN;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Whether a key of this role may create or revoke a key of {@code other}: equal or lower roles only. */
    public boolean canGrant(Role other) {
        return this != VIEWER && other.ordinal() <= ordinal();
    }

    public static Role fromLabel(String label) {
        for (Role role : values()) {
            if (role.label().equals(label)) {
                return role;
            }
        }
        throw PgfleetException.invalid("role", "'" + label + "' is not a role; use admin, operator or viewer");
    }
}
