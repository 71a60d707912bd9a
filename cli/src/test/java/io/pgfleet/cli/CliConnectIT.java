package io.pgfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgfleet.cli.support.Cli;
import io.pgfleet.cli.support.Cli.Result;
import io.pgfleet.cli.support.RunningServer;
import io.pgfleet.cli.support.ServerProcess;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@code pgfleet connect --jdbc}: URLs a Java client takes as printed. */
@ExtendWith(RunningServer.class)
class CliConnectIT {

    @Test
    void connectPrintsJdbcUrlsThatPgjdbcTakesAsTheyAre(ServerProcess server) throws Exception {
        Cli cli = Cli.against(server);
        Result created = cli.run("db", "create", "javadb", "--user", "app:owner", "--pooler", "--wait");
        assertThat(created.exit()).as(created.toString()).isZero();
        try {
            Result masked = cli.run("connect", "javadb", "--jdbc");
            assertThat(masked.exit()).as(masked.toString()).isZero();
            assertThat(masked.out())
                    .matches("jdbc:postgresql://localhost:\\d+/javadb\\?user=app&password=\\*\\*\\*\\*\n");

            Result direct = cli.run("connect", "javadb", "--jdbc", "--reveal");
            try (Connection c = DriverManager.getConnection(direct.out().strip());
                    ResultSet rs = c.createStatement().executeQuery("SELECT current_user")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("app");
            }

            Result pooled = cli.run("connect", "javadb", "--pooled", "--jdbc", "--reveal");
            assertThat(pooled.exit()).as(pooled.toString()).isZero();
            assertThat(pooled.out()).endsWith("&prepareThreshold=0\n");
            try (Connection c = DriverManager.getConnection(pooled.out().strip());
                    PreparedStatement ps = c.prepareStatement("SELECT ?::int")) {
                for (int i = 0; i < 20; i++) { // past pgjdbc's default threshold of 5
                    ps.setInt(1, i);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        assertThat(rs.getInt(1)).isEqualTo(i);
                    }
                }
            }

            Result psql = cli.run("connect", "javadb", "--jdbc", "--psql");
            assertThat(psql.exit()).isEqualTo(2);
            assertThat(psql.err()).startsWith("pgfleet: --jdbc prints a URL for Java clients");
        } finally {
            assertThat(cli.run("db", "delete", "javadb", "--yes", "--wait").exit())
                    .isZero();
        }
    }
}
