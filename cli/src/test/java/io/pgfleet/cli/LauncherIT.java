package io.pgfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgfleet.cli.support.Cli;
import io.pgfleet.cli.support.RunningServer;
import io.pgfleet.cli.support.ServerProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import tools.jackson.databind.json.JsonMapper;

/** The CLI as users run it: {@code bin/pgfleet} in a child process, its output a pipe, not a terminal. */
@ExtendWith(RunningServer.class)
class LauncherIT {
    private static final Path LAUNCHER =
            Path.of("..", "bin", "pgfleet").toAbsolutePath().normalize();

    record Run(int exit, String out, String err) {}

    @Test
    void binPgfleetRunsTheClientVerbs(ServerProcess server) throws Exception {
        Run help = launch(server, "--help");
        assertThat(help.exit()).as(help.err()).isZero();
        assertThat(help.out()).contains("Exit codes:", "5   cannot reach the server", "Example:");

        Run list = launch(server, "db", "list", "-o", "json");
        assertThat(list.exit()).as(list.err()).isZero();
        assertThat(JsonMapper.builder().build().readTree(list.out()))
                .isEqualTo(JsonMapper.builder().build().readTree(server.get("/v1/databases")));
        // The first client run after a build records the class-data archive; later ones map it.
        Path archive = LAUNCHER.getParent().getParent().resolve("cli/target/pgfleet-cli.jsa");
        assertThat(archive).exists();
        assertThat(Files.getLastModifiedTime(archive))
                .isGreaterThan(Files.getLastModifiedTime(archive.resolveSibling("pgfleet-cli.jar")));
        assertThat(launch(server, "db", "list", "-o", "json").out()).isEqualTo(list.out());

        Run bad = launch(server, "db", "lsit");
        assertThat(bad.exit()).isEqualTo(2);
        assertThat(bad.err()).contains("Unmatched argument at index 1: 'lsit'", "Usage: pgfleet db ");
    }

    @Test
    void connectRunsPsqlWithThePassword(ServerProcess server) throws Exception {
        Cli cli = Cli.against(server);
        assertThat(cli.run("db", "create", "psql-db", "--user", "admin:owner", "--wait")
                        .exit())
                .isZero();
        try {
            Run psql = launch(server, "connect", "psql-db", "--psql", "--", "-tAc", "select 6 * 7");
            assertThat(psql.exit()).as(psql.err()).isZero();
            assertThat(psql.out()).isEqualTo("42\n");
            Run create = launch(server, "db", "create", "psql-db", "--wait");
            assertThat(create.exit()).isEqualTo(4);
            for (Run r : List.of(psql, create)) {
                assertThat(r.out() + r.err()).doesNotContain("\u001b", "\r");
            }
        } finally {
            assertThat(cli.run("db", "delete", "psql-db", "--yes", "--wait").exit())
                    .isZero();
        }
    }

    private static Run launch(ServerProcess server, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(LAUNCHER.toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().put("PGFLEET_SERVER", server.url());
        builder.environment().put("PGFLEET_HOME", server.home().toString());
        Process p = builder.start();
        p.getOutputStream().close();
        var out = p.getInputStream();
        var err = p.getErrorStream();
        // Small outputs: reading one stream then the other cannot fill a pipe and block.
        String stdout = new String(out.readAllBytes(), StandardCharsets.UTF_8);
        String stderr = new String(err.readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("bin/pgfleet " + String.join(" ", args) + " did not end in 120 s");
        }
        return new Run(p.exitValue(), stdout, stderr);
    }
}
