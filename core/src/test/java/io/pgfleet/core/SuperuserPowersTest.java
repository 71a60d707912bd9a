package io.pgfleet.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SuperuserPowersTest {

    @ParameterizedTest
    @ValueSource(strings = {"SUPERUSER", "superuser", "Replication", "BYPASSRLS"})
    void attributesThatAmountToSuperuserAreAskedForInAnyCase(String attribute) {
        List<FieldError> asked = SuperuserPowers.askedFor(null, spec(user("app", null, List.of(attribute))), 17);
        assertThat(asked).singleElement().satisfies(e -> {
            assertThat(e.field()).isEqualTo("spec.database_users[0].attributes");
            assertThat(e.message()).contains(attribute.toUpperCase(java.util.Locale.ROOT));
        });
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "postgres",
                "POSTGRES",
                "pg_execute_server_program",
                "PG_EXECUTE_SERVER_PROGRAM",
                "pg_read_server_files",
                "pg_write_server_files",
                "pgfleet_pooler"
            })
    void rolesThatRunProgramsTouchFilesOrAreSuperusersAreAskedFor(String role) {
        List<FieldError> asked =
                SuperuserPowers.askedFor(null, spec(new DatabaseUserSpec("app", null, null, null, List.of(role))), 17);
        assertThat(asked).singleElement().satisfies(e -> {
            assertThat(e.field()).isEqualTo("spec.database_users[0].roles");
            assertThat(e.message()).contains("'" + role + "'");
        });
    }

    @Test
    void membershipInASpecUserWithSuperuserIsAskedFor() {
        DatabaseSpec current = spec(user("ops", null, List.of("SUPERUSER")));
        DatabaseSpec desired = spec(
                user("ops", null, List.of("SUPERUSER")), new DatabaseUserSpec("app", null, null, null, List.of("OPS")));
        assertThat(SuperuserPowers.askedFor(current, desired, 17))
                .extracting(FieldError::field)
                .containsExactly("spec.database_users[1].roles");
    }

    @Test
    void ordinaryAttributesAndRolesAskForNothing() {
        DatabaseSpec desired = spec(new DatabaseUserSpec(
                "app",
                "pw-1",
                true,
                List.of("LOGIN", "CREATEDB", "CREATEROLE", "NOSUPERUSER"),
                List.of("pg_read_all_data", "pg_read_all_stats", "pg_signal_backend")));
        assertThat(SuperuserPowers.askedFor(null, desired, 17)).isEmpty();
    }

    @Test
    void createRoleIsAPathToSuperuserUpToPostgres15() {
        DatabaseSpec desired = spec(user("app", null, List.of("CREATEROLE")));
        assertThat(SuperuserPowers.askedFor(null, desired, 15))
                .extracting(FieldError::message)
                .containsExactly("CREATEROLE is granted only by an admin key");
        assertThat(SuperuserPowers.askedFor(null, desired, 16)).isEmpty();
    }

    @Test
    void aPowerAnAdminGaveStaysAllowedWhileUnchanged() {
        DatabaseSpec current = spec(new DatabaseUserSpec(
                "ops", null, null, List.of("LOGIN", "SUPERUSER"), List.of("pg_execute_server_program")));
        DatabaseSpec same = spec(new DatabaseUserSpec(
                "ops", null, null, List.of("LOGIN", "SUPERUSER"), List.of("pg_execute_server_program")));
        assertThat(SuperuserPowers.askedFor(current, same, 17)).isEmpty();
        DatabaseSpec dropped = spec(user("app", null, List.of()));
        assertThat(SuperuserPowers.askedFor(current, dropped, 17)).isEmpty();
    }

    @Test
    void settingThePasswordOfASuperuserIsAskingForItsPower() {
        DatabaseSpec current = spec(user("ops", null, List.of("SUPERUSER")));
        DatabaseSpec desired = spec(user("ops", "i-know-it-now", List.of("SUPERUSER")));
        assertThat(SuperuserPowers.askedFor(current, desired, 17))
                .singleElement()
                .satisfies(e -> {
                    assertThat(e.field()).isEqualTo("spec.database_users[0].password");
                    assertThat(e.message()).contains("SUPERUSER").doesNotContain("i-know-it-now");
                });
    }

    @Test
    void aNewUserUnderAnAdminMadeNameStillAsksWhenItsPowersGrow() {
        DatabaseSpec current = spec(user("ops", null, List.of("REPLICATION")));
        DatabaseSpec desired = spec(user("ops", null, List.of("REPLICATION", "SUPERUSER")));
        assertThat(SuperuserPowers.askedFor(current, desired, 17))
                .extracting(FieldError::message)
                .containsExactly("SUPERUSER is granted only by an admin key");
    }

    @Test
    void usersWithoutNamesAndMissingSpecsAreLeftToTheValidator() {
        DatabaseSpec desired = spec(new DatabaseUserSpec(null, null, null, List.of("SUPERUSER"), null));
        assertThat(SuperuserPowers.askedFor(null, desired, 17)).isEmpty();
        assertThat(SuperuserPowers.askedFor(null, null, 17)).isEmpty();
    }

    @Test
    void majorReadsPlainAndDottedVersions() {
        assertThat(SuperuserPowers.major("15")).isEqualTo(15);
        assertThat(SuperuserPowers.major("16.4")).isEqualTo(16);
        assertThat(SuperuserPowers.major("x")).isEqualTo(Integer.MAX_VALUE);
    }

    private static DatabaseUserSpec user(String name, String password, List<String> attributes) {
        return new DatabaseUserSpec(name, password, null, attributes, null);
    }

    private static DatabaseSpec spec(DatabaseUserSpec... users) {
        return new DatabaseSpec(
                "app",
                "17",
                null,
                List.of(new NodeSpec("n1", null, null)),
                java.util.Arrays.asList(users),
                null,
                null,
                null);
    }
}
