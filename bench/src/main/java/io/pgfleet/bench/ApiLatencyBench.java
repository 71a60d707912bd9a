package io.pgfleet.bench;

import io.pgfleet.testkit.PgfleetProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;

/**
 * API latency with 1,000 databases in the catalog: {@code GET /v1/databases} (a page of 50, with its
 * total) and {@code GET /v1/databases/{id}}, p50 and p99; and what authentication costs per request,
 * as the difference between {@code GET /v1/health} (no key) and {@code GET /v1/hosts} (a key, an
 * equally trivial handler), and the time of a refused (401) call.
 *
 * <p>Run: {@code java -jar bench/target/pgfleet-bench.jar api-latency [requests]} (default 2000).
 */
public final class ApiLatencyBench {
    private static final int DATABASES = 1000;
    private static final int API_PORT = 3297;

    private ApiLatencyBench() {}

    public static void main(String[] args) {
        int requests = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
        Path top = LifecycleBench.createOpenDirectory(
                Path.of("/tmp", "pgfleet-apibench-" + Long.toString(System.currentTimeMillis(), 36)));
        Path home = LifecycleBench.createOpenDirectory(top.resolve("home"));
        PgfleetClient client = new PgfleetClient(API_PORT);
        try (PgfleetProcess server = LifecycleBench.startServer(
                LifecycleBench.findLauncher(), home, API_PORT, "7300-7309", top.resolve("server.log"))) {
            client.useKey(LifecycleBench.readAdminKey(home));
            insertDatabases(home, DATABASES);
            int warmup = Math.max(200, requests / 10);
            measure(client, "/v1/databases", warmup);
            measure(client, "/v1/databases/db-0500", warmup);
            measure(client, "/v1/hosts", warmup);
            measure(client, "/v1/health", warmup);

            List<String[]> rows = new ArrayList<>();
            rows.add(row("GET /v1/databases (page of 50, total)", measure(client, "/v1/databases", requests)));
            rows.add(row("GET /v1/databases/{id}", measure(client, "/v1/databases/db-0500", requests)));
            long[] hosts = measure(client, "/v1/hosts", requests);
            long[] health = measure(client, "/v1/health", requests);
            rows.add(row("GET /v1/hosts (with key)", hosts));
            rows.add(row("GET /v1/health (no key)", health));
            PgfleetClient stranger = new PgfleetClient(API_PORT);
            stranger.useKey("pgf_aaaaaaaaaaaa_" + "x".repeat(43));
            long[] refused = new long[requests];
            for (int i = 0; i < requests; i++) {
                refused[i] = stranger.timedGet("/v1/databases", 401);
            }
            java.util.Arrays.sort(refused);
            rows.add(row("GET /v1/databases, unknown key (401)", refused));
            System.out.printf(
                    "%d databases in the catalog, %d requests each, one client, sequential%n", DATABASES, requests);
            System.out.printf("%-40s %9s %9s%n", "request", "p50 ms", "p99 ms");
            for (String[] r : rows) {
                System.out.printf("%-40s %9s %9s%n", r[0], r[1], r[2]);
            }
            System.out.printf(
                    "authentication overhead (p50 hosts - p50 health): %.3f ms%n",
                    (percentile(hosts, 50) - percentile(health, 50)) / 1e6);
        } finally {
            RawPostgres.deleteTree(top);
        }
    }

    private static String[] row(String name, long[] sorted) {
        return new String[] {
            name,
            String.format("%.3f", percentile(sorted, 50) / 1e6),
            String.format("%.3f", percentile(sorted, 99) / 1e6)
        };
    }

    private static long[] measure(PgfleetClient client, String path, int n) {
        long[] nanos = new long[n];
        for (int i = 0; i < n; i++) {
            nanos[i] = client.timedGet(path, 200);
        }
        java.util.Arrays.sort(nanos);
        return nanos;
    }

    private static double percentile(long[] sorted, double percent) {
        int rank = (int) Math.ceil(percent / 100.0 * sorted.length);
        return sorted[Math.max(0, rank - 1)];
    }

    /** Rows straight into the embedded catalog: 1,000 real instances are not what is measured here. */
    static void insertDatabases(Path home, int count) {
        try {
            List<String> pid = Files.readAllLines(home.resolve("catalog/data/postmaster.pid"));
            int port = Integer.parseInt(pid.get(3).trim());
            Properties props = new Properties();
            props.setProperty("user", "postgres");
            props.setProperty(
                    "password",
                    Files.readString(home.resolve("secrets/catalog.password")).trim());
            try (Connection c =
                            DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres", props);
                    PreparedStatement insert =
                            c.prepareStatement("insert into databases (uuid, tenant_id, id, spec, state) values (?, "
                                    + "'00000000-0000-0000-0000-000000000001', ?, ?::jsonb, 'stopped')")) {
                for (int i = 0; i < count; i++) {
                    insert.setObject(1, UUID.randomUUID());
                    insert.setString(2, "db-%04d".formatted(i));
                    insert.setString(3, "{\"database_name\": \"db\", \"nodes\": [{\"name\": \"n1\"}]}");
                    insert.addBatch();
                }
                insert.executeBatch();
            }
        } catch (Exception e) {
            throw new IllegalStateException("inserting " + count + " databases into the catalog: " + e.getMessage(), e);
        }
    }
}
