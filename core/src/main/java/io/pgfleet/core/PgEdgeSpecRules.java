package io.pgfleet.core;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The rules for the spec fields pgfleet takes from pgEdge Control Plane: {@code cpus} and {@code memory}
 * (spec-wide and per node), per-node {@code postgres_version} and {@code postgresql_conf}, the meaning of
 * {@code port} (every instance listens on it) and {@code source_node}.
 */
final class PgEdgeSpecRules {
    // pgEdge's pattern: whole CPUs, up to three decimals, or millicpus ("500m").
    private static final Pattern CPUS = Pattern.compile("[0-9]+(\\.[0-9]{1,3}|m)?");

    private PgEdgeSpecRules() {}

    static void validate(DatabaseSpec spec, Set<String> versions, int hostCpus, List<FieldError> errors) {
        checkCpus("spec.cpus", spec.cpus(), hostCpus, errors);
        checkMemory("spec.memory", spec.memory(), errors);
        if (spec.memory() != null
                && spec.resources() != null
                && spec.resources().memoryMb() != null) {
            errors.add(new FieldError(
                    "spec.memory", "and spec.resources.memory_mb say the same thing; give only one of them"));
        }
        Map<String, String> portHolders = new HashMap<>();
        for (int i = 0; i < spec.nodes().size(); i++) {
            NodeSpec node = spec.nodes().get(i);
            if (node == null || node.name() == null) {
                continue;
            }
            String field = "spec.nodes[" + i + "]";
            checkCpus(field + ".cpus", node.cpus(), hostCpus, errors);
            checkMemory(field + ".memory", node.memory(), errors);
            if (node.postgresVersion() != null && !versions.contains(node.postgresVersion())) {
                errors.add(new FieldError(
                        field + ".postgres_version",
                        "'" + abbreviate(node.postgresVersion()) + "' is not available on this host; use one of "
                                + versions.stream().sorted().toList()));
            }
            SpecValidator.validateConf(field + ".postgresql_conf.", node.postgresqlConf(), errors);
            Integer port = spec.requestedPort(node);
            if (port == null) {
                continue;
            }
            List<String> hosts = node.hostIds().isEmpty() ? List.of("") : node.hostIds();
            for (String host : hosts) {
                String other = portHolders.putIfAbsent(host + ":" + port, node.name());
                if (other != null) {
                    String where = host.isEmpty() ? "this host" : "host " + host;
                    errors.add(new FieldError(
                            field + ".port",
                            "nodes " + other + " and " + node.name() + " would both listen on port " + port + " on "
                                    + where + " (spec.port applies to every node); give " + node.name()
                                    + " a port of its own in spec.nodes[" + i + "].port"));
                }
            }
        }
    }

    /** {@code source_node} seeds a node added by an update; a new database has nothing to seed from. */
    static void validateCreate(DatabaseSpec spec, List<FieldError> errors) {
        for (int i = 0; i < spec.nodes().size(); i++) {
            NodeSpec node = spec.nodes().get(i);
            if (node != null && node.sourceNode() != null) {
                errors.add(new FieldError(
                        "spec.nodes[" + i + "].source_node",
                        "applies only to a node added to an existing database by an update; omit it here"));
            }
        }
    }

    /** A new node is seeded with a physical copy: from a node that exists already, of the same major version. */
    private static void validateSource(
            DatabaseSpec current, DatabaseSpec desired, NodeSpec node, String field, List<FieldError> errors) {
        var source = current.node(node.sourceNode());
        if (source.isEmpty()) {
            errors.add(new FieldError(
                    field + ".source_node",
                    "'" + node.sourceNode() + "' is not a node of this database before the update; name one of "
                            + current.nodes().stream().map(NodeSpec::name).toList()));
            return;
        }
        String from = current.nodeVersion(source.get());
        String to = desired.nodeVersion(node);
        if (from != null && to != null && !from.equals(to)) {
            errors.add(new FieldError(
                    field + ".source_node",
                    "node " + node.sourceNode() + " runs PostgreSQL " + from + " and node " + node.name()
                            + " would run " + to
                            + "; a node is seeded with a copy of the files, so both need the same version"));
        }
    }

    static void validateUpdate(DatabaseSpec current, DatabaseSpec desired, List<FieldError> errors) {
        for (int i = 0; i < desired.nodes().size(); i++) {
            NodeSpec node = desired.nodes().get(i);
            if (node == null || node.name() == null) {
                continue;
            }
            String field = "spec.nodes[" + i + "]";
            var existing = current.node(node.name());
            if (existing.isEmpty()) {
                if (node.sourceNode() != null) {
                    validateSource(current, desired, node, field, errors);
                }
                continue;
            }
            String before = current.nodeVersion(existing.get());
            String after = desired.nodeVersion(node);
            if (before != null && after != null && !before.equals(after)) {
                errors.add(new FieldError(
                        field + ".postgres_version",
                        "node " + node.name() + " runs PostgreSQL " + before + "; it cannot change to " + after
                                + " (major upgrades are not supported)"));
            }
        }
    }

    private static void checkCpus(String field, String cpus, int hostCpus, List<FieldError> errors) {
        if (cpus == null) {
            return;
        }
        if (!CPUS.matcher(cpus).matches()) {
            errors.add(new FieldError(
                    field, "'" + abbreviate(cpus) + "' is not a CPU count; write e.g. \"2\", \"0.5\" or \"500m\""));
            return;
        }
        double value = cpuCount(cpus);
        if (cpus.endsWith("m") && value > 0 && value < 0.001) {
            errors.add(new FieldError(field, "cannot allocate less than 1m"));
        } else if (value > hostCpus) {
            errors.add(new FieldError(
                    field, cpus + " is more than the " + hostCpus + " CPUs this host has; use at most " + hostCpus));
        }
    }

    /** A valid pgEdge CPU count ("2", "0.5", "500m") as a number of CPUs. */
    static double cpuCount(String cpus) {
        return cpus.endsWith("m")
                ? Double.parseDouble(cpus.substring(0, cpus.length() - 1)) / 1000
                : Double.parseDouble(cpus);
    }

    private static void checkMemory(String field, String memory, List<FieldError> errors) {
        if (memory == null) {
            return;
        }
        var mb = memory.length() > 16 ? java.util.OptionalInt.empty() : MemorySize.megabytes(memory);
        if (mb.isEmpty()) {
            errors.add(new FieldError(
                    field,
                    "'" + abbreviate(memory) + "' is not an amount of memory; write e.g. \"16GiB\", \"512Mi\" or"
                            + " \"500M\""));
        } else if (mb.getAsInt() < ResourcesSpec.MIN_MEMORY_MB || mb.getAsInt() > ResourcesSpec.MAX_MEMORY_MB) {
            errors.add(new FieldError(
                    field,
                    memory + " is " + mb.getAsInt() + " MiB, outside " + ResourcesSpec.MIN_MEMORY_MB + "-"
                            + ResourcesSpec.MAX_MEMORY_MB + " MiB"));
        }
    }

    private static String abbreviate(String text) {
        return text.length() > 64 ? text.substring(0, 64) + "…" : text;
    }
}
