package io.pgfleet.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * The key sent as {@code Authorization: Bearer}, and where it came from, so a 401 can say which one the
 * server refused. First {@code --api-key}, then {@code PGFLEET_API_KEY}, then the admin key file of a
 * server on this machine ({@code <home>/secrets/admin.key}); none at all is fine for a server without auth.
 */
record ApiKey(String value, String source) {
    static final String ADMIN_KEY_FILE = "secrets/admin.key";

    @Override
    public String toString() {
        return "ApiKey[" + source + "]"; // never the secret
    }

    static Optional<ApiKey> resolve(String flag, Map<String, String> env, Path home, URI server) {
        if (flag != null && !flag.isBlank()) {
            return Optional.of(new ApiKey(flag.trim(), "--api-key"));
        }
        String fromEnv = env.get("PGFLEET_API_KEY");
        if (fromEnv != null && !fromEnv.isBlank()) {
            return Optional.of(new ApiKey(fromEnv.trim(), "PGFLEET_API_KEY"));
        }
        if (!isLocal(server)) {
            return Optional.empty();
        }
        Path file = adminKeyFile(home, env);
        // Unreadable (another user's server) is not an error: the server says 401 if it needs a key.
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            return Optional.empty();
        }
        try {
            String key = Files.readString(file).trim();
            return key.isEmpty() ? Optional.empty() : Optional.of(new ApiKey(key, file.toString()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the admin key " + file, e);
        }
    }

    /** The admin key file of the local server's home: --home, PGFLEET_HOME, or the server's default. */
    static Path adminKeyFile(Path home, Map<String, String> env) {
        Path dir = home;
        if (dir == null
                && env.get("PGFLEET_HOME") != null
                && !env.get("PGFLEET_HOME").isBlank()) {
            dir = Path.of(env.get("PGFLEET_HOME"));
        }
        if (dir == null) {
            // The server's own default (DESIGN.md §5): /var/lib/pgfleet as root, else ~/.pgfleet.
            dir = "root".equals(System.getProperty("user.name"))
                    ? Path.of("/var/lib/pgfleet")
                    : Path.of(System.getProperty("user.home"), ".pgfleet");
        }
        return dir.resolve(ADMIN_KEY_FILE);
    }

    static boolean isLocal(URI server) {
        String host = server.getHost();
        return host != null
                && (host.equals("localhost") || host.startsWith("127.") || host.equals("[::1]") || host.equals("::1"));
    }
}
