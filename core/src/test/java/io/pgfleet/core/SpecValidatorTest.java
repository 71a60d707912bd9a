package io.pgfleet.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

class SpecValidatorTest {

    private final SpecValidator validator = new SpecValidator(Set.of("16", "17"), Set.of("host-1"));

    // ---- the whole request ----

    @Test
    void designExampleWithPoolerOffIsAccepted() {
        assertThatCode(() -> validator.validateCreate(request("example", validSpec())))
                .doesNotThrowAnyException();
    }

    @Test
    void minimalSpecLeavesVersionPortsHostsAndPasswordsToDefaults() {
        DatabaseSpec minimal =
                new DatabaseSpec("app", null, null, List.of(new NodeSpec("n1", null, null)), null, null, null, null);
        assertThatCode(() -> validator.validateCreate(new CreateDatabaseRequest("app", null, minimal)))
                .doesNotThrowAnyException();
    }

    @Test
    void everyInvalidFieldIsReportedAtOnce() {
        DatabaseSpec spec = validSpec();
        spec = new DatabaseSpec(
                spec.databaseName(),
                "9.6",
                80,
                spec.nodes(),
                spec.databaseUsers(),
                spec.postgresqlConf(),
                spec.pooler(),
                "sometimes");
        PgfleetException e = rejected(request("Bad_Id", spec));
        assertThat(e.fieldErrors())
                .extracting(FieldError::field)
                .containsExactlyInAnyOrder("id", "spec.postgres_version", "spec.port", "spec.restart_policy");
        assertThat(e.getMessage()).isEqualTo("4 fields are invalid; see errors");
    }

    @Test
    void rejectionIsAnInvalidSpecWithStatus422() {
        PgfleetException e = rejected(request("example", withRestartPolicy("sometimes")));
        assertThat(e.code()).isEqualTo(ErrorCode.INVALID_SPEC);
        assertThat(e.code().httpStatus()).isEqualTo(422);
        assertThat(e.getMessage()).startsWith("spec.restart_policy: 'sometimes' is not one of");
    }

    @Test
    void missingSpecIsRefused() {
        assertSingleError(new CreateDatabaseRequest("example", null, null), "spec", "is required");
    }

