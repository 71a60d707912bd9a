package io.pgfleet.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Good-call latency during a flood of bad keys: one client times {@code GET /v1/databases/{id}} with a
 * valid key, first alone, then while {@code flooders} threads send calls with an unknown key as fast as
 * they are answered (401). Prints p50/p99 of both phases, the flood's rate, and how many audit rows the
 * flood added (refusals are audited per caller and minute, with a count).
 *
 * <p>Run: {@code java -jar bench/target/pgfleet-bench.jar refusal-flood [requests] [flooders]} (default
 * 2000 good calls per phase, 4 flooding threads).
 */
public final class RefusalFloodBench {
    private static final int API_PORT = 3295;

    private RefusalFloodBench() {}

    public static void main(String[] args) {
        int requests = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
        int flooders = args.length > 1 ? Integer.parseInt(args[1]) : 4;
        Path top = LifecycleBench.createOpenDirectory(
                Path.of("/tmp", "pgfleet-floodbench-" + Long.toString(System.currentTimeMillis(), 36)));
        Path home = LifecycleBench.createOpenDirectory(top.resolve("home"));
        PgfleetClient client = new PgfleetClient(API_PORT);
        try (PgfleetServerProcess server = PgfleetServerProcess.start(
                LifecycleBench.findLauncher(), home, API_PORT, "7310-7319", top.resolve("server.log"))) {
            server.awaitHealthy(client);
            client.useKey(LifecycleBench.readAdminKey(home));
            client.postJson("/v1/tenants", "{\"name\": \"flood-bench\"}", 201); // a mutation: one audit row of its own
            String path = "/v1/tenants/flood-bench";
            measure(client, path, Math.max(200, requests / 10));
            long[] alone = measure(client, path, requests);
            long auditBefore = auditTotal(client);

            AtomicBoolean flooding = new AtomicBoolean(true);
            AtomicLong refused = new AtomicLong();
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < flooders; t++) {
                PgfleetClient stranger = new PgfleetClient(API_PORT);
                stranger.useKey("pgf_" + "%012d".formatted(t) + "_" + "x".repeat(43));
                Thread thread = new Thread(() -> {
                    while (flooding.get()) {
                        stranger.timedGet("/v1/databases", 401);
                        refused.incrementAndGet();
                    }
                });
                thread.start();
                threads.add(thread);
            }
            long floodStart = System.nanoTime();
            RawPostgres.sleep(500); // the flood at full speed before measuring
            long[] during = measure(client, path, requests);
            flooding.set(false);
            for (Thread thread : threads) {
                thread.join(30_000);
            }
            double seconds = (System.nanoTime() - floodStart) / 1e9;
            long auditAdded = auditTotal(client) - auditBefore;

            System.out.printf(
                    "good calls: GET %s with a valid key, %d per phase, one client, sequential%n", path, requests);
            System.out.printf("%-34s %9s %9s%n", "phase", "p50 ms", "p99 ms");
            System.out.printf("%-34s %9.3f %9.3f%n", "alone", pct(alone, 50), pct(alone, 99));
            System.out.printf("%-34s %9.3f %9.3f%n", "during a bad-key flood", pct(during, 50), pct(during, 99));
            System.out.printf(
                    "flood: %d threads, %d refused calls (401) in %.1f s = %.0f/s; audit rows added: %d%n",
                    flooders, refused.get(), seconds, refused.get() / seconds, auditAdded);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } finally {
            RawPostgres.deleteTree(top);
        }
    }

    private static long auditTotal(PgfleetClient client) {
        return client.getJson("/v1/audit?limit=1").path("total").asLong();
    }

    private static long[] measure(PgfleetClient client, String path, int n) {
        long[] nanos = new long[n];
        for (int i = 0; i < n; i++) {
            nanos[i] = client.timedGet(path, 200);
        }
        Arrays.sort(nanos);
        return nanos;
    }

    private static double pct(long[] sorted, double percent) {
        int rank = (int) Math.ceil(percent / 100.0 * sorted.length);
        return sorted[Math.max(0, rank - 1)] / 1e6;
    }
}
