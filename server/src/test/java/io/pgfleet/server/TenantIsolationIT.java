package io.pgfleet.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.pgfleet.server.support.Api;
import io.pgfleet.server.support.Postgres;
import io.pgfleet.server.support.ServerUnderTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tools.jackson.databind.JsonNode;

/**
 * The OS wall between tenants (pgfleet runs as root): each tenant's instances run as an OS user of their
 * own and own their directories alone, so even a database superuser of one tenant (made by an admin)
 * cannot read another tenant's files, nor the catalog's, nor signal their processes, through COPY …
 * PROGRAM or pg_read_file.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TenantIsolationIT {
    private static final String SU_PASSWORD = "red-superuser-pass-1";
    private Path home;
    private ServerUnderTest server;
    private Api admin;
    private Path redDir;
    private Path blueDir;
    private int redPort;

    @BeforeAll
    void startServer() {
        assumeTrue("root".equals(System.getProperty("user.name")), "the OS wall exists only when pgfleet runs as root");
        home = ServerUnderTest.newHome("iso");
        server = ServerUnderTest.start(home, 7820, 7839);
        admin = server.api();
        admin.post("/v1/tenants", "{\"name\": \"red\"}").expect(201);
        admin.post("/v1/tenants", "{\"name\": \"blue\"}").expect(201);
        Api red = admin.inTenant("red");
        Api blue = admin.inTenant("blue");
        JsonNode redCreated = red.post("/v1/databases", """
                        {"id": "reddb", "spec": {"database_name": "reddb", "nodes": [{"name": "n1"}],
                         "database_users": [{"username": "su", "password": "%s", "attributes": ["LOGIN", "SUPERUSER"]}]}}""".formatted(SU_PASSWORD))
                .expect(202)
                .body();
        JsonNode blueCreated = blue.post("/v1/databases", """
                        {"id": "bluedb", "spec": {"database_name": "bluedb", "nodes": [{"name": "n1"}],
                         "database_users": [{"username": "app", "password": "blue-app-pass-1"}],
                         "pooler": {"enabled": true}}}""").expect(202).body();
        red.awaitTask("reddb", redCreated);
        blue.awaitTask("bluedb", blueCreated);
        redDir = home.resolve("instances")
                .resolve(red.instance("reddb", "n1").path("id").asString());
        blueDir = home.resolve("instances")
                .resolve(blue.instance("bluedb", "n1").path("id").asString());
        redPort = red.instance("reddb", "n1").path("port").asInt();
    }

    @AfterAll
    void stopServer() {
        if (server != null) {
            server.close();
        }
        if (home != null) {
            ServerUnderTest.cleanUp(home);
        }
    }

    @Test
    void eachTenantsInstanceRunsAsItsOwnOsUserInDirectoriesOnlyItMayEnter() throws IOException {
        String redUser = "pgf-" + tenantId("red").replace("-", "").substring(0, 12);
        String blueUser = "pgf-" + tenantId("blue").replace("-", "").substring(0, 12);
        assertThat(userOf(postmasterPid(redDir))).isEqualTo(redUser);
        assertThat(userOf(postmasterPid(blueDir))).isEqualTo(blueUser);
        assertThat(userOf(pid(blueDir.resolve("pgbouncer/pgbouncer.pid")))).isEqualTo(blueUser);
        assertThat(userOf(postmasterPid(home.resolve("catalog")))).isEqualTo("pgfleet-catalog");
        for (String sub : List.of("", "data", "log", "run", "pgbouncer")) {
            Path dir = blueDir.resolve(sub);
            assertThat(Files.getOwner(dir).getName()).as("owner of %s", dir).isEqualTo(blueUser);
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)))
                    .as("mode of %s", dir)
                    .isEqualTo("rwx------");
        }
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(home.resolve("instances"))))
                .as("instances/ is traversable, not listable")
                .isEqualTo("rwx--x--x");
    }

    @Test
    void aSuperuserOfOneTenantCannotReadAnotherTenantsFilesNorTheCatalogs() throws Exception {
        Path catalog = home.resolve("catalog");
        try (Connection su = Postgres.connect(redPort, "reddb", "su", SU_PASSWORD)) {
            Postgres.execute(su, "CREATE TEMP TABLE out (line text)");
            // The controls: the superuser's powers work on its own instance's files.
            assertThat(fromProgram(su, "cat " + redDir.resolve("data/PG_VERSION")))
                    .containsExactly("17");
            assertThat(Postgres.queryOne(su, "SELECT pg_read_file('" + redDir.resolve("data/PG_VERSION") + "')"))
                    .startsWith("17");

            for (Path target : List.of(
                    blueDir.resolve("data/PG_VERSION"),
                    blueDir.resolve("data/global/pg_control"),
                    blueDir.resolve("log/postgresql.log"),
                    blueDir.resolve("pgbouncer/userlist.txt"),
                    catalog.resolve("data/PG_VERSION"),
                    catalog.resolve("log/postgresql.log"),
                    home.resolve("secrets/admin.key"),
                    home.resolve("secrets/catalog.password"))) {
                assertThatThrownBy(() -> fromProgram(su, "cat " + target))
                        .as("COPY FROM PROGRAM 'cat %s'", target)
                        .isInstanceOf(SQLException.class)
                        .hasMessageContaining("program");
                assertThatThrownBy(() -> Postgres.queryOne(su, "SELECT pg_read_file('" + target + "')"))
                        .as("pg_read_file('%s')", target)
                        .isInstanceOf(SQLException.class)
                        .hasMessageContaining("ermission denied");
            }
            for (Path dir : List.of(blueDir, blueDir.resolve("data"), catalog, catalog.resolve("data"))) {
                assertThatThrownBy(() -> fromProgram(su, "ls " + dir)).isInstanceOf(SQLException.class);
                assertThatThrownBy(() -> Postgres.queryOne(su, "SELECT count(*) FROM pg_ls_dir('" + dir + "')"))
                        .isInstanceOf(SQLException.class);
            }
            assertThatThrownBy(() -> fromProgram(su, "ls " + home.resolve("instances")))
                    .as("no tenant lists the other instances' directories")
                    .isInstanceOf(SQLException.class);
            assertThatThrownBy(() -> Postgres.execute(
                            su, "COPY (SELECT 'x') TO PROGRAM 'cat > " + blueDir.resolve("data/evil") + "'"))
                    .isInstanceOf(SQLException.class);
            assertThat(blueDir.resolve("data/evil")).doesNotExist();

            // Signals: its own postmaster answers kill -0, another tenant's and the catalog's do not.
            assertThat(fromProgram(su, "kill -0 " + postmasterPid(redDir) + " && echo alive"))
                    .containsExactly("alive");
            for (long other : List.of(
                    postmasterPid(blueDir), pid(blueDir.resolve("pgbouncer/pgbouncer.pid")), postmasterPid(catalog))) {
                assertThatThrownBy(() -> fromProgram(su, "kill -0 " + other))
                        .as("kill -0 %s", other)
                        .isInstanceOf(SQLException.class);
            }
        }
        assertThat(admin.inTenant("blue").instanceState("bluedb", "n1")).isEqualTo("available");
    }

    @Test
    void anInstanceWhoseFilesBelongToAnOlderOsUserKeepsRunningAsIt() throws Exception {
        Api red = admin.inTenant("red");
        String legacy = "pgfl" + UUID.randomUUID().toString().substring(0, 8);
        run("useradd", "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", legacy);
        try {
            red.awaitTask(
                    "reddb",
                    red.post("/v1/databases/reddb/instances/n1/stop", "{}")
                            .expect(202)
                            .body());
            // What a home from before per-tenant users looks like: the instance owned by one shared user.
            run("chown", "-R", legacy + ":" + legacy, redDir.toString());
            red.awaitTask(
                    "reddb",
                    red.post("/v1/databases/reddb/instances/n1/start", "{}")
                            .expect(202)
                            .body());
            assertThat(userOf(postmasterPid(redDir))).isEqualTo(legacy);
            try (Connection su = Postgres.connect(redPort, "reddb", "su", SU_PASSWORD)) {
                assertThat(Postgres.queryOne(su, "SELECT 1")).isEqualTo("1");
            }
        } finally {
            red.awaitTask(
                    "reddb",
                    red.post("/v1/databases/reddb/instances/n1/stop", "{}")
                            .expect(202)
                            .body());
            String redUser = "pgf-" + tenantId("red").replace("-", "").substring(0, 12);
            run("chown", "-R", redUser + ":" + redUser, redDir.toString());
            run("userdel", legacy);
            red.awaitTask(
                    "reddb",
                    red.post("/v1/databases/reddb/instances/n1/start", "{}")
                            .expect(202)
                            .body());
        }
    }

    @Test
    void aStoppedCatalogOfAnOlderHomeIsGivenToItsOwnOsUser() throws Exception {
        Path older = ServerUnderTest.newHome("isoc");
        try {
            ServerUnderTest.start(older, 7840, 7841).close();
            // A home from before the catalog had its own user: everything under catalog/ is postgres'.
            run("chown", "-R", "postgres:postgres", older.resolve("catalog").toString());
            try (ServerUnderTest again = ServerUnderTest.start(older, 7840, 7841)) {
                assertThat(again.api()
                                .get("/v1/databases")
                                .expect(200)
                                .body()
                                .path("total")
                                .asInt())
                        .isZero();
                assertThat(userOf(postmasterPid(older.resolve("catalog")))).isEqualTo("pgfleet-catalog");
                assertThat(Files.getOwner(older.resolve("catalog/data/PG_VERSION"))
                                .getName())
                        .isEqualTo("pgfleet-catalog");
            }
        } finally {
            ServerUnderTest.cleanUp(older);
        }
    }

    private String tenantId(String name) {
        return admin.get("/v1/tenants/" + name).expect(200).body().path("id").asString();
    }

    /** Lines a shell command run by COPY … FROM PROGRAM printed, as the instance's OS user. */
    private static List<String> fromProgram(Connection su, String command) throws SQLException {
        Postgres.execute(su, "TRUNCATE out");
        Postgres.execute(su, "COPY out FROM PROGRAM '" + command.replace("'", "''") + "'");
        List<String> lines = new ArrayList<>();
        try (var st = su.createStatement();
                var rows = st.executeQuery("SELECT line FROM out")) {
            while (rows.next()) {
                lines.add(rows.getString(1));
            }
        }
        return lines;
    }

    private static long postmasterPid(Path instanceDir) throws IOException {
        return Long.parseLong(Files.readAllLines(instanceDir.resolve("data/postmaster.pid"))
                .get(0)
                .trim());
    }

    private static long pid(Path pidFile) throws IOException {
        return Long.parseLong(Files.readString(pidFile).trim());
    }

    /** The OS user a process runs as, from /proc. */
    private static String userOf(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("Uid:")) {
                String uid = line.split("\\s+")[1];
                for (String entry : Files.readAllLines(Path.of("/etc/passwd"))) {
                    String[] fields = entry.split(":");
                    if (fields[2].equals(uid)) {
                        return fields[0];
                    }
                }
                return uid;
            }
        }
        throw new AssertionError("no Uid line for process " + pid);
    }

    private static void run(String... command) {
        try {
            Process process =
                    new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes());
            if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed: " + output);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
