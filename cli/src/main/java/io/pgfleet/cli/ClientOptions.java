package io.pgfleet.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** Options every verb accepts, before or after its name: where the server is, how to authenticate, the format. */
public final class ClientOptions {
    static final String DEFAULT_SERVER = "http://localhost:3000";

    /** The output formats of {@code -o}. */
    enum Format {
        table,
        json
    }

    @Option(
            names = "--server",
            scope = ScopeType.INHERIT,
            paramLabel = "URL",
            description = "URL of the pgfleet server (env PGFLEET_SERVER; default " + DEFAULT_SERVER + ").")
    String server;

    @Option(
            names = "--api-key",
            scope = ScopeType.INHERIT,
            paramLabel = "KEY",
            description = "API key pgf_<id>_<secret> (env PGFLEET_API_KEY; default: the admin key of a local server).")
    String apiKey;

    @Option(
            names = "--home",
            scope = ScopeType.INHERIT,
            paramLabel = "DIR",
            description = "Home of a local server, to read its secrets/admin.key (env PGFLEET_HOME;"
                    + " default ~/.pgfleet, or /var/lib/pgfleet as root).")
    Path home;

    @Option(
            names = "--tenant",
            scope = ScopeType.INHERIT,
            paramLabel = "NAME",
            description = "Act in this tenant (admin keys only; sent as X-Pgfleet-Tenant; env PGFLEET_TENANT)."
                    + " Other keys always act in their own tenant.")
    String tenant;

    @Option(
            names = {"-o", "--output"},
            scope = ScopeType.INHERIT,
            paramLabel = "FORMAT",
            description = "table (default) or json (the API's own JSON, for scripts).")
    Format output = Format.table;

    boolean json() {
        return output == Format.json;
    }
}
