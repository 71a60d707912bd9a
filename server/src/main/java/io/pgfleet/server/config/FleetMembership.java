package io.pgfleet.server.config;

import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.PgfleetException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;
import java.util.Properties;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * How a host joins a fleet with a join token, so only the first host needs the catalog's address and
 * credentials: it asks a member ({@code POST /v1/cluster/join-options}) for the catalog and the fleet's
 * secret key, and keeps them in its home ({@code fleet.properties}, {@code secrets/fleet-catalog.password},
 * {@code secrets/secret.key}, all 0600), where every later start finds them.
 *
 * @param home the host's home directory
 */
public record FleetMembership(Path home) {
    static final String FILE = "fleet.properties";

    /** The catalog a joined host uses. */
    public record Catalog(String url, String user, Path passwordFile) {}

    /** {@code configured}, or the default home (~/.pgfleet, or /var/lib/pgfleet as root). */
    public static Path resolveHome(Path configured) {
        if (configured != null) {
            return configured.toAbsolutePath().normalize();
        }
        return "root".equals(System.getProperty("user.name"))
                ? Path.of("/var/lib/pgfleet")
                : Path.of(System.getProperty("user.home"), ".pgfleet");
    }

    /** The catalog this host learned when it joined, if it did. */
    public Optional<Catalog> joined() {
        Path file = home.resolve(FILE);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        Properties p = new Properties();
        try (var in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + file, e);
        }
        String url = p.getProperty("catalog-url");
        if (url == null || url.isBlank()) {
            throw new PgfleetException(ErrorCode.BAD_REQUEST, file + " names no catalog-url; remove it and join again");
        }
        return Optional.of(
                new Catalog(url, p.getProperty("catalog-user"), secrets().resolve("fleet-catalog.password")));
    }

    /**
     * Asks the member at {@code serverUrl} for the fleet's catalog and key with {@code token}, and keeps
     * them. A home that holds another key is refused (its stored passwords would be lost), unless
     * {@code emptyHost}: a host that ran alone and holds no database, whose key and admin key (of its own
     * catalog) are replaced by the fleet's.
     */
    public Catalog join(String serverUrl, String token, String hostId, boolean emptyHost) {
        if (serverUrl == null || serverUrl.isBlank() || token == null || token.isBlank()) {
            throw new PgfleetException(ErrorCode.BAD_REQUEST, "joining a fleet needs a server URL and a join token");
        }
        JsonMapper json = JsonMapper.builder().build();
        JsonNode answer = ask(json, serverUrl, token, hostId);
        byte[] key = Base64.getDecoder().decode(answer.path("secret_key").asString(""));
        if (key.length != 32) {
            throw new PgfleetException(ErrorCode.INTERNAL, serverUrl + " sent no usable fleet key");
        }
        try {
            Files.createDirectories(secrets());
            Files.setPosixFilePermissions(secrets(), PosixFilePermissions.fromString("rwx------"));
            Path keyFile = secrets().resolve("secret.key");
            if (emptyHost) {
                Files.deleteIfExists(secrets().resolve("admin.key")); // a key of the catalog it leaves
            } else if (Files.exists(keyFile) && !java.util.Arrays.equals(Files.readAllBytes(keyFile), key)) {
                throw new PgfleetException(
                        ErrorCode.INVALID_STATE,
                        keyFile + " holds another key; this home belongs to another fleet or host. Join with an empty"
                                + " --home");
            }
            writePrivate(keyFile, key);
            String password = answer.path("catalog_password").asString("");
            writePrivate(secrets().resolve("fleet-catalog.password"), password.getBytes(StandardCharsets.UTF_8));
            Properties p = new Properties();
            p.setProperty("catalog-url", answer.path("catalog_url").asString());
            p.setProperty("catalog-user", answer.path("catalog_user").asString(""));
            p.setProperty("joined-through", serverUrl);
            var out = new java.io.StringWriter();
            p.store(out, "the fleet this host joined (pgfleet server --join-url); delete to leave it");
            writePrivate(home.resolve(FILE), out.toString().getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("keeping what the fleet sent in " + home, e);
        }
        return joined().orElseThrow();
    }

    private static JsonNode ask(JsonMapper json, String serverUrl, String token, String hostId) {
        String base = serverUrl.endsWith("/") ? serverUrl.substring(0, serverUrl.length() - 1) : serverUrl;
        String body =
                json.writeValueAsString(java.util.Map.of("token", token, "host_id", hostId == null ? "" : hostId));
        HttpRequest request;
        try {
            request = HttpRequest.newBuilder(URI.create(base + "/v1/cluster/join-options"))
                    .timeout(Duration.ofSeconds(15))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body))
                    .build();
        } catch (IllegalArgumentException e) {
            throw new PgfleetException(ErrorCode.BAD_REQUEST, "the server URL " + serverUrl + " is not a URL");
        }
        HttpResponse<String> response;
        HttpClient http =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new PgfleetException(
                    ErrorCode.HOST_UNAVAILABLE, "cannot reach " + serverUrl + " to join its fleet: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PgfleetException(ErrorCode.INTERNAL, "joining " + serverUrl + " was interrupted");
        }
        if (response.statusCode() != 200) {
            String detail = json.readTree(response.body()).path("detail").asString(response.body());
            throw new PgfleetException(
                    ErrorCode.BAD_REQUEST,
                    serverUrl + " refused to let this host join (" + response.statusCode() + "): " + detail);
        }
        return json.readTree(response.body());
    }

    private Path secrets() {
        return home.resolve("secrets");
    }

    private static void writePrivate(Path file, byte[] content) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.write(tmp, content);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
