package io.pgfleet.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgfleet.server.support.Api;
import io.pgfleet.server.support.Postgres;
import io.pgfleet.server.support.ServerUnderTest;
import io.pgfleet.testkit.Homes;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import tools.jackson.databind.JsonNode;

/**
 * A full disk is a state (issue 16), on a real full file system: the server's {@code instances/} is a
 * small tmpfs (the suite runs as root), filled to the last byte. The instance reports it within seconds
 * with one event, an update is refused before anything changes, a Postgres that PANICs on its WAL stays
 * down with the reason in its status instead of being restarted in a loop, and once space is freed the
 * state clears (one event) and the restart policy brings the instance back with its data.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StorageFullIT {
    // A superuser (the test's key is an admin's): CHECKPOINT and pg_logical_emit_message need it.
    private static final String PW = "disk-owner-pw";
    private Path home;
    private Path mount;
    private boolean mounted;
    private ServerUnderTest server;
    private Api api;
    private int port;

    @BeforeAll
    void startServerOnASmallDisk() throws Exception {
        home = ServerUnderTest.newHome("disk");
        mount = home.resolve("instances");
        Files.createDirectories(mount);
        // Room for one instance (initdb, a WAL segment or two) and little else.
        run("mount", "-t", "tmpfs", "-o", "size=160m,mode=0711", "pgfleet-it-disk", mount.toString());
        mounted = true;
        server = ServerUnderTest.start(
                home,
                7260,
                7269,
                "--pgfleet.health-interval=250ms",
                "--pgfleet.storage-check-interval=500ms",
                "--pgfleet.heal-backoff-initial=200ms");
        api = server.api();
        api.awaitTask(
                "full", api.post("/v1/databases", """
                                {"id": "full", "spec": {"database_name": "app", "nodes": [{"name": "n1"}],
                                 "database_users": [{"username": "owner", "password": "%s", "db_owner": true,
                                   "attributes": ["LOGIN", "SUPERUSER"]}]}}""".formatted(PW)).expect(202).body());
        port = api.instance("full", "n1").path("port").asInt();
        try (Connection c = Postgres.connect(port, "app", "owner", PW)) {
            Postgres.execute(c, "create table kept(v text); insert into kept values ('still here'); checkpoint");
        }
    }

    @AfterAll
    void stopAndUnmount() {
        try {
            if (server != null) {
                server.close();
            }
        } finally {
            try {
                // The postmaster keeps the tmpfs busy: stop it before unmounting, then remove the home.
                Homes.stopProcesses(home);
            } finally {
                if (mounted) {
                    run("umount", mount.toString());
                }
                ServerUnderTest.cleanUp(home);
            }
        }
    }

    @Test
    @Order(1)
    void aFullDiskShowsOnTheInstanceWithOneEventWithinSeconds() throws Exception {
        assertThat(api.instance("full", "n1").path("storage").path("writable").asBoolean(false))
                .isTrue();
        fill(mount.resolve("filler"));
        long filled = System.nanoTime();
        await().atMost(Duration.ofSeconds(5))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> !api.instance("full", "n1")
                        .path("storage")
                        .path("writable")
                        .asBoolean(true));
        long seenMs = (System.nanoTime() - filled) / 1_000_000;
        System.out.println("storage full seen in the instance's status after " + seenMs + " ms");
        JsonNode storage = api.instance("full", "n1").path("storage");
        assertThat(storage.path("problem").asString()).isEqualTo("no_space");
        assertThat(storage.path("message").asString()).contains("no space left on device");
        assertThat(storage.path("directory").asString()).startsWith(mount.toString());
        assertThat(storage.path("since").isNull()).isFalse();
        // One event when it starts, however many probes (every 500 ms) see it.
        await().during(Duration.ofMillis(1500))
                .atMost(Duration.ofSeconds(3))
                .until(() -> eventCount("instance.storage_unwritable") == 1);
        assertThat(prometheus()).contains("pgfleet_instances_storage_unwritable 1.0");
    }

    @Test
    @Order(2)
    void anUpdateIsRefusedBeforeTouchingAnythingAndTheCatalogKeepsTheOldSpec() throws Exception {
        JsonNode before = api.database("full").path("spec");
        Api.Response refused = api.post("/v1/databases/full", """
                        {"spec": {"database_name": "app", "nodes": [{"name": "n1"}],
                         "database_users": [{"username": "owner", "db_owner": true, "attributes": ["LOGIN", "SUPERUSER"]}],
                         "postgresql_conf": {"work_mem": "8MB"}}}""").expect(409);
        assertThat(refused.contentType()).startsWith("application/problem+json");
        assertThat(refused.code()).isEqualTo("storage_unwritable");
        assertThat(refused.body().path("detail").asString())
                .contains("instance n1 of full")
                .contains("no space left on device");
        JsonNode after = api.database("full");
        assertThat(after.path("spec")).isEqualTo(before);
        assertThat(after.path("spec").path("postgresql_conf").has("work_mem")).isFalse();
        assertThat(api.get("/v1/databases/full/tasks").expect(200).body().toString())
                .doesNotContain("\"update\"");
        assertThat(api.instanceState("full", "n1")).isEqualTo("available");
        try (Connection c = Postgres.connect(port, "app", "owner", PW)) {
            assertThat(Postgres.queryOne(c, "show work_mem")).isEqualTo("4MB");
        }
    }

    @Test
    @Order(3)
    void aPostgresThatPanicsOnItsFullWalDiskStaysDownWithTheCauseInsteadOfRestartingInALoop() throws Exception {
        // WAL only (no table grows): Postgres PANICs when it cannot create its next WAL segment.
        try (Connection c = Postgres.connect(port, "app", "owner", PW)) {
            for (int i = 0; i < 64; i++) {
                Postgres.execute(c, "select pg_logical_emit_message(false, 'fill', repeat('x', 1000000))");
            }
            throw new AssertionError("64 MB of WAL were written on a full disk");
        } catch (SQLException expected) {
            System.out.println("WAL write on the full disk: " + expected.getMessage());
        }
        await().atMost(Duration.ofSeconds(20))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> api.instanceState("full", "n1").equals("failed"));
        // Held back: no automatic restart is scheduled while the disk is full, and the status says why.
        await().during(Duration.ofSeconds(3))
                .atMost(Duration.ofSeconds(4))
                .until(() -> api.instanceState("full", "n1").equals("failed"));
        JsonNode instance = api.instance("full", "n1");
        assertThat(instance.path("storage").path("writable").asBoolean(true)).isFalse();
        assertThat(instance.path("error").asString())
                .contains("its storage cannot be written")
                .contains("No space left on device"); // the server log's PANIC
        assertThat(api.get("/v1/databases/full/tasks").expect(200).body().toString())
                .doesNotContain("heal_instance");
    }

    @Test
    @Order(4)
    void freeingSpaceClearsTheStateAndTheRestartPolicyBringsTheInstanceBackWithItsData() throws Exception {
        Files.delete(mount.resolve("filler"));
        long freed = System.nanoTime();
        await().atMost(Duration.ofSeconds(5))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> api.instance("full", "n1")
                        .path("storage")
                        .path("writable")
                        .asBoolean(false));
        System.out.println("storage writable again after " + (System.nanoTime() - freed) / 1_000_000 + " ms");
        assertThat(eventCount("instance.storage_writable")).isEqualTo(1);
        await().atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> api.instanceState("full", "n1").equals("available"));
        System.out.println("available again " + (System.nanoTime() - freed) / 1_000_000 + " ms after freeing space");
        try (Connection c = Postgres.connect(port, "app", "owner", PW)) {
            assertThat(Postgres.queryOne(c, "select v from kept")).isEqualTo("still here");
        }
        assertThat(prometheus()).contains("pgfleet_instances_storage_unwritable 0.0");
        // The update refused on the full disk now goes through.
        api.awaitTask("full", api.post("/v1/databases/full", """
                                {"spec": {"database_name": "app", "nodes": [{"name": "n1"}],
                                 "database_users": [{"username": "owner", "db_owner": true, "attributes": ["LOGIN", "SUPERUSER"]}],
                                 "postgresql_conf": {"work_mem": "8MB"}}}""").expect(202).body());
        try (Connection c = Postgres.connect(port, "app", "owner", PW)) {
            assertThat(Postgres.queryOne(c, "show work_mem")).isEqualTo("8MB");
        }
    }

    private long eventCount(String type) {
        JsonNode events = api.get("/v1/events?database_id=full&type=" + type)
                .expect(200)
                .body()
                .path("events");
        return events.size();
    }

    private String prometheus() {
        return Api.raw(HttpRequest.newBuilder(URI.create(api.base() + "/actuator/prometheus"))
                .header("Authorization", "Bearer " + ServerUnderTest.adminKey(home))
                .build());
    }

    /** Writes zeros until the file system has no byte left (1 MiB at a time, then 4 KiB). */
    private static void fill(Path file) throws IOException {
        try (OutputStream out = Files.newOutputStream(file)) {
            for (int chunk : new int[] {1 << 20, 4096}) {
                byte[] zeros = new byte[chunk];
                while (writes(out, zeros)) {
                    // until the file system is full
                }
            }
        }
        assertThat(Files.getFileStore(file).getUsableSpace()).isZero();
    }

    /** Whether the write went in; false on ENOSPC, anything else fails the test. */
    private static boolean writes(OutputStream out, byte[] bytes) throws IOException {
        try {
            out.write(bytes);
            return true;
        } catch (IOException e) {
            if (String.valueOf(e.getMessage()).contains("No space left on device")) {
                return false;
            }
            throw e;
        }
    }

    private static void run(String... command) {
        try {
            Process p = new ProcessBuilder(command).inheritIO().start();
            if (p.waitFor() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " exited with " + p.exitValue());
            }
        } catch (IOException e) {
            throw new IllegalStateException(String.join(" ", command) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
