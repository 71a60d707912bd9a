package io.pgfleet.server.agent;

import io.pgfleet.core.DatabaseUserSpec;
import io.pgfleet.core.Secret;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** SQL text for roles, with identifiers and literals quoted so quotes, spaces and unicode work. */
public final class RoleStatements {
    private RoleStatements() {}

    public static String ident(String name) {
        return '"' + name.replace("\"", "\"\"") + '"';
    }

    /** A string literal for standard_conforming_strings = on: only the quote needs doubling. */
    public static String literal(String value) {
        return "'" + value.replace("'", "''") + "'";
    }

    /**
     * Every attribute pgfleet manages, each spelled out (SUPERUSER or NOSUPERUSER …), and the connection
     * limit, so one ALTER ROLE both sets what the spec asks and undoes what was changed by hand.
     */
    static String attributes(DatabaseUserSpec user) {
        List<String> attrs = new ArrayList<>();
        for (Map.Entry<String, Boolean> a : user.desiredAttributes().entrySet()) {
            attrs.add((a.getValue() ? "" : "NO") + a.getKey());
        }
        attrs.add("CONNECTION LIMIT " + user.effectiveConnectionLimit());
        return String.join(" ", attrs);
    }

    public static String create(DatabaseUserSpec user, Secret password) {
        return "CREATE ROLE " + ident(user.username()) + " WITH " + attributes(user) + " PASSWORD "
                + literal(password.value());
    }

    public static String alter(DatabaseUserSpec user, Secret password) {
        return "ALTER ROLE " + ident(user.username()) + " WITH " + attributes(user) + " PASSWORD "
                + literal(password.value());
    }
}
