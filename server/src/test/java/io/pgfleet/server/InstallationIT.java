package io.pgfleet.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgfleet.core.PgfleetException;
import io.pgfleet.server.agent.HostLayout;
import io.pgfleet.server.agent.PostgresDistribution;
import io.pgfleet.server.config.PgfleetProperties;
import io.pgfleet.server.config.ServerOptions;
import io.pgfleet.server.support.Api;
import io.pgfleet.server.support.Postgres;
import io.pgfleet.server.support.ServerUnderTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import tools.jackson.databind.JsonNode;

/** Where the binaries come from (bundled 17 and 16, a system installation) and how start-up fails. */
class InstallationIT {
    private static final Path SYSTEM_PG15 = Path.of("/usr/lib/postgresql/15/bin");

    @Test
    void aSystemInstallationBecomesTheDefaultAndBundledVersionsStaySelectable() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(
                Files.isExecutable(SYSTEM_PG15.resolve("postgres")), "Debian's PostgreSQL 15 is not installed");
        Path home = ServerUnderTest.newHome("inst");
        try (ServerUnderTest server = ServerUnderTest.start(home, 7380, 7389, "--pgfleet.pg-bin-dir=" + SYSTEM_PG15)) {
            Api api = server.api();
            api.awaitTask("sys", api.post("/v1/databases", """
                            {"id": "sys", "spec": {"database_name": "sys", "nodes": [{"name": "n1"}],
                             "database_users": [{"username": "admin", "password": "pw-sys-1", "db_owner": true}]}}""").expect(202).body());
            api.awaitTask("old", api.post("/v1/databases", """
                            {"id": "old", "spec": {"database_name": "old", "postgres_version": "16",
                             "nodes": [{"name": "n1"}],
                             "database_users": [{"username": "admin", "password": "pw-old-1", "db_owner": true}]}}""").expect(202).body());
            assertThat(api.database("sys").path("spec").path("postgres_version").asString())
                    .isEqualTo("15");
            assertThat(serverVersion(api, "sys", "pw-sys-1")).startsWith("15.");
            assertThat(serverVersion(api, "old", "pw-old-1")).startsWith("16.");

            JsonNode unknown = api.post("/v1/databases", """
                            {"id": "new", "spec": {"database_name": "n", "postgres_version": "19",
                             "nodes": [{"name": "n1"}]}}""").expect(422).body();
            assertThat(unknown.path("errors").get(0).path("field").asString()).isEqualTo("spec.postgres_version");
            assertThat(unknown.path("errors").get(0).path("message").asString()).contains("15", "16", "17", "18");

            for (String id : List.of("sys", "old")) {
                api.awaitTask(id, api.delete("/v1/databases/" + id).expect(202).body());
            }
        } finally {
            ServerUnderTest.cleanUp(home);
        }
    }

    @Test
    void twoThreadsUnpackingTheSameVersionGetOneWholeCopy() throws Exception {
        Path home = ServerUnderTest.newHome("dist");
        try {
            PgfleetProperties properties = new PgfleetProperties(
                    home, null, null, null, null, null, null, null, null, null, null, null, 0, false, null, null, null);
            HostLayout layout = new HostLayout(properties);
            PostgresDistribution distribution = new PostgresDistribution(layout, properties);
            CyclicBarrier barrier = new CyclicBarrier(2);
            List<CompletableFuture<Path>> unpacks = List.of(1, 2).stream()
                    .map(i -> CompletableFuture.supplyAsync(() -> {
                        try {
                            barrier.await();
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                        return distribution.binDir("16");
                    }))
                    .toList();
            List<Path> binDirs = unpacks.stream().map(CompletableFuture::join).toList();
            assertThat(binDirs.get(0)).isEqualTo(binDirs.get(1));
            assertThat(binDirs.get(0).resolve("postgres")).isExecutable();
            assertThat(binDirs.get(0).getParent().resolve(".complete")).exists();
            try (var entries = Files.list(layout.distDir())) {
                assertThat(entries.map(p -> p.getFileName().toString()))
                        .as("no half-unpacked copy is left behind")
                        .noneMatch(name -> name.endsWith(".partial"));
            }
            Process version = new ProcessBuilder(
                            binDirs.get(0).resolve("postgres").toString(), "--version")
                    .redirectErrorStream(true)
                    .start();
            assertThat(new String(version.getInputStream().readAllBytes())).contains("PostgreSQL) 16.");
        } finally {
            ServerUnderTest.cleanUp(home);
        }
    }

    @Test
    void aDistDirOthersMayWriteIsRefused() throws Exception {
        Path home = ServerUnderTest.newHome("dist");
        Path shared = home.resolve("shared-dist");
        try {
            Files.createDirectories(shared);
            Files.setPosixFilePermissions(shared, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
            PgfleetProperties properties = new PgfleetProperties(
                    home, null, null, null, null, null, null, null, null, null, null, null, 0, false, null, null,
                    shared);
            assertThatThrownBy(() -> new HostLayout(properties))
                    .isInstanceOf(PgfleetException.class)
                    .hasMessageContaining("--dist-dir " + shared)
                    .hasMessageContaining("writable by other users");
            Files.setPosixFilePermissions(shared, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
            assertThat(new HostLayout(properties).distDir()).isEqualTo(shared);
        } finally {
            ServerUnderTest.cleanUp(home);
        }
    }

    @Test
    void aMissingInstanceUserIsAClearStartupError() {
        Path home = ServerUnderTest.newHome("user");
        try {
            assertThatThrownBy(() -> ServerUnderTest.start(home, 7390, 7391, "--pgfleet.run-as=no-such-user"))
                    .satisfies(e -> {
                        Throwable cause = e;
                        while (cause != null && !(cause instanceof PgfleetException)) {
                            cause = cause.getCause();
                        }
                        assertThat(cause).isNotNull();
                        assertThat(cause.getMessage()).contains("no-such-user").contains("--run-as");
                    });
        } finally {
            ServerUnderTest.cleanUp(home);
        }
    }

    @Test
    void migrateOnlyAppliesTheCatalogSchemaAndExits() throws Exception {
        Path home = ServerUnderTest.newHome("migr");
        try {
            int exit = new CommandLine(new ServerOptions(io.pgfleet.server.PgfleetServer.class))
                    .execute("--home", home.toString(), "--migrate-only", "--port", "0");
            assertThat(exit).isZero();
            assertThat(home.resolve("catalog/data/PG_VERSION")).exists();
            assertThat(home.resolve("catalog/data/postmaster.pid"))
                    .as("the embedded catalog is stopped again")
                    .doesNotExist();
            // The schema is there: a server on the same home starts without migrating anything new.
            try (ServerUnderTest server = ServerUnderTest.start(home, 7392, 7393)) {
                assertThat(server.api()
                                .get("/v1/databases")
                                .expect(200)
                                .body()
                                .path("total")
                                .asInt())
                        .isZero();
            }
        } finally {
            ServerUnderTest.cleanUp(home);
        }
    }

    private static String serverVersion(Api api, String id, String password) throws Exception {
        int port = api.instance(id, "n1").path("port").asInt();
        try (Connection c = Postgres.connect(port, id, "admin", password)) {
            return Postgres.queryOne(c, "show server_version");
        }
    }
}