    // ---- id ----

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {" "})
    void missingIdIsRefused(String id) {
        assertSingleError(request(id, validSpec()), "id", "is required");
    }

    @ParameterizedTest
    @ValueSource(strings = {"Example", "-example", "example-", "ex_ample", "ex ample", "exämple", "ex.ample"})
    void idWithUppercaseUnderscoreOrEdgeHyphenIsRefused(String id) {
        assertSingleError(request(id, validSpec()), "id", "is not a valid id");
    }

    @Test
    void idOf64CharactersIsRefusedAnd63Accepted() {
        assertSingleError(request("a".repeat(64), validSpec()), "id", "1-63 lowercase letters");
        assertThatCode(() -> validator.validateCreate(request("a".repeat(63), validSpec())))
                .doesNotThrowAnyException();
    }

    @ParameterizedTest
    @ValueSource(strings = {"a", "billing", "team-a-1", "0day"})
    void lowercaseIdWithInnerHyphensIsAccepted(String id) {
        assertThatCode(() -> validator.validateCreate(request(id, validSpec()))).doesNotThrowAnyException();
    }

    // ---- database_name ----

    @ParameterizedTest
    @ValueSource(strings = {"postgres", "template0", "TEMPLATE1"})
    void databaseNameReservedByPostgresIsRefused(String name) {
        DatabaseSpec spec = validSpec();
        DatabaseSpec renamed = new DatabaseSpec(
                name,
                spec.postgresVersion(),
                spec.port(),
                spec.nodes(),
                spec.databaseUsers(),
                spec.postgresqlConf(),
                spec.pooler(),
                spec.restartPolicy());
        assertSingleError(request("example", renamed), "spec.database_name", "is reserved by PostgreSQL");
    }

    // ---- nodes ----

    @ParameterizedTest
    @ValueSource(strings = {"N1", "n-1", "1n", "n 1", "", "_n"})
    void nodeNameWithBadCharactersIsRefusedAtItsIndex(String name) {
        DatabaseSpec spec = withNodes(new NodeSpec("n1", null, null), new NodeSpec(name, null, null));
        assertSingleError(request("example", spec), "spec.nodes[1].name", "is not a node name");
    }

    @Test
    void nodeWithoutNameIsRefused() {
        DatabaseSpec spec = withNodes(new NodeSpec(null, null, null));
        assertSingleError(request("example", spec), "spec.nodes[0].name", "is not a node name");
    }

    @Test
    void nodeNameOf31CharactersIsRefusedAnd30Accepted() {
        String tooLong = "n" + "1".repeat(30);
        assertSingleError(
                request("example", withNodes(new NodeSpec(tooLong, null, null))),
                "spec.nodes[0].name",
                "use 1-30 lowercase letters");
        String longest = "n" + "1".repeat(29);
        assertThatCode(() -> validator.validateCreate(request("example", withNodes(new NodeSpec(longest, null, null)))))
                .doesNotThrowAnyException();
    }

    @Test
    void duplicateNodeNameIsRefusedOnTheSecondNode() {
        DatabaseSpec spec = withNodes(new NodeSpec("n1", null, 6001), new NodeSpec("n1", null, 6002));
        assertSingleError(request("example", spec), "spec.nodes[1].name", "'n1' appears twice");
    }

    @Test
    void specWithoutNodesIsRefused() {
        assertSingleError(request("example", withNodes()), "spec.nodes", "at least one node is required");
    }

    @Test
    void moreThanNineNodesAreRefused() {
        NodeSpec[] nodes = new NodeSpec[10];
        for (int i = 0; i < nodes.length; i++) {
            nodes[i] = new NodeSpec("n" + (i + 1), null, null);
        }
        assertSingleError(request("example", withNodes(nodes)), "spec.nodes", "10 nodes; at most 9");
    }

    @Test
    void unknownHostIsRefusedNamingTheKnownOnes() {
        DatabaseSpec spec = withNodes(new NodeSpec("n1", List.of("host-9"), null));
        assertSingleError(request("example", spec), "spec.nodes[0].host_ids", "host 'host-9' is not known");
    }

    @Test
    void nodeOnTwoHostsIsAcceptedAsPrimaryAndReplica() {
        SpecValidator twoHosts = new SpecValidator(Set.of("17"), Set.of("host-1", "host-2"));
        DatabaseSpec spec = withNodes(new NodeSpec("n1", List.of("host-1", "host-2"), null));
        org.assertj.core.api.Assertions.assertThatCode(() -> twoHosts.validateCreate(request("example", spec)))
                .doesNotThrowAnyException();
    }

    @Test
    void aHostNamedTwiceInOneNodeIsRefused() {
        SpecValidator twoHosts = new SpecValidator(Set.of("17"), Set.of("host-1", "host-2"));
        DatabaseSpec spec = withNodes(new NodeSpec("n1", List.of("host-1", "host-1"), null));
        assertThat(fieldErrors(twoHosts, request("example", spec)))
                .singleElement()
                .satisfies(f -> {
                    assertThat(f.field()).isEqualTo("spec.nodes[0].host_ids");
                    assertThat(f.message()).contains("appears twice");
                });
    }

    @Test
    void anUpdateMayAddOrRemoveHostsOfAnExistingNodeButNotNameAnUnknownOne() {
        SpecValidator threeHosts = new SpecValidator(Set.of("17"), Set.of("host-1", "host-2", "host-3"));
        DatabaseSpec current = withNodes(new NodeSpec("n1", List.of("host-1", "host-2"), null));
        for (List<String> hosts : List.of(List.of("host-1"), List.of("host-1", "host-2", "host-3"))) {
            DatabaseSpec desired = withNodes(new NodeSpec("n1", hosts, null));
            org.assertj.core.api.Assertions.assertThatCode(() -> threeHosts.validateUpdate(
                            "example", current, new UpdateDatabaseRequest(null, null, desired)))
                    .doesNotThrowAnyException();
        }
        DatabaseSpec unknown = withNodes(new NodeSpec("n1", List.of("host-1", "host-9"), null));
        org.assertj.core.api.Assertions.assertThatThrownBy(() ->
                        threeHosts.validateUpdate("example", current, new UpdateDatabaseRequest(null, null, unknown)))
                .isInstanceOf(PgfleetException.class)
                .hasMessageContaining("host-9");
    }

    // ---- ports ----

    @ParameterizedTest
    @ValueSource(ints = {0, 80, 1023})
    void privilegedNodePortIsRefused(int port) {
        DatabaseSpec spec = withNodes(new NodeSpec("n1", null, port));
        assertSingleError(
                request("example", spec), "spec.nodes[0].port", port + " is privileged or invalid; use 1024-65535");
    }

    @ParameterizedTest
    @ValueSource(ints = {65536, 100000})
    void nodePortAbove65535IsRefused(int port) {
        DatabaseSpec spec = withNodes(new NodeSpec("n1", null, 6001), new NodeSpec("n2", null, port));
        assertSingleError(request("example", spec), "spec.nodes[1].port", port + " is not a TCP port; use 1024-65535");
    }

    @Test
    void specWidePortOutOfRangeIsRefused() {
        assertSingleError(request("example", withOnlySpecWidePort(1000)), "spec.port", "1000 is privileged or invalid");
        assertSingleError(request("example", withOnlySpecWidePort(70000)), "spec.port", "70000 is not a TCP port");
    }

    @ParameterizedTest
    @ValueSource(ints = {1024, 65535})
    void portsAtTheEdgesOfTheRangeAreAccepted(int port) {
        DatabaseSpec spec = withNodes(new NodeSpec("n1", null, port));
        assertThatCode(() -> validator.validateCreate(request("example", spec))).doesNotThrowAnyException();
    }

    @Test
    void twoNodesAskingForTheSamePortAreRefused() {
        DatabaseSpec spec = withNodes(new NodeSpec("n1", null, 6001), new NodeSpec("n2", null, 6001));
        assertSingleError(
                request("example", spec), "spec.nodes[1].port", "nodes n1 and n2 would both listen on port 6001");
    }

    @Test
    void specWidePortAppliesToEveryNodeWithoutItsOwn() {
        DatabaseSpec spec = withSpecPort(6001, new NodeSpec("n1", null, null), new NodeSpec("n2", null, 6002));
        assertThatCode(() -> validator.validateCreate(request("example", spec))).doesNotThrowAnyException();
        assertThat(spec.requestedPort(spec.nodes().get(0))).isEqualTo(6001);
        assertThat(spec.requestedPort(spec.nodes().get(1))).isEqualTo(6002);
    }

    @Test
    void twoNodesOnOneHostInheritingTheSpecPortAreRefusedNamingBoth() {
        // pgEdge's meaning of spec.port: every instance listens on it, so never a silent other port.
        DatabaseSpec spec = withSpecPort(6001, new NodeSpec("n1", null, null), new NodeSpec("n2", null, null));
        assertSingleError(
                request("example", spec), "spec.nodes[1].port", "nodes n1 and n2 would both listen on port 6001");
    }

    // ---- postgres_version ----

    @ParameterizedTest
    @ValueSource(strings = {"15", "18", "17.2", ""})
    void postgresVersionThisHostCannotRunIsRefusedListingTheOnesItCan(String version) {
        assertSingleError(
                request("example", validSpec().withPostgresVersion(version)),
                "spec.postgres_version",
                "is not available on this host; use one of [16, 17]");
    }

    // ---- users ----

    @ParameterizedTest
    @ValueSource(
            strings = {
                "postgres",
                "POSTGRES",
                "pgfleet",
                "pgfleet_agent",
                "PgFleetAdmin",
                "pg_monitor",
                "pg_x",
                "public",
                "current_user",
                "NONE"
            })
    void reservedUserNameIsRefused(String name) {
        DatabaseSpec spec = withUsers(user("admin", true), user(name, false));
        assertSingleError(
                request("example", spec),
                "spec.database_users[1].username",
                "'" + name + "' is reserved (postgres, pgfleet*, pg_*, public");
    }

    @ParameterizedTest
    @ValueSource(strings = {"pgadmin", "postgres2", "my_postgres", "pgfleeet", "app user", "Ünïcode \"quoted\""})
    void userNameThatOnlyResemblesAReservedOneIsAccepted(String name) {
        DatabaseSpec spec = withUsers(user(name, false));
        assertThatCode(() -> validator.validateCreate(request("example", spec))).doesNotThrowAnyException();
    }

    @Test
    void twoDatabaseOwnersAreRefused() {
        DatabaseSpec spec = withUsers(user("admin", true), user("app", false), user("owner2", true));
        assertSingleError(
                request("example", spec), "spec.database_users", "2 users have db_owner; at most one may own");
    }

    @Test
    void duplicateUserNameIsRefusedOnTheSecondUser() {
        DatabaseSpec spec = withUsers(user("app", false), user("app", false));
        assertSingleError(request("example", spec), "spec.database_users[1].username", "'app' appears twice");
    }

    @Test
    void userNameLongerThan63CharactersIsRefused() {
        DatabaseSpec spec = withUsers(user("u".repeat(64), false));
        assertSingleError(request("example", spec), "spec.database_users[0].username", "1-63 bytes in UTF-8");
    }

    @Test
    void userNameIsMeasuredInBytesBecausePostgresTruncatesBytes() {
        // 40 characters, 80 bytes: Postgres would silently cut it to 63 bytes.
        DatabaseSpec spec = withUsers(user("é".repeat(40), false));
        assertSingleError(request("example", spec), "spec.database_users[0].username", "1-63 bytes in UTF-8");
    }

    @Test
    void parametersThatRunProgramsAreRefused() {
        DatabaseSpec spec = validSpec();
        DatabaseSpec withCommand = new DatabaseSpec(
                spec.databaseName(),
                spec.postgresVersion(),
                spec.port(),
                spec.nodes(),
                spec.databaseUsers(),
                java.util.Map.of("archive_command", "sh -c 'curl evil'"),
                spec.pooler(),
                spec.restartPolicy());
        assertSingleError(
                request("example", withCommand),
                "spec.postgresql_conf.archive_command",
                "runs programs, loads code or reads files");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "jit_provider",
                "dynamic_library_path",
                "local_preload_libraries",
                "session_preload_libraries",
                "shared_preload_libraries",
                "ssl_cert_file",
                "ssl_key_file",
                "ssl_ca_file",
                "ssl_crl_file",
                "ssl_crl_dir",
                "ssl_dh_params_file",
                "ssl_some_future_file",
                "data_directory",
                "hba_file",
                "ident_file",
                "config_file",
                "external_pid_file",
                "archive_library",
                "some_future_command"
            })
    void parametersThatLoadCodeOrReadFilesAreRefused(String name) {
        assertSingleError(
                request("example", withConf(Map.of(name, "/tmp/x"))),
                "spec.postgresql_conf." + name,
                "runs programs, loads code or reads files");
    }

    @Test
    void emptyPasswordIsRefusedButAbsentOneIsGeneratedLater() {
        DatabaseSpec empty = withUsers(new DatabaseUserSpec("app", "", null, null, null));
        assertSingleError(request("example", empty), "spec.database_users[0].password", "absent to generate one");
        DatabaseSpec absent = withUsers(new DatabaseUserSpec("app", null, null, null, null));
        assertThatCode(() -> validator.validateCreate(request("example", absent)))
                .doesNotThrowAnyException();
    }

    @Test
    void unknownRoleAttributeIsRefused() {
        DatabaseSpec spec = withUsers(new DatabaseUserSpec("app", null, null, List.of("login", "SUPERPOWERS"), null));
        assertSingleError(request("example", spec), "spec.database_users[0].attributes", "'SUPERPOWERS' is not one of");
    }

    // ---- postgresql_conf ----

    @Test
    void parameterPgfleetWritesItselfIsRefused() {
        DatabaseSpec spec = withConf(Map.of("port", "6000"));
        assertSingleError(request("example", spec), "spec.postgresql_conf.port", "is set by pgfleet");
    }

    @Test
    void multiLineParameterValueIsRefused() {
        DatabaseSpec spec = withConf(Map.of("work_mem", "8MB\nfsync = off"));
        assertSingleError(request("example", spec), "spec.postgresql_conf.work_mem", "single-line");
    }

    // ---- restart_policy ----

    @ParameterizedTest
    @ValueSource(strings = {"sometimes", "Always", ""})
    void unknownRestartPolicyIsRefused(String policy) {
        assertSingleError(request("example", withRestartPolicy(policy)), "spec.restart_policy", "is not one of");
    }

    @ParameterizedTest
    @ValueSource(strings = {"always", "never"})
    void knownRestartPolicyIsAccepted(String policy) {
        assertThatCode(() -> validator.validateCreate(request("example", withRestartPolicy(policy))))
                .doesNotThrowAnyException();
    }

    // ---- drift_policy ----

    @ParameterizedTest
    @ValueSource(strings = {"fix", "Repair", ""})
    void unknownDriftPolicyIsRefused(String policy) {
        assertSingleError(request("example", withDriftPolicy(policy)), "spec.drift_policy", "is not one of");
    }

    @ParameterizedTest
    @ValueSource(strings = {"repair", "report"})
    void knownDriftPolicyIsAccepted(String policy) {
        assertThatCode(() -> validator.validateCreate(request("example", withDriftPolicy(policy))))
                .doesNotThrowAnyException();
        assertThat(withDriftPolicy(policy).repairsDrift()).isEqualTo(policy.equals("repair"));
    }

    @Test
    void driftIsRepairedWhenNoPolicyIsGiven() {
        assertThat(validSpec().repairsDrift()).isTrue();
    }

    private DatabaseSpec withDriftPolicy(String policy) {
        DatabaseSpec s = validSpec();
        return new DatabaseSpec(
                s.databaseName(),
                s.postgresVersion(),
                s.port(),
                s.nodes(),
                s.databaseUsers(),
                s.postgresqlConf(),
                s.pooler(),
                s.restartPolicy(),
                s.resources(),
                s.cpus(),
                s.memory(),
                policy);
    }

    // ---- pooler ----

    @Test
    void enabledPoolerIsAccepted() {
        DatabaseSpec spec = withPooler(new PoolerSpec(true, "transaction", 20, 500));
        assertThatCode(() -> validator.validateCreate(request("example", spec))).doesNotThrowAnyException();
    }

    @Test
    void unknownPoolModeIsRefused() {
        DatabaseSpec spec = withPooler(new PoolerSpec(false, "sometimes", null, null));
        assertSingleError(request("example", spec), "spec.pooler.pool_mode", "'sometimes' is not one of");
    }

    @Test
    void poolSizeOutOfBoundsIsRefused() {
        DatabaseSpec spec = withPooler(new PoolerSpec(false, null, 0, null));
        assertSingleError(request("example", spec), "spec.pooler.default_pool_size", "must be 1-10000");
    }

    // ---- labels ----

    @Test
    void labelKeyWithSpacesIsRefused() {
        CreateDatabaseRequest request = new CreateDatabaseRequest("example", Map.of("my team", "a"), validSpec());
        assertSingleError(request, "labels.my team", "label keys are");
    }

    // ---- helpers ----

    private void assertSingleError(CreateDatabaseRequest request, String field, String messagePart) {
        assertThat(fieldErrors(validator, request)).singleElement().satisfies(error -> {
            assertThat(error.field()).isEqualTo(field);
            assertThat(error.message()).contains(messagePart);
        });
    }

    private PgfleetException rejected(CreateDatabaseRequest request) {
        return rejected(validator, request);
    }

    private static PgfleetException rejected(SpecValidator validator, CreateDatabaseRequest request) {
        Throwable thrown = catchThrowable(() -> validator.validateCreate(request));
        assertThat(thrown).as("validation of %s", request).isInstanceOf(PgfleetException.class);
        PgfleetException e = (PgfleetException) thrown;
        assertThat(e.code()).isEqualTo(ErrorCode.INVALID_SPEC);
        return e;
    }

    private static List<FieldError> fieldErrors(SpecValidator validator, CreateDatabaseRequest request) {
        return rejected(validator, request).fieldErrors();
    }

    private static CreateDatabaseRequest request(String id, DatabaseSpec spec) {
        return new CreateDatabaseRequest(id, Map.of("team", "billing"), spec);
    }

    /** DESIGN.md §2's example, with the pooler off since pooling is refused for now. */
    private static DatabaseSpec validSpec() {
        return new DatabaseSpec(
                "example",
                "17",
                6001,
                List.of(new NodeSpec("n1", List.of("host-1"), 6001), new NodeSpec("n2", List.of("host-1"), 6002)),
                List.of(
                        new DatabaseUserSpec(
                                "admin",
                                "s3cret 'quoted'",
                                true,
                                List.of("LOGIN", "CREATEDB"),
                                List.of("pg_read_all_stats")),
                        new DatabaseUserSpec("app", null, null, null, null)),
                Map.of("max_connections", "200", "work_mem", "8MB"),
                new PoolerSpec(false, "transaction", 20, 500),
                "always");
    }

    private static DatabaseUserSpec user(String name, boolean owner) {
        return new DatabaseUserSpec(name, null, owner, null, null);
    }

    private static DatabaseSpec withNodes(NodeSpec... nodes) {
        return withSpecPort(null, nodes);
    }

    private static DatabaseSpec withSpecPort(Integer port, NodeSpec... nodes) {
        DatabaseSpec spec = validSpec();
        return new DatabaseSpec(
                spec.databaseName(),
                spec.postgresVersion(),
                port,
                List.of(nodes),
                spec.databaseUsers(),
                spec.postgresqlConf(),
                spec.pooler(),
                spec.restartPolicy());
    }

    private static DatabaseSpec withOnlySpecWidePort(int port) {
        return withSpecPort(port, new NodeSpec("n1", null, null));
    }

    private static DatabaseSpec withUsers(DatabaseUserSpec... users) {
        return validSpec().withDatabaseUsers(List.of(users));
    }

    private static DatabaseSpec withConf(Map<String, String> conf) {
        DatabaseSpec spec = validSpec();
        return new DatabaseSpec(
                spec.databaseName(),
                spec.postgresVersion(),
                spec.port(),
                spec.nodes(),
                spec.databaseUsers(),
                conf,
                spec.pooler(),
                spec.restartPolicy());
    }

    private static DatabaseSpec withPooler(PoolerSpec pooler) {
        DatabaseSpec spec = validSpec();
        return new DatabaseSpec(
                spec.databaseName(),
                spec.postgresVersion(),
                spec.port(),
                spec.nodes(),
                spec.databaseUsers(),
                spec.postgresqlConf(),
                pooler,
                spec.restartPolicy());
    }

    private static DatabaseSpec withRestartPolicy(String policy) {
        DatabaseSpec spec = validSpec();
        return new DatabaseSpec(
                spec.databaseName(),
                spec.postgresVersion(),
                spec.port(),
                spec.nodes(),
                spec.databaseUsers(),
                spec.postgresqlConf(),
                spec.pooler(),
                policy);
    }
}
