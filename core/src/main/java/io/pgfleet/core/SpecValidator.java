package io.pgfleet.core;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Checks a create request against the rules of DESIGN.md §2 and names every bad field with its fix.
 * The host facts it needs (versions it can run, hosts it knows) come in as values.
 */
public final class SpecValidator {
    private static final Pattern DATABASE_ID = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    private static final Pattern NODE_NAME = Pattern.compile("[a-z][a-z0-9_]{0,29}");
    private static final Pattern DATABASE_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}");
    private static final Pattern PARAMETER_NAME = Pattern.compile("[a-z_][a-z0-9_.]{0,62}");
    private static final Pattern LABEL_KEY = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9._/-]{0,62})?");
    private static final int MAX_NODES = 9;
    private static final int MAX_USERS = 100;
    static final int MAX_LABELS = 64;
    static final int MAX_PARAMETERS = 200;
    private static final int MAX_ROLES_PER_USER = 32;
    private static final int MAX_ATTRIBUTES_PER_USER = 16;

    /** Parameters pgfleet writes itself; a spec may not set them. */
    public static final Set<String> OWNED_PARAMETERS = Set.of(
            "port",
            "listen_addresses",
            "unix_socket_directories",
            "unix_socket_group",
            "unix_socket_permissions",
            "password_encryption",
            "logging_collector",
            "log_directory",
            "log_filename",
            // pgfleet's own role DDL relies on it; off would let a backslash in a password end the literal.
            "standard_conforming_strings");

    /**
     * Parameters no spec may set: each runs a program, loads code or reads or writes a file as the
     * instance's OS user, which would reach beyond the database. {@link #isForbiddenParameter} also
     * refuses every {@code *_command}, {@code *_library}, {@code *_libraries} and {@code ssl_*_file}.
     */
    public static final Set<String> FORBIDDEN_PARAMETERS = Set.of(
            "jit_provider",
            "data_directory",
            "hba_file",
            "ident_file",
            "config_file",
            "external_pid_file",
            "promote_trigger_file",
            "primary_conninfo",
            "primary_slot_name",
            "archive_command",
            "archive_library",
            "restore_command",
            "archive_cleanup_command",
            "recovery_end_command",
            "ssl_passphrase_command",
            "shared_preload_libraries",
            "local_preload_libraries",
            "session_preload_libraries",
            "dynamic_library_path",
            "include",
            "include_dir",
            "include_if_exists",
            "ssl_cert_file",
            "ssl_key_file",
            "ssl_ca_file",
            "ssl_crl_file",
            "ssl_crl_dir",
            "ssl_dh_params_file",
            "krb_server_keyfile",
            "stats_temp_directory");

    public static final Set<String> ROLE_ATTRIBUTES = Set.of(
            "LOGIN",
            "NOLOGIN",
            "CREATEDB",
            "NOCREATEDB",
            "CREATEROLE",
            "NOCREATEROLE",
            "REPLICATION",
            "NOREPLICATION",
            "BYPASSRLS",
            "NOBYPASSRLS",
            "SUPERUSER",
            "NOSUPERUSER",
            "INHERIT",
            "NOINHERIT");

    public static final Set<String> RESTART_POLICIES = Set.copyOf(RestartPolicy.labels());
    public static final Set<String> POOL_MODES = Set.of("session", "transaction", "statement");

    private final Set<String> supportedVersions;
    private final Set<String> knownHosts;
    private final int hostCpus;

    public SpecValidator(Set<String> supportedVersions, Set<String> knownHosts) {
        this(supportedVersions, knownHosts, Runtime.getRuntime().availableProcessors());
    }

    public SpecValidator(Set<String> supportedVersions, Set<String> knownHosts, int hostCpus) {
        this.supportedVersions = Set.copyOf(supportedVersions);
        this.knownHosts = Set.copyOf(knownHosts);
        this.hostCpus = hostCpus;
    }

    /** Throws a 422 listing every invalid field; returns normally when the request is acceptable. */
    public void validateCreate(CreateDatabaseRequest request) {
        List<FieldError> errors = new ArrayList<>();
        if (request.id() == null || request.id().isBlank()) {
            errors.add(new FieldError("id", "is required: 1-63 lowercase letters, digits and '-', e.g. 'billing'"));
        } else if (!DATABASE_ID.matcher(request.id()).matches()) {
            errors.add(new FieldError(
                    "id",
                    "'" + abbreviate(request.id())
                            + "' is not a valid id; use 1-63 lowercase letters, digits and '-', not starting"
                            + " or ending with '-'"));
        }
        checkLabelCount(request.labels(), errors);
        request.labels().forEach((key, value) -> {
            if (!LABEL_KEY.matcher(key).matches()) {
                errors.add(new FieldError(
                        "labels." + abbreviate(key), "label keys are 1-63 letters, digits, '.', '_', '/', '-'"));
            }
            if (value == null || value.length() > 255) {
                errors.add(new FieldError("labels." + abbreviate(key), "label values are 0-255 characters"));
            }
        });
        if (request.spec() == null) {
            errors.add(new FieldError("spec", "is required"));
        } else {
            validateSpec(request.spec(), errors);
            PgEdgeSpecRules.validateCreate(request.spec(), errors);
        }
        if (!errors.isEmpty()) {
            throw PgfleetException.invalidSpec(errors);
        }
    }

    private void validateSpec(DatabaseSpec spec, List<FieldError> errors) {
        if (spec.databaseName() == null
                || !DATABASE_NAME.matcher(spec.databaseName()).matches()) {
            errors.add(new FieldError(
                    "spec.database_name", "is required: 1-63 letters, digits and '_', starting with a letter or '_'"));
        } else if (Set.of("postgres", "template0", "template1")
                .contains(spec.databaseName().toLowerCase(Locale.ROOT))) {
            errors.add(new FieldError("spec.database_name", "'" + spec.databaseName() + "' is reserved by PostgreSQL"));
        }
        if (spec.postgresVersion() != null && !supportedVersions.contains(spec.postgresVersion())) {
            errors.add(new FieldError(
                    "spec.postgres_version",
                    "'" + abbreviate(spec.postgresVersion()) + "' is not available on this host; use one of "
                            + supportedVersions.stream().sorted().toList()));
        }
        checkPort("spec.port", spec.port(), errors);
        validateNodes(spec, errors);
        validateUsers(spec.databaseUsers(), errors);
        validateConf("spec.postgresql_conf.", spec.postgresqlConf(), errors);
        PgEdgeSpecRules.validate(spec, supportedVersions, hostCpus, errors);
        if (spec.pooler() != null) {
            validatePooler(spec.pooler(), errors);
        }
        if (spec.resources() != null && spec.resources().memoryMb() != null) {
            int mb = spec.resources().memoryMb();
            if (mb < ResourcesSpec.MIN_MEMORY_MB || mb > ResourcesSpec.MAX_MEMORY_MB) {
                errors.add(new FieldError(
                        "spec.resources.memory_mb",
                        mb + " is outside " + ResourcesSpec.MIN_MEMORY_MB + "-" + ResourcesSpec.MAX_MEMORY_MB));
            }
        }
        if (spec.restartPolicy() != null && !RESTART_POLICIES.contains(spec.restartPolicy())) {
            errors.add(new FieldError(
                    "spec.restart_policy",
                    "'" + abbreviate(spec.restartPolicy()) + "' is not one of " + RESTART_POLICIES));
        }
        if (spec.driftPolicy() != null && !DatabaseSpec.DRIFT_POLICIES.contains(spec.driftPolicy())) {
            errors.add(new FieldError(
                    "spec.drift_policy",
                    "'" + abbreviate(spec.driftPolicy()) + "' is not one of " + DatabaseSpec.DRIFT_POLICIES
                            + " (repair puts roles changed by hand back; report only records them)"));
        }
    }

    private void validateNodes(DatabaseSpec spec, List<FieldError> errors) {
        if (spec.nodes().isEmpty()) {
            errors.add(new FieldError("spec.nodes", "at least one node is required, e.g. [{\"name\": \"n1\"}]"));
            return;
        }
        if (spec.nodes().size() > MAX_NODES) {
            errors.add(new FieldError("spec.nodes", spec.nodes().size() + " nodes; at most " + MAX_NODES));
        }
        Set<String> names = new HashSet<>();
        for (int i = 0; i < spec.nodes().size(); i++) {
            NodeSpec node = spec.nodes().get(i);
            String field = "spec.nodes[" + i + "]";
            if (node == null) {
                errors.add(new FieldError(field, "must be an object with a name"));
                continue;
            }
            if (node.name() == null || !NODE_NAME.matcher(node.name()).matches()) {
                errors.add(new FieldError(
                        field + ".name",
                        "'" + abbreviate(String.valueOf(node.name()))
                                + "' is not a node name; use 1-30 lowercase letters, digits and '_', e.g. 'n1'"));
            } else if (!names.add(node.name())) {
                errors.add(
                        new FieldError(field + ".name", "'" + node.name() + "' appears twice; node names are unique"));
            }
            if (new HashSet<>(node.hostIds()).size() < node.hostIds().size()) {
                errors.add(new FieldError(
                        field + ".host_ids",
                        "a host appears twice; a node has at most one instance per host (primary or replica)"));
            }
            for (String host : node.hostIds()) {
                if (!knownHosts.contains(host)) {
                    errors.add(new FieldError(
                            field + ".host_ids",
                            "host '" + abbreviate(String.valueOf(host)) + "' is not known; known hosts: "
                                    + knownHosts));
                }
            }
            checkPort(field + ".port", node.port(), errors);
        }
    }

    private static void validateUsers(List<DatabaseUserSpec> users, List<FieldError> errors) {
        if (users.size() > MAX_USERS) {
            errors.add(new FieldError("spec.database_users", users.size() + " users; at most " + MAX_USERS));
        }
        Set<String> names = new HashSet<>();
        int owners = 0;
        for (int i = 0; i < users.size(); i++) {
            DatabaseUserSpec user = users.get(i);
            String field = "spec.database_users[" + i + "]";
            if (user == null) {
                errors.add(new FieldError(field, "must be an object with a username"));
                continue;
            }
            String name = user.username();
            if (name == null
                    || name.isEmpty()
                    || name.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 63
                    || name.chars().anyMatch(Character::isISOControl)) {
                // Postgres truncates names past 63 bytes (not characters): two long names would collide.
                errors.add(
                        new FieldError(field + ".username", "is required: 1-63 bytes in UTF-8, no control characters"));
            } else if (isReservedRole(name)) {
                errors.add(new FieldError(
                        field + ".username",
                        "'" + name + "' is reserved (postgres, pgfleet*, pg_*, public, none, current_user,"
                                + " session_user, current_role); choose another name"));
            } else if (!names.add(name)) {
                errors.add(new FieldError(field + ".username", "'" + name + "' appears twice"));
            }
            if (user.password() != null
                    && (user.password().isEmpty()
                            || user.password().length() > 1024
                            || user.password().indexOf('\0') >= 0)) {
                errors.add(new FieldError(
                        field + ".password", "must be 1-1024 characters without NUL, or absent to generate one"));
            }
            if (user.connectionLimit() != null && user.connectionLimit() < -1) {
                errors.add(new FieldError(
                        field + ".connection_limit",
                        user.connectionLimit() + " is invalid; use -1 (no limit) or more"));
            }
            if (user.ownsDatabase()) {
                owners++;
            }
            if (user.attributes().size() > MAX_ATTRIBUTES_PER_USER) {
                errors.add(new FieldError(
                        field + ".attributes",
                        user.attributes().size() + " attributes; at most " + MAX_ATTRIBUTES_PER_USER));
            }
            if (user.roles().size() > MAX_ROLES_PER_USER) {
                errors.add(new FieldError(
                        field + ".roles", user.roles().size() + " roles; at most " + MAX_ROLES_PER_USER));
            }
            for (String attribute : user.attributes()) {
                if (attribute == null || !ROLE_ATTRIBUTES.contains(attribute.toUpperCase(Locale.ROOT))) {
                    errors.add(new FieldError(
                            field + ".attributes",
                            "'" + abbreviate(String.valueOf(attribute)) + "' is not one of "
                                    + ROLE_ATTRIBUTES.stream().sorted().toList()));
                }
            }
            for (String role : user.roles()) {
                if (role == null || role.isEmpty() || role.length() > 63 || role.indexOf('\0') >= 0) {
                    errors.add(new FieldError(field + ".roles", "role names are 1-63 characters"));
                }
            }
        }
        if (owners > 1) {
            errors.add(new FieldError(
                    "spec.database_users", owners + " users have db_owner; at most one may own the database"));
        }
    }

    private static void checkLabelCount(Map<String, String> labels, List<FieldError> errors) {
        if (labels.size() > MAX_LABELS) {
            errors.add(new FieldError("labels", labels.size() + " labels; at most " + MAX_LABELS));
        }
    }

    static void validateConf(String prefix, Map<String, String> conf, List<FieldError> errors) {
        if (conf.size() > MAX_PARAMETERS) {
            String field = prefix.endsWith(".") ? prefix.substring(0, prefix.length() - 1) : prefix;
            errors.add(new FieldError(field, conf.size() + " parameters; at most " + MAX_PARAMETERS));
            return;
        }
        conf.forEach((name, value) -> {
            String field = prefix + abbreviate(name);
            if (!PARAMETER_NAME.matcher(name).matches()) {
                errors.add(new FieldError(field, "is not a parameter name"));
            } else if (OWNED_PARAMETERS.contains(name)) {
                errors.add(new FieldError(field, "is set by pgfleet and cannot be changed in the spec"));
            } else if (isForbiddenParameter(name)) {
                errors.add(new FieldError(
                        field,
                        "runs programs, loads code or reads files as the instance's OS user; pgfleet does not allow"
                                + " it"));
            }
            if (value == null || value.chars().anyMatch(c -> c < 0x20 || c == 0x7f) || value.length() > 1024) {
                errors.add(new FieldError(
                        field,
                        "values are single-line strings of at most 1024 characters, without control characters"));
            }
        });
    }

    /** Whether {@code name} is a parameter no spec may set (case-insensitive, like PostgreSQL's names). */
    public static boolean isForbiddenParameter(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        return FORBIDDEN_PARAMETERS.contains(lower)
                || lower.endsWith("_command")
                || lower.endsWith("_library")
                || lower.endsWith("_libraries")
                || (lower.startsWith("ssl_") && (lower.endsWith("_file") || lower.endsWith("_dir")));
    }

    private static void validatePooler(PoolerSpec pooler, List<FieldError> errors) {
        if (pooler.poolMode() != null && !POOL_MODES.contains(pooler.poolMode())) {
            errors.add(new FieldError(
                    "spec.pooler.pool_mode", "'" + abbreviate(pooler.poolMode()) + "' is not one of " + POOL_MODES));
        }
        if (pooler.defaultPoolSize() != null && (pooler.defaultPoolSize() < 1 || pooler.defaultPoolSize() > 10000)) {
            errors.add(new FieldError("spec.pooler.default_pool_size", "must be 1-10000"));
        }
        if (pooler.maxClientConn() != null && (pooler.maxClientConn() < 1 || pooler.maxClientConn() > 100000)) {
            errors.add(new FieldError("spec.pooler.max_client_conn", "must be 1-100000"));
        }
    }

    /**
     * Checks an update: the same rules as a create, and what cannot change once the database exists
     * (its name, its PostgreSQL major).
     */
    public void validateUpdate(String databaseId, DatabaseSpec current, UpdateDatabaseRequest request) {
        List<FieldError> errors = new ArrayList<>();
        if (request.id() != null && !request.id().equals(databaseId)) {
            errors.add(new FieldError(
                    "id", "'" + abbreviate(request.id()) + "' differs from the path's " + databaseId + "; omit it"));
        }
        if (request.spec() == null) {
            errors.add(new FieldError("spec", "is required: the whole desired spec"));
        } else {
            validateSpec(request.spec(), errors);
            DatabaseSpec desired = request.spec();
            PgEdgeSpecRules.validateUpdate(current, desired, errors);
            if (desired.databaseName() != null && !desired.databaseName().equals(current.databaseName())) {
                errors.add(new FieldError(
                        "spec.database_name",
                        "cannot change from " + current.databaseName() + "; create another database instead"));
            }
            if (desired.postgresVersion() != null && !desired.postgresVersion().equals(current.postgresVersion())) {
                errors.add(new FieldError(
                        "spec.postgres_version",
                        "cannot change from " + current.postgresVersion() + " (major upgrades are not supported)"));
            }
            // host_ids may change: a host added is a new replica, a host removed loses its replica (the
            // intake refuses removing the host of the node's primary: that needs a switchover first).
        }
        if (request.labels() != null) {
            checkLabelCount(request.labels(), errors);
            request.labels().forEach((key, value) -> {
                if (!LABEL_KEY.matcher(key).matches() || value == null || value.length() > 255) {
                    errors.add(new FieldError("labels." + abbreviate(key), "keys are 1-63 characters, values 0-255"));
                }
            });
        }
        if (!errors.isEmpty()) {
            throw PgfleetException.invalidSpec(errors);
        }
    }

    /**
     * Checks {@code conf} against a server's own pg_settings: the name must exist there (or be an
     * extension's {@code prefix.name}), the value must parse and lie within bounds.
     */
    public static List<FieldError> checkParameters(Map<String, String> conf, Map<String, ServerParameter> settings) {
        List<FieldError> errors = new ArrayList<>();
        new java.util.TreeMap<>(conf).forEach((name, value) -> {
            String field = "spec.postgresql_conf." + abbreviate(name);
            ServerParameter parameter = settings.get(name);
            if (parameter == null) {
                // Postgres' names are case-insensitive: "timezone" is pg_settings' "TimeZone".
                parameter = settings.entrySet().stream()
                        .filter(e -> e.getKey().equalsIgnoreCase(name))
                        .map(Map.Entry::getValue)
                        .findFirst()
                        .orElse(null);
            }
            if (parameter == null) {
                if (!name.contains(".")) {
                    errors.add(new FieldError(field, "is not a parameter of this PostgreSQL server"));
                }
                return;
            }
            parameter.check(value).ifPresent(problem -> errors.add(new FieldError(field, problem)));
        });
        return errors;
    }

    static void checkPort(String field, Integer port, List<FieldError> errors) {
        if (port == null) {
            return;
        }
        if (port < PortRange.MIN_PORT) {
            errors.add(new FieldError(field, port + " is privileged or invalid; use 1024-65535"));
        } else if (port > PortRange.MAX_PORT) {
            errors.add(new FieldError(field, port + " is not a TCP port; use 1024-65535"));
        }
    }

    public static boolean isReservedRole(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        return lower.equals("postgres")
                || lower.startsWith("pgfleet")
                || lower.startsWith("pg_")
                || Set.of("public", "none", "current_user", "session_user", "current_role")
                        .contains(lower);
    }

    private static String abbreviate(String text) {
        return text.length() > 64 ? text.substring(0, 64) + "…" : text;
    }
}
