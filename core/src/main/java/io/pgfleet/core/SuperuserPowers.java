package io.pgfleet.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * What in a spec gives a database user superuser power or a way to it (DESIGN.md §7): the attributes
 * SUPERUSER, REPLICATION and BYPASSRLS, membership in {@code postgres}, in pgfleet's own roles or in a
 * spec user that holds such power, and the roles that run programs or touch server files. Only an admin
 * key may ask for them; {@link #askedFor} lists what an operator's spec asks for anew.
 */
public final class SuperuserPowers {
    /** Attributes that are, or bypass, what a superuser may. */
    public static final Set<String> ATTRIBUTES = Set.of("SUPERUSER", "REPLICATION", "BYPASSRLS");

    /** Predefined roles that run programs or read and write files as the instance's OS user. */
    public static final Set<String> SERVER_ROLES =
            Set.of("pg_execute_server_program", "pg_read_server_files", "pg_write_server_files");

    /**
     * Up to PostgreSQL 15 a CREATEROLE role may grant itself any non-superuser role, including
     * pg_execute_server_program; from 16 on it may grant only roles it holds with ADMIN OPTION.
     */
    private static final int LAST_MAJOR_WITH_OPEN_CREATEROLE = 15;

    private SuperuserPowers() {}

    /**
     * The powers {@code desired} asks for that {@code current} (null on a create) does not already
     * give the same user, each with the field that asks. A power an admin gave a user stays allowed in
     * an operator's update as long as it is unchanged, but setting such a user's password is asking for
     * the power itself, since whoever knows the password has it.
     */
    public static List<FieldError> askedFor(DatabaseSpec current, DatabaseSpec desired, int postgresMajor) {
        List<FieldError> found = new ArrayList<>();
        if (desired == null) {
            return found;
        }
        Map<String, DatabaseUserSpec> before = current == null
                ? Map.of()
                : current.databaseUsers().stream()
                        .filter(u -> u != null && u.username() != null)
                        .collect(Collectors.toMap(
                                u -> u.username(), Function.identity(), (a, b) -> a, java.util.HashMap::new));
        Set<String> powerfulUsers = new java.util.HashSet<>();
        for (DatabaseSpec spec : new DatabaseSpec[] {current, desired}) {
            if (spec != null) {
                for (DatabaseUserSpec user : spec.databaseUsers()) {
                    if (user != null
                            && user.username() != null
                            && !powerfulAttributes(user, postgresMajor).isEmpty()) {
                        powerfulUsers.add(user.username().toLowerCase(Locale.ROOT));
                    }
                }
            }
        }
        List<DatabaseUserSpec> users = desired.databaseUsers();
        for (int i = 0; i < users.size(); i++) {
            DatabaseUserSpec user = users.get(i);
            if (user == null || user.username() == null) {
                continue;
            }
            String field = "spec.database_users[" + i + "]";
            Optional<DatabaseUserSpec> had = Optional.ofNullable(before.get(user.username()));
            List<String> hadAttributes =
                    had.map(u -> powerfulAttributes(u, postgresMajor)).orElse(List.of());
            List<String> attributes = powerfulAttributes(user, postgresMajor);
            for (String attribute : attributes) {
                if (!hadAttributes.contains(attribute)) {
                    found.add(new FieldError(field + ".attributes", attribute + " is granted only by an admin key"));
                }
            }
            List<String> roles = new ArrayList<>();
            for (String role : user.roles()) {
                if (role != null && isPowerfulRole(role, powerfulUsers)) {
                    roles.add(role);
                    if (had.map(u -> !u.roles().contains(role)).orElse(true)) {
                        found.add(new FieldError(
                                field + ".roles", "membership in '" + role + "' is granted only by an admin key"));
                    }
                }
            }
            if (user.password() != null && (!attributes.isEmpty() || !roles.isEmpty())) {
                String power = !attributes.isEmpty() ? attributes.get(0) : "membership in '" + roles.get(0) + "'";
                found.add(new FieldError(
                        field + ".password",
                        "'" + user.username() + "' has " + power + "; only an admin key may set its password"));
            }
        }
        return found;
    }

    /** The attributes of {@code user} that amount to superuser power on that major, as the spec resolves them. */
    static List<String> powerfulAttributes(DatabaseUserSpec user, int postgresMajor) {
        SortedMap<String, Boolean> resolved = user.desiredAttributes();
        List<String> result = new ArrayList<>();
        for (String attribute : List.of("SUPERUSER", "REPLICATION", "BYPASSRLS", "CREATEROLE")) {
            boolean dangerous = ATTRIBUTES.contains(attribute)
                    || (attribute.equals("CREATEROLE") && postgresMajor <= LAST_MAJOR_WITH_OPEN_CREATEROLE);
            if (dangerous && Boolean.TRUE.equals(resolved.get(attribute))) {
                result.add(attribute);
            }
        }
        return result;
    }

    private static boolean isPowerfulRole(String role, Set<String> powerfulUsers) {
        String lower = role.toLowerCase(Locale.ROOT);
        return lower.equals("postgres")
                || lower.startsWith("pgfleet")
                || SERVER_ROLES.contains(lower)
                || powerfulUsers.contains(lower);
    }

    /** The major of a version string such as {@code 17} or {@code 16.4}; the newest known when unreadable. */
    public static int major(String version) {
        if (version == null) {
            return Integer.MAX_VALUE;
        }
        String digits = version.split("\\.")[0].trim();
        try {
            return Integer.parseInt(digits);
        } catch (NumberFormatException e) {
            return Integer.MAX_VALUE; // SpecValidator refuses an unknown version on its own
        }
    }
}
