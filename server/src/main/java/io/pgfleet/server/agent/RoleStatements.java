package io.pgfleet.server.agent;

import io.pgfleet.core.DatabaseUserSpec;
import io.pgfleet.server.security.Secret;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

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

    /** The attribute clause: LOGIN unless the spec says NOLOGIN, then the spec's attributes. */
    static String attributes(DatabaseUserSpec user) {
        List<String> attrs = new ArrayList<>();
        List<String> upper =
                user.attributes().stream().map(a -> a.toUpperCase(Locale.ROOT)).toList();
        if (!upper.contains("NOLOGIN") && !upper.contains("LOGIN")) {
            attrs.add("LOGIN");
        }
        attrs.addAll(upper);
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
