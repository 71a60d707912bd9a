package io.pgfleet.server.fleet;

import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.server.config.FleetProperties;
import io.pgfleet.server.config.PgfleetProperties;
import io.pgfleet.server.security.SecretBox;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Calls from this host to another host's API, for what only that host can answer (an instance's log
 * files). The caller's own key travels along (every host accepts every key, and the other host applies
 * the same tenant and role checks), and the call is signed with the fleet's key, which only hosts of
 * the fleet hold; a host answers a forwarded call only with a valid signature, and never forwards it again.
 */
@Component
public class HostCalls {
    public static final String FORWARDED_BY = "X-Pgfleet-Forwarded-By";
    public static final String SIGNATURE = "X-Pgfleet-Fleet-Signature";
    private final JdbcFleetRepository fleet;
    private final SecretBox secrets;
    private final JsonMapper json;
    private final String hostId;
    private final String advertiseHost;
    private final Duration timeout;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();

    public HostCalls(
            JdbcFleetRepository fleet,
            SecretBox secrets,
            JsonMapper json,
            PgfleetProperties properties,
            FleetProperties fleetProperties) {
        this.fleet = fleet;
        this.secrets = secrets;
        this.json = json;
        this.hostId = properties.hostId();
        this.advertiseHost = properties.advertiseHost();
        this.timeout = fleetProperties.hostTimeout();
    }

    /** GETs {@code pathAndQuery} from {@code owner}'s API as the caller, and reads the answer as {@code type}. */
    public <T> T get(String owner, String pathAndQuery, String authorization, Class<T> type) {
        HostRecord host = reachable(owner, "; what only it holds cannot be read now");
        HttpRequest request = signedGet(host, pathAndQuery)
                .timeout(Duration.ofSeconds(10))
                .header("Authorization", authorization == null ? "" : authorization)
                .build();
        HttpResponse<byte[]> response = send(owner, host, request, HttpResponse.BodyHandlers.ofByteArray());
        if (response.statusCode() != 200) {
            throw refused(owner, response.statusCode(), response.body());
        }
        return json.readValue(response.body(), type);
    }

    /**
     * Opens {@code pathAndQuery} on {@code owner}'s API as a call of this host alone (no caller's key:
     * the fleet's signature is the whole proof), for a stream such as a base backup. The caller closes it.
     */
    public java.io.InputStream openSigned(String owner, String pathAndQuery) {
        HostRecord host = reachable(owner, "");
        HttpResponse<java.io.InputStream> response =
                send(owner, host, signedGet(host, pathAndQuery).build(), HttpResponse.BodyHandlers.ofInputStream());
        if (response.statusCode() != 200) {
            byte[] problem;
            try (java.io.InputStream body = response.body()) {
                problem = body.readNBytes(64 * 1024);
            } catch (IOException e) {
                problem = new byte[0];
            }
            throw refused(owner, response.statusCode(), problem);
        }
        return response.body();
    }

    /** The owner's record, when it is registered, answers heartbeats and has an API URL. */
    private HostRecord reachable(String owner, String consequence) {
        HostRecord host = fleet.host(owner)
                .orElseThrow(
                        () -> new PgfleetException(ErrorCode.HOST_UNAVAILABLE, "host " + owner + " is not registered"));
        if (!host.isReachable(timeout) || host.apiUrl() == null) {
            throw new PgfleetException(
                    ErrorCode.HOST_UNAVAILABLE,
                    "host " + owner + " is unreachable (last heartbeat " + host.millisSinceSeen() / 1000 + " s ago)"
                            + consequence);
        }
        return host;
    }

    /** A GET of {@code pathAndQuery} on {@code host}, signed by this host. */
    private HttpRequest.Builder signedGet(HostRecord host, String pathAndQuery) {
        return HttpRequest.newBuilder(URI.create(host.apiUrl() + pathAndQuery))
                .header(FORWARDED_BY, hostId)
                .header(SIGNATURE, signature(hostId, pathAndQuery))
                .GET();
    }

    private <B> HttpResponse<B> send(
            String owner, HostRecord host, HttpRequest request, HttpResponse.BodyHandler<B> handler) {
        try {
            return http.send(request, handler);
        } catch (IOException e) {
            throw new PgfleetException(
                    ErrorCode.HOST_UNAVAILABLE,
                    "host " + owner + " at " + host.apiUrl() + " did not answer: " + e.getMessage(),
                    e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PgfleetException(ErrorCode.HOST_UNAVAILABLE, "interrupted while asking host " + owner, e);
        }
    }

    /** The other host's refusal, with the detail of its problem+json when it sent one. */
    private PgfleetException refused(String owner, int status, byte[] body) {
        String detail;
        try {
            JsonNode problem = json.readTree(body);
            detail = problem.path("detail").asText("HTTP " + status);
        } catch (RuntimeException e) {
            detail = "HTTP " + status;
        }
        return new PgfleetException(ErrorCode.HOST_UNAVAILABLE, "host " + owner + " answered: " + detail);
    }

    /** The address clients reach the host's instances at (its --advertise-host). */
    public String advertiseHost(String host) {
        return host.equals(hostId)
                ? advertiseHost
                : fleet.host(host)
                        .map(HostRecord::advertiseHost)
                        .filter(a -> a != null)
                        .orElse(advertiseHost);
    }

    /** Whether a forwarded call carries the fleet's signature for what it asks. */
    public boolean isSigned(String forwardedBy, String pathAndQuery, String signature) {
        if (forwardedBy == null || signature == null) {
            return false;
        }
        return MessageDigest.isEqual(
                signature(forwardedBy, pathAndQuery).getBytes(StandardCharsets.US_ASCII),
                signature.getBytes(StandardCharsets.US_ASCII));
    }

    private String signature(String from, String pathAndQuery) {
        return secrets.mac("pgfleet forward " + from + " " + pathAndQuery);
    }
}
