package io.pgfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;
import tools.jackson.databind.JsonNode;

/** {@code db create}'s flags as the request they become; no server needed. */
class SpecFlagsTest {
    private static JsonNode request(String... args) {
        CommandLine cli = Pgfleet.commandLine(new Console(System.out, System.err, Map.of(), false), args);
        CommandLine.ParseResult parsed = cli.parseArgs(args);
        CommandLine.ParseResult create = parsed.subcommand().subcommand();
        DbCommand.Create flags = (DbCommand.Create) create.commandSpec().userObject();
        return SpecFlags.request(flags.id, flags);
    }

    @Test
    void aNodePlacedOnAHostCarriesItsHostIdsAndPort() {
        JsonNode nodes = request(
                        "db",
                        "create",
                        "orders",
                        "--node",
                        "n1@host-2:6001",
                        "--node",
                        "n2@host-3",
                        "--node",
                        "n3:6003",
                        "--node",
                        "n4")
                .path("spec")
                .path("nodes");
        assertThat(nodes.get(0).toString()).isEqualTo("{\"name\":\"n1\",\"host_ids\":[\"host-2\"],\"port\":6001}");
        assertThat(nodes.get(1).toString()).isEqualTo("{\"name\":\"n2\",\"host_ids\":[\"host-3\"]}");
        assertThat(nodes.get(2).toString()).isEqualTo("{\"name\":\"n3\",\"port\":6003}");
        assertThat(nodes.get(3).toString()).isEqualTo("{\"name\":\"n4\"}");
    }

    @Test
    void anAtWithoutAHostIsAUsageError() {
        assertThatThrownBy(() -> request("db", "create", "orders", "--node", "n1@"))
                .isInstanceOf(ParameterException.class)
                .hasMessageContaining("no host after '@'");
    }
}
