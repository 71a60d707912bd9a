package io.pgfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgfleet.cli.support.Cli;
import io.pgfleet.cli.support.Cli.Result;
import io.pgfleet.cli.support.RunningServer;
import io.pgfleet.cli.support.ServerProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Destructive verbs ask: on a terminal the person types the name, a script passes --yes, and anything
 * else exits 2 with nothing deleted (checked against the real server after each refusal).
 */
@ExtendWith(RunningServer.class)
class CliConfirmationIT {

    @Test
    void dbDeleteAsksOnATerminalAndRefusesScriptsWithoutYes(ServerProcess server) {
        Cli cli = Cli.against(server);
        assertThat(cli.run("db", "create", "keepme", "--wait").exit()).isZero();

        Result script = cli.run("db", "delete", "keepme", "--wait");
        assertThat(script.exit()).as(script.toString()).isEqualTo(2);
        assertThat(script.err())
                .isEqualTo("pgfleet: pgfleet db delete keepme deletes database keepme with all its data; not on a"
                        + " terminal, so it cannot ask: pass --yes to confirm (nothing was deleted)\n");
        assertThat(cli.run("db", "get", "keepme").out()).contains("(available)");

        Result wrong = cli.onTerminal("keep", "db", "delete", "keepme", "--wait");
        assertThat(wrong.exit()).as(wrong.toString()).isEqualTo(1);
        assertThat(wrong.err())
                .startsWith("pgfleet db delete keepme deletes database keepme with all its data.\n"
                        + "Type the database's id to confirm: ")
                .endsWith("pgfleet: the answer was not keepme; nothing was deleted\n");
        Result eof = cli.onTerminal(null, "db", "delete", "keepme");
        assertThat(eof.exit()).isEqualTo(1);
        assertThat(eof.err()).endsWith("pgfleet: no answer; nothing was deleted\n");
        assertThat(cli.run("db", "get", "keepme").out()).contains("(available)");

        Result typed = cli.onTerminal("keepme", "db", "delete", "keepme", "--wait");
        assertThat(typed.exit()).as(typed.toString()).isZero();
        assertThat(cli.run("db", "get", "keepme").exit()).isEqualTo(3);
    }

    @Test
    void tenantDeleteAndKeyRevokeAskToo(ServerProcess server) {
        Cli cli = Cli.against(server);
        assertThat(cli.run("tenant", "create", "doomed").exit()).isZero();
        Result created = cli.run("--tenant", "doomed", "apikey", "create", "ci", "--role", "viewer", "-o", "json");
        assertThat(created.exit()).as(created.toString()).isZero();
        String keyId = created.out().replaceAll("(?s).*\"id\" *: *\"([a-z0-9]+)\".*", "$1");

        Result revokeScript = cli.run("apikey", "revoke", keyId);
        assertThat(revokeScript.exit()).as(revokeScript.toString()).isEqualTo(2);
        assertThat(revokeScript.err()).contains("pass --yes to confirm (nothing was deleted)");
        assertThat(cli.run("apikey", "list").out())
                .containsPattern("(?m)^" + keyId + "\\s+ci\\s+viewer\\s+\\S+\\s+\\S+\\s+-\\s+-\\s*$");
        Result revoke = cli.onTerminal(keyId, "apikey", "revoke", keyId);
        assertThat(revoke.exit()).as(revoke.toString()).isZero();
        assertThat(revoke.out()).startsWith("viewer key " + keyId + " (ci) revoked at ");

        // A tenant that owns a database is refused by the server, after the confirmation.
        assertThat(cli.run("--tenant", "doomed", "db", "create", "owned", "--wait")
                        .exit())
                .isZero();
        Result tenantScript = cli.run("tenant", "delete", "doomed");
        assertThat(tenantScript.exit()).as(tenantScript.toString()).isEqualTo(2);
        assertThat(tenantScript.err()).contains("not on a terminal").contains("nothing was deleted");
        Result owns = cli.run("tenant", "delete", "doomed", "--yes");
        assertThat(owns.exit()).as(owns.toString()).isEqualTo(4);
        assertThat(owns.err()).contains("tenant doomed still owns 1 database(s); delete them first");
        assertThat(cli.run("--tenant", "doomed", "db", "delete", "owned", "--yes", "--wait")
                        .exit())
                .isZero();
        Result deleted = cli.run("tenant", "delete", "doomed", "--yes");
        assertThat(deleted.exit()).as(deleted.toString()).isZero();
        assertThat(deleted.out()).startsWith("tenant doomed deleted (id ");
        assertThat(cli.run("tenant", "get", "doomed").exit()).isEqualTo(3);
        Result defaultTenant = cli.run("tenant", "delete", "default", "--yes");
        assertThat(defaultTenant.exit()).isEqualTo(4);
        assertThat(defaultTenant.err()).contains("tenant default cannot be deleted");
    }
}
