package io.pgfleet.server.api;

import io.pgfleet.server.agent.PostgresDistribution;
import io.pgfleet.server.api.Views.TaskView;
import io.pgfleet.server.catalog.CatalogRows.TaskRow;
import io.pgfleet.server.catalog.JdbcInstanceRepository;
import io.pgfleet.server.catalog.JdbcStorageRepository;
import io.pgfleet.server.config.PgfleetProperties;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.springframework.stereotype.Component;

/**
 * The members pgEdge Control Plane's clients read that pgfleet's own rows do not carry directly: a
 * task's node and host, an instance's {@code postgres} status and {@code connection_info}.
 */
@Component
public class PgEdgeCompat {
    static final String PRIMARY = "primary";
    static final String DATABASE_SCOPE = "database";
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    // <database-uuid>-<node>-<8 chars>: the node name sits between the UUID and the suffix.
    private static final Pattern INSTANCE_ID = Pattern.compile("[0-9a-f-]{36}-(.+)-[a-z0-9]{8}");

    private final JdbcInstanceRepository instances;
    private final PostgresDistribution distribution;
    private final PgfleetProperties properties;

    private final JdbcStorageRepository storage;

    public PgEdgeCompat(
            JdbcInstanceRepository instances,
            PostgresDistribution distribution,
            PgfleetProperties properties,
            JdbcStorageRepository storage) {
        this.storage = storage;
        this.instances = instances;
        this.distribution = distribution;
        this.properties = properties;
    }

    /** pgEdge's {@code postgres} member of an instance. */
    public record PostgresStatus(String version, boolean pendingRestart, String role) {}

    /** pgEdge's {@code connection_info}: where a client reaches the instance. */
    public record ConnectionInfo(String hostname, String ipv4Address, int port) {
        static ConnectionInfo of(String hostname, int port) {
            String ipv4 =
                    IPV4.matcher(hostname).matches() ? hostname : hostname.equals("localhost") ? "127.0.0.1" : null;
            return new ConnectionInfo(hostname, ipv4, port);
        }
    }

    /** What an instance view needs beyond its row. */
    public interface InstanceFacts {
        String hostname();

        String fullVersion(String major);

        /** The instance's storage as the catalog records it (its host's last write probe). */
        Views.StorageView storage(String instanceId);
    }

    /** Facts for one answer: the fleet's storage problems (usually none) are read once, when first asked. */
    public InstanceFacts facts() {
        return new InstanceFacts() {
            private Map<String, JdbcStorageRepository.StorageProblemRow> problems;

            @Override
            public Views.StorageView storage(String instanceId) {
                if (problems == null) {
                    problems = storage.all().stream()
                            .collect(Collectors.toMap(
                                    JdbcStorageRepository.StorageProblemRow::instanceId, Function.identity()));
                }
                JdbcStorageRepository.StorageProblemRow p = problems.get(instanceId);
                return p == null
                        ? Views.StorageView.WRITABLE
                        : new Views.StorageView(false, p.problem(), p.message(), p.directory(), p.since());
            }

            @Override
            public String hostname() {
                return properties.advertiseHost();
            }

            @Override
            public String fullVersion(String major) {
                return major == null ? null : distribution.fullVersion(major);
            }
        };
    }

    /**
     * pgEdge writes versions as major.minor ("17.11"); pgfleet runs a major's bundled minor. A version
     * this host runs is matched to its major; any other is left for the validator to refuse with the
     * list of what this host offers.
     */
    public io.pgfleet.core.DatabaseSpec normalize(io.pgfleet.core.DatabaseSpec spec) {
        if (spec == null) {
            return null;
        }
        return spec.withPostgresVersion(distribution.majorOf(spec.postgresVersion()))
                .withNodes(spec.nodes().stream()
                        .map(n -> n == null ? null : n.withPostgresVersion(distribution.majorOf(n.postgresVersion())))
                        .toList());
    }

    /** A task with its node and host: from the instance row while it exists, else from the instance id. */
    public TaskView task(TaskRow row) {
        if (row.instanceId() == null) {
            return TaskView.of(row, null, null);
        }
        return instances
                .find(row.instanceId())
                .map(i -> TaskView.of(row, i.nodeName(), i.hostId()))
                .orElseGet(() -> TaskView.of(row, nodeOf(row.instanceId()), null));
    }

    static String nodeOf(String instanceId) {
        var m = INSTANCE_ID.matcher(instanceId);
        return m.matches() ? m.group(1) : null;
    }
}
