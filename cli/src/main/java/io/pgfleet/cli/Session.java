package io.pgfleet.cli;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Optional;
import picocli.CommandLine.Model.CommandSpec;
import tools.jackson.databind.JsonNode;

/** What a verb works with: the API client, the console, and whether to print JSON. */
final class Session {
    private final Pgfleet root;
    private final Console console;
    private final ClientOptions options;
    private ApiClient api;

    private Session(Pgfleet root, Console console, ClientOptions options) {
        this.root = root;
        this.console = console;
        this.options = options;
    }

    static Session of(CommandSpec spec) {
        Pgfleet root = Pgfleet.root(spec);
        return new Session(root, root.console(), root.options());
    }

    Console console() {
        return console;
    }

    boolean json() {
        return options.json();
    }

    /** Prints the API's own JSON: what {@code -o json} promises. */
    void printJson(JsonNode node) {
        console.out().println(Json.pretty(node));
    }

    ApiClient api() {
        if (api == null) {
            URI server = serverUri();
            api = root.opened(new ApiClient(
                    server, ApiKey.resolve(options.apiKey, console.env(), options.home, server), tenant()));
        }
        return api;
    }

    /** The tenant to act in: --tenant, then PGFLEET_TENANT; empty means the key's own. */
    Optional<String> tenant() {
        String value = options.tenant;
        if (value == null || value.isBlank()) {
            value = console.env().get("PGFLEET_TENANT");
        }
        return value == null || value.isBlank() ? Optional.empty() : Optional.of(value.trim());
    }

    private URI serverUri() {
        String value = options.server;
        if (value == null || value.isBlank()) {
            value = console.env().getOrDefault("PGFLEET_SERVER", ClientOptions.DEFAULT_SERVER);
        }
        if (value.isBlank()) {
            value = ClientOptions.DEFAULT_SERVER;
        }
        String withSlash = value.endsWith("/") ? value : value + "/";
        try {
            URI uri = new URI(withSlash);
            if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
                throw new CliFailure(
                        CliFailure.USAGE, "--server " + value + " is not an http(s) URL such as http://localhost:3000");
            }
            return uri;
        } catch (URISyntaxException e) {
            throw new CliFailure(
                    CliFailure.USAGE, "--server " + value + " is not a URL such as http://localhost:3000", e);
        }
    }
}
