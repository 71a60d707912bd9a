package io.pgfleet.server.tasks;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgfleet.server.agent.InstanceAgent;
import io.pgfleet.server.agent.PostgresServer;
import io.pgfleet.server.catalog.CatalogRows.DatabaseRow;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.catalog.CatalogRows.TaskRow;
import io.pgfleet.server.catalog.JdbcDatabaseRepository;
import io.pgfleet.server.catalog.JdbcInstanceRepository;
import io.pgfleet.server.catalog.JdbcTaskRepository;
import io.pgfleet.server.support.Api;
import io.pgfleet.server.support.ServerUnderTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tools.jackson.databind.JsonNode;

/**
 * Every step of every lane, applied twice on a real instance: the second application changes nothing
 * that the first did not (the catalog row, the processes, the files, the roles). This is what lets
 * the runner redo the step a crash cut off.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StepsApplyTwiceIT {
    private Path home;
    private ServerUnderTest server;
    private Api api;
    private NodeSteps steps;
    private InstanceAgent agent;
    private JdbcInstanceRepository instances;
    private JdbcDatabaseRepository databases;
    private JdbcTaskRepository tasks;

    @BeforeAll
    void startServer() {
        home = ServerUnderTest.newHome("twice");
        server = ServerUnderTest.start(home, 7900, 7919);
        api = server.api();
        steps = server.bean(NodeSteps.class);
        agent = server.bean(InstanceAgent.class);
        instances = server.bean(JdbcInstanceRepository.class);
        databases = server.bean(JdbcDatabaseRepository.class);
        tasks = server.bean(JdbcTaskRepository.class);
        api.awaitTask("twice", api.post("/v1/databases", """
                        {"id": "twice", "spec": {"database_name": "app", "nodes": [{"name": "n1"}],
                          "database_users": [{"username": "owner", "password": "pw-1", "db_owner": true}],
                          "pooler": {"enabled": true}}}""").expect(202).body());
    }

    @AfterAll
    void stopServer() {
        if (server != null) {
            server.close();
        }
        ServerUnderTest.cleanUp(home);
    }

    @Test
    void everyStepAppliedTwiceChangesNothingMoreThanOnce() throws Exception {
        DatabaseRow db = database();
        InstanceRow n1 = instance(db);
        Map<String, io.pgfleet.server.security.Secret> passwords = steps.passwords(db);
        TaskContext ctx = context(db, n1, Map.of());

        // A finished create: every provision step finds its work done, and changes nothing at all.
        Snapshot before = snapshot(db, n1);
        for (Step step : steps.provision(db, n1, passwords)) {
            step.apply(ctx);
            step.apply(ctx);
            assertThat(snapshot(db, n1)).as(step.key()).isEqualTo(before);
        }

        applyEachTwice(ctx, db, n1, steps.stop(db, n1));
        assertThat(instance(db).state().label()).isEqualTo("stopped");
        applyEachTwice(ctx, db, n1, steps.start(db, n1, passwords));
        assertThat(instance(db).state().label()).isEqualTo("available");
        applyEachTwice(ctx, db, n1, steps.restart(db, n1));
        assertThat(instance(db).state().label()).isEqualTo("available");

        // An update that finished, replayed step by step from its own plan.
        JsonNode update = api.awaitTask(
                "twice", api.post("/v1/databases/twice", """
                        {"spec": {"database_name": "app", "nodes": [{"name": "n1"}],
                          "database_users": [{"username": "owner", "password": "pw-2", "db_owner": true},
                                             {"username": "app"}],
                          "postgresql_conf": {"work_mem": "12MB"},
                          "pooler": {"enabled": true}}}""").expect(202).body());
        DatabaseRow updated = database();
        TaskRow updateTask =
                tasks.find(UUID.fromString(update.path("task_id").asString())).orElseThrow();
        TaskContext updateCtx = new TaskContext(updateTask, (id, message, fields) -> {});
        Workflow replay = server.bean(UpdateWorkflow.class).plan(updateCtx, updated);
        assertThat(replay.stepNames()).contains("n1/Reload", "n1/ReconcileRoles", "n1/MarkAvailable");
        applyEachTwice(updateCtx, updated, instance(updated), replay.steps());
        assertThat(instance(updated).state().label()).isEqualTo("available");

        applyEachTwice(ctx, updated, instance(updated), steps.remove(updated, instance(updated)));
        assertThat(instances.find(n1.id())).isEmpty();
        assertThat(home.resolve("instances").resolve(n1.id())).doesNotExist();
    }

    private void applyEachTwice(TaskContext ctx, DatabaseRow db, InstanceRow instance, List<Step> lane) {
        for (Step step : lane) {
            step.apply(ctx);
            Snapshot once = snapshot(db, instance);
            step.apply(ctx);
            Snapshot twice = snapshot(db, instance);
            if (step.name().equals("RestartPostgres")) {
                // A restart is a new postmaster each time; what must not change is everything else.
                once = once.withoutPids();
                twice = twice.withoutPids();
            }
            assertThat(twice).as(step.key() + " applied a second time").isEqualTo(once);
        }
    }

    private DatabaseRow database() {
        return databases
                .findByUuid(instances.byHost("host-1").stream()
                        .findFirst()
                        .orElseThrow()
                        .databaseUuid())
                .orElseThrow();
    }

    private InstanceRow instance(DatabaseRow db) {
        return instances.byDatabase(db.uuid()).get(0);
    }

    private static TaskContext context(DatabaseRow db, InstanceRow instance, Map<String, Object> request) {
        return new TaskContext(
                new TaskRow(
                        UUID.randomUUID(),
                        db.tenantId(),
                        db.id(),
                        db.uuid(),
                        instance.id(),
                        io.pgfleet.core.TaskType.START_INSTANCE,
                        io.pgfleet.core.TaskStatus.RUNNING,
                        request,
                        null,
                        null,
                        null,
                        null,
                        null),
                (id, message, fields) -> {});
    }

    /** What a step may change: the catalog row, the processes, the files, the roles and databases. */
    record Snapshot(
            String row, Long postmaster, Long pooler, String postgresConf, String poolerIni, List<String> roles) {
        Snapshot withoutPids() {
            return new Snapshot(row, postmaster == null ? null : 0L, pooler, postgresConf, poolerIni, roles);
        }
    }

    private Snapshot snapshot(DatabaseRow db, InstanceRow instance) {
        Optional<InstanceRow> row = instances.find(instance.id());
        String rowText = row.map(r -> r.state().label() + " port=" + r.port() + " pooler=" + r.poolerPort()
                        + " pending_restart=" + r.pendingRestart() + " drift=" + r.drift() + " error=" + r.error())
                .orElse("gone");
        Path dir = home.resolve("instances").resolve(instance.id());
        PostgresServer postgres = agent.server(row.orElse(instance), db.id());
        Long postmaster = Files.exists(dir) ? postgres.runningPid().orElse(null) : null;
        Long pooler = Files.exists(dir)
                ? agent.pooler(row.orElse(instance), db.id()).runningPid().orElse(null)
                : null;
        List<String> roles = new ArrayList<>();
        if (postmaster != null) {
            InstanceRow now = row.orElse(instance);
            try (Connection c = agent.connect(now, "postgres");
                    Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("""
                            select r.rolname || ' login=' || r.rolcanlogin || ' super=' || r.rolsuper
                                   || ' createdb=' || r.rolcreatedb
                            from pg_roles r where r.rolname not like 'pg\\_%' union all
                            select 'database ' || d.datname || ' owner=' || pg_get_userbyid(d.datdba)
                            from pg_database d union all
                            select 'setting ' || name || '=' || setting from pg_settings
                            where name in ('work_mem', 'port', 'max_connections') order by 1""")) {
                while (rs.next()) {
                    roles.add(rs.getString(1));
                }
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
            roles.addAll(agent.verifyRoles(now, db.id(), database().spec(), steps.passwords(database())));
        }
        return new Snapshot(
                rowText,
                postmaster,
                pooler,
                read(dir.resolve("data/pgfleet.conf")) + read(dir.resolve("data/pg_hba.conf")),
                read(dir.resolve("pgbouncer/pgbouncer.ini")),
                roles);
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
