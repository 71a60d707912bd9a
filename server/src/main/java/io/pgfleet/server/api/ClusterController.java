package io.pgfleet.server.api;

import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.server.catalog.JdbcDatabaseRepository;
import io.pgfleet.server.config.FleetMembership;
import io.pgfleet.server.config.PgfleetProperties;
import io.pgfleet.server.config.ServerOptions;
import io.pgfleet.server.fleet.HostRegistry;
import io.pgfleet.server.fleet.JoinTokens;
import io.pgfleet.server.security.Caller;
import io.pgfleet.server.security.SecretBox;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.Instant;
import java.util.Base64;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestAttribute;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

/**
 * pgEdge's calls that form a fleet: {@code GET /v1/cluster/init} and {@code /v1/cluster/join-token} give
 * a join token and this host's URL; a new host presents them (at its start with {@code --join-url}, or
 * through {@code POST /v1/cluster/join}) and learns the catalog and the fleet's key from
 * {@code POST /v1/cluster/join-options}, which the token alone authenticates.
 */
@RestController
public class ClusterController {
    private static final Logger log = LoggerFactory.getLogger(ClusterController.class);

    public record JoinToken(String token, String serverUrl, Instant expiresAt) {}

    public record JoinRequest(String token, String serverUrl) {}

    public record JoinOptionsRequest(String token, String hostId) {}

    public record JoinOptions(String catalogUrl, String catalogUser, String catalogPassword, String secretKey) {}

    public record Joining(String hostId, String serverUrl, String status) {}

    private final JoinTokens tokens;
    private final HostRegistry registry;
    private final SecretBox secrets;
    private final JdbcDatabaseRepository databases;
    private final PgfleetProperties properties;

    public ClusterController(
            JoinTokens tokens,
            HostRegistry registry,
            SecretBox secrets,
            JdbcDatabaseRepository databases,
            PgfleetProperties properties) {
        this.tokens = tokens;
        this.registry = registry;
        this.secrets = secrets;
        this.databases = databases;
        this.properties = properties;
    }

    /** pgEdge initializes its cluster here; a pgfleet fleet exists from its first host, so this gives a join token. */
    @GetMapping("/v1/cluster/init")
    public JoinToken init(@RequestAttribute(Caller.ATTRIBUTE) Caller caller) {
        return joinToken(caller);
    }

    @GetMapping("/v1/cluster/join-token")
    public JoinToken joinToken(@RequestAttribute(Caller.ATTRIBUTE) Caller caller) {
        requireSharedCatalog();
        JoinTokens.Issued issued = tokens.issue("key " + caller.keyId());
        log.info("cluster: key {} asked for a join token (valid until {})", caller.keyId(), issued.expiresAt());
        return new JoinToken(issued.token(), registry.apiUrl(), issued.expiresAt());
    }

    /** What a joining host needs; open to anyone holding a valid token (the route needs no API key). */
    @PostMapping("/v1/cluster/join-options")
    public JoinOptions joinOptions(@RequestBody JoinOptionsRequest request) {
        if (request == null || !tokens.isValid(request.token())) {
            throw new PgfleetException(ErrorCode.UNAUTHORIZED, "the join token is unknown or expired");
        }
        requireSharedCatalog();
        String host = request.hostId() != null && request.hostId().matches("[A-Za-z0-9._-]{1,63}")
                ? request.hostId()
                : "(unnamed)";
        log.info("cluster: host {} is joining the fleet with a join token", host);
        return new JoinOptions(
                properties.catalogUrl(),
                properties.catalogUser(),
                catalogPassword(),
                Base64.getEncoder().encodeToString(secrets.keyForJoiningHost()));
    }

    /**
     * pgEdge's join, called on the new host: it fetches the fleet's catalog and key from
     * {@code server_url}, then starts again on that catalog. Only an empty host on its embedded catalog
     * joins; a host of a fleet or one holding databases is refused and keeps running as it was.
     */
    @PostMapping("/v1/cluster/join")
    @ResponseStatus(HttpStatus.ACCEPTED)
    public Joining join(@RequestAttribute(Caller.ATTRIBUTE) Caller caller, @RequestBody JoinRequest request) {
        if (!caller.isAdmin()) {
            throw new PgfleetException(ErrorCode.FORBIDDEN, "only admin keys may make this host join a fleet");
        }
        if (request == null || request.token() == null || request.serverUrl() == null) {
            throw new PgfleetException(ErrorCode.BAD_REQUEST, "a join needs token and server_url");
        }
        if (properties.catalogUrl() != null) {
            throw new PgfleetException(
                    ErrorCode.INVALID_STATE, "host " + properties.hostId() + " is already on a shared catalog");
        }
        if (databases.anyDatabase()) {
            throw new PgfleetException(
                    ErrorCode.INVALID_STATE,
                    "host " + properties.hostId() + " holds databases; a host joins a fleet empty (delete them first)");
        }
        if (!ServerOptions.canRelaunch()) {
            throw new PgfleetException(
                    ErrorCode.INVALID_STATE,
                    "this pgfleet was not started by pgfleet server; start it with --join-url instead");
        }
        new FleetMembership(FleetMembership.resolveHome(properties.home()))
                .join(request.serverUrl(), request.token(), properties.hostId(), true);
        log.info(
                "cluster: host {} joins the fleet of {}; starting again on its catalog",
                properties.hostId(),
                request.serverUrl());
        ServerOptions.relaunchSoon();
        return new Joining(properties.hostId(), request.serverUrl(), "joining");
    }

    private void requireSharedCatalog() {
        if (properties.catalogUrl() == null) {
            throw new PgfleetException(
                    ErrorCode.INVALID_STATE,
                    "host " + properties.hostId() + " keeps its catalog to itself (embedded, on loopback); a fleet"
                            + " needs a catalog every host reaches: start its first host with --catalog-url");
        }
    }

    private String catalogPassword() {
        if (properties.catalogPasswordFile() == null) {
            return "";
        }
        try {
            return Files.readString(properties.catalogPasswordFile()).strip();
        } catch (IOException e) {
            throw new UncheckedIOException("reading the catalog password file", e);
        }
    }
}
