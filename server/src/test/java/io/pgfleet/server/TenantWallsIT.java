package io.pgfleet.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgfleet.server.support.Api;
import io.pgfleet.server.support.ServerUnderTest;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tools.jackson.databind.JsonNode;

/**
 * The API's walls between tenants. Superuser power only from an admin key: an operator's create or update
 * that asks for SUPERUSER, REPLICATION, BYPASSRLS, membership in a superuser role, or the roles that run
 * programs or touch server files is a 403 naming it, and changes nothing; an admin may. No message names
 * another tenant's database, node or key.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TenantWallsIT {
    private Path home;
    private ServerUnderTest server;
    private Api admin;
    private Api operator;

    @BeforeAll
    void startServer() {
        home = ServerUnderTest.newHome("supw");
        server = ServerUnderTest.start(home, 7800, 7817);
        admin = server.api();
        admin.post("/v1/tenants", "{\"name\": \"acme\"}").expect(201);
        String key = admin.post("/v1/api-keys", "{\"name\": \"ops\", \"role\": \"operator\", \"tenant\": \"acme\"}")
                .expect(201)
                .body()
                .path("key")
                .asString();
        operator = admin.withKey(key);
    }

    @AfterAll
    void stopServer() {
        if (server != null) {
            server.close();
        }
        ServerUnderTest.cleanUp(home);
    }

    @Test
    void anOperatorAskingForSuperuserPowerIsRefusedNamingIt() {
        for (String[] asked : List.of(
                new String[] {"\"attributes\": [\"LOGIN\", \"SUPERUSER\"]", "SUPERUSER"},
                new String[] {"\"attributes\": [\"superuser\"]", "SUPERUSER"},
                new String[] {"\"attributes\": [\"Replication\"]", "REPLICATION"},
                new String[] {"\"attributes\": [\"BYPASSRLS\"]", "BYPASSRLS"},
                new String[] {"\"roles\": [\"postgres\"]", "'postgres'"},
                new String[] {"\"roles\": [\"pg_execute_server_program\"]", "'pg_execute_server_program'"},
                new String[] {"\"roles\": [\"PG_READ_SERVER_FILES\"]", "'PG_READ_SERVER_FILES'"},
                new String[] {"\"roles\": [\"pg_write_server_files\"]", "'pg_write_server_files'"},
                new String[] {"\"roles\": [\"pgfleet_pooler\"]", "'pgfleet_pooler'"})) {
            Api.Response refused = operator.post("/v1/databases", create("escape", asked[0]));
            assertThat(refused.status()).as("operator asking for %s", asked[0]).isEqualTo(403);
            assertThat(refused.contentType()).startsWith("application/problem+json");
            assertThat(refused.code()).isEqualTo("forbidden");
            assertThat(refused.body().path("detail").asString())
                    .contains(asked[1])
                    .contains("spec.database_users[0]")
                    .contains("admin key");
            assertThat(refused.body().path("errors").get(0).path("message").asString())
                    .contains(asked[1]);
        }
        assertThat(operator.get("/v1/databases/escape").status()).isEqualTo(404);
        assertThat(operator.get("/v1/audit?limit=500").expect(200).body().toString())
                .contains("forbidden");
    }

    @Test
    void anOperatorsUpdateMayKeepButNotGrowOrTakeOverAnAdminsSuperuser() {
        JsonNode created = admin.inTenant("acme")
                .post(
                        "/v1/databases",
                        create(
                                "shared",
                                "\"attributes\": [\"LOGIN\", \"SUPERUSER\"], \"roles\":"
                                        + " [\"pg_execute_server_program\"]"))
                .expect(202)
                .body();
        operator.awaitTask("shared", created);
        String kept = "\"attributes\": [\"LOGIN\", \"SUPERUSER\"], \"roles\": [\"pg_execute_server_program\"]";

        // The admin's superuser unchanged, an ordinary user added: allowed.
        operator.awaitTask(
                "shared",
                operator.post("/v1/databases/shared", update(kept, "{\"username\": \"app\"}"))
                        .expect(202)
                        .body());

        for (String[] asked : List.of(
                new String[] {update(kept, "{\"username\": \"app\", \"attributes\": [\"BYPASSRLS\"]}"), "BYPASSRLS"},
                new String[] {update(kept, "{\"username\": \"app\", \"roles\": [\"su\"]}"), "'su'"},
                new String[] {
                    update(kept + ", \"password\": \"now-i-know-it\"", "{\"username\": \"app\"}"),
                    "only an admin key may set its password"
                },
                new String[] {
                    update("\"attributes\": [\"LOGIN\", \"SUPERUSER\", \"REPLICATION\"]", "{\"username\": \"app\"}"),
                    "REPLICATION"
                })) {
            Api.Response refused = operator.post("/v1/databases/shared", asked[0]);
            assertThat(refused.status()).as("operator update %s", asked[0]).isEqualTo(403);
            assertThat(refused.code()).isEqualTo("forbidden");
            assertThat(refused.body().toString()).contains(asked[1]).doesNotContain("now-i-know-it");
        }
        JsonNode users = operator.database("shared").path("spec").path("database_users");
        assertThat(users.toString()).doesNotContain("BYPASSRLS").doesNotContain("REPLICATION");

        // An admin may do what the operator may not.
        admin.inTenant("acme")
                .awaitTask(
                        "shared",
                        admin.inTenant("acme")
                                .post(
                                        "/v1/databases/shared",
                                        update(kept, "{\"username\": \"app\", \"roles\": [\"su\"]}"))
                                .expect(202)
                                .body());
        operator.awaitTask(
                "shared", operator.delete("/v1/databases/shared").expect(202).body());
    }

    @Test
    void aPortConflictOrAKeyListNamesNothingOfAnotherTenant() {
        int port = io.pgfleet.server.support.ServerUnderTest.port(7818);
        JsonNode created =
                admin.post("/v1/databases", """
                        {"id": "secret-billing", "spec": {"database_name": "app",
                         "nodes": [{"name": "hidden_node", "port": %d}]}}""".formatted(port)).expect(202).body();
        admin.awaitTask("secret-billing", created);
        Api.Response conflict =
                operator.post("/v1/databases", """
                        {"id": "mine", "spec": {"database_name": "app", "nodes": [{"name": "n1", "port": %d}]}}""".formatted(port)).expect(409);
        assertThat(conflict.body().path("detail").asString()).isEqualTo("port " + port + " is reserved on host host-1");
        assertThat(conflict.body().toString()).doesNotContain("secret-billing").doesNotContain("hidden_node");
        // Within its own tenant the holder is named, which helps.
        Api.Response own = admin.post("/v1/databases", """
                        {"id": "mine", "spec": {"database_name": "app", "nodes": [{"name": "n1", "port": %d}]}}""".formatted(port)).expect(409);
        assertThat(own.body().path("detail").asString()).contains("secret-billing");

        // The operator's keys were made by the default tenant's admin key: its id is not shown to acme.
        String adminKeyId = admin.key().split("_")[1];
        JsonNode keys = operator.get("/v1/api-keys").expect(200).body().path("api_keys");
        assertThat(keys).isNotEmpty();
        assertThat(keys.toString()).doesNotContain(adminKeyId);
        assertThat(admin.get("/v1/api-keys").expect(200).body().toString()).contains(adminKeyId);
        admin.awaitTask(
                "secret-billing",
                admin.delete("/v1/databases/secret-billing").expect(202).body());
    }

    @Test
    void unsuspendingADatabaseThatIsNotSuspendedIsAConflict() {
        JsonNode created = operator.post("/v1/databases", create("awake", "\"attributes\": [\"LOGIN\"]"))
                .expect(202)
                .body();
        operator.awaitTask("awake", created);
        Api.Response refused =
                operator.post("/v1/databases/awake/unsuspend", "{}").expect(409);
        assertThat(refused.code()).isEqualTo("invalid_state");
        assertThat(refused.body().path("detail").asString()).contains("not suspended");
        assertThat(operator.get("/v1/databases/awake/tasks").expect(200).body().path("tasks"))
                .hasSize(1);
        operator.awaitTask(
                "awake", operator.delete("/v1/databases/awake").expect(202).body());
    }

    private static String create(String id, String userFields) {
        return """
                {"id": "%s", "spec": {"database_name": "app", "nodes": [{"name": "n1"}],
                 "database_users": [{"username": "su", %s}]}}""".formatted(id, userFields);
    }

    private static String update(String suFields, String otherUser) {
        return """
                {"spec": {"database_name": "app", "nodes": [{"name": "n1"}],
                 "database_users": [{"username": "su", %s}, %s]}}""".formatted(suFields, otherUser);
    }
}
