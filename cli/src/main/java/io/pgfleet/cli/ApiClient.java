package io.pgfleet.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import tools.jackson.databind.JsonNode;

/**
 * The REST API over {@link HttpURLConnection}: JSON in, JSON out, every error as a {@link ProblemException}
 * and an unreachable server as a {@link CliFailure} with exit code 5.
 */
final class ApiClient {
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(60);

    private final URI server;
    private final Optional<ApiKey> key;
    private final Optional<String> tenant;
    private HttpClient http;

    ApiClient(URI server, Optional<ApiKey> key, Optional<String> tenant) {
        this.server = server;
        this.key = key;
        this.tenant = tenant;
    }

    /**
     * HttpClient builds the default SSLContext eagerly, loading the CA store: a third of a cold start.
     * Over plain http no TLS happens, so a context that trusts nothing serves and costs nothing.
     */
    private static SSLContext plainHttpOnly() {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(new KeyManager[0], new TrustManager[0], null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("TLS is not available in this JVM", e);
        }
    }

    URI server() {
        return server;
    }

    /** The server's URL as the user wrote it, without the slash added for resolving paths. */
    String shown() {
        String s = server.toString();
        return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
    }

    JsonNode get(String path) {
        return JsonReader.toNode(send("GET", path, null));
    }

    /** The answer as {@link JsonReader}'s plain values: no Jackson class is loaded on this path. */
    Object getValue(String path) {
        return send("GET", path, null);
    }

    JsonNode post(String path, JsonNode body) {
        return JsonReader.toNode(send("POST", path, body));
    }

    JsonNode delete(String path) {
        return JsonReader.toNode(send("DELETE", path, null));
    }

    /** One path segment, percent-encoded: ids come from the user. */
    static String seg(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** {@code ?a=1&b=2} from name/value pairs, skipping null values. */
    static String query(Object... pairs) {
        StringBuilder q = new StringBuilder();
        for (int i = 0; i + 1 < pairs.length; i += 2) {
            if (pairs[i + 1] == null) {
                continue;
            }
            q.append(q.length() == 0 ? '?' : '&')
                    .append(pairs[i])
                    .append('=')
                    .append(seg(String.valueOf(pairs[i + 1])));
        }
        return q.toString();
    }

    /**
     * One call over {@link HttpURLConnection}: a blocking exchange on the calling thread, with no
     * selector thread and no TLS machinery loaded for plain http, which is most of a cold start's
     * share of the network (the event stream, which outlives one call, uses {@link #http()}).
     */
    private Object send(String method, String path, JsonNode body) {
        URI uri = server.resolve(path);
        String call = method + " " + uri.getRawPath();
        byte[] bytes = body == null ? null : JsonWriter.compact(body).getBytes(StandardCharsets.UTF_8);
        HttpURLConnection conn;
        try {
            conn = (HttpURLConnection) uri.toURL().openConnection();
            conn.setRequestMethod(method);
            conn.setConnectTimeout((int) CONNECT_TIMEOUT.toMillis());
            conn.setReadTimeout((int) REQUEST_TIMEOUT.toMillis());
            conn.setUseCaches(false);
            conn.setRequestProperty("Accept", "application/json, application/problem+json");
            key.ifPresent(k -> conn.setRequestProperty("Authorization", "Bearer " + k.value()));
            tenant.ifPresent(t -> conn.setRequestProperty("X-Pgfleet-Tenant", t));
            if (bytes != null) {
                conn.setDoOutput(true);
                conn.setFixedLengthStreamingMode(bytes.length);
                conn.setRequestProperty("Content-Type", "application/json");
            }
            conn.connect();
        } catch (IOException e) {
            throw unreachable(e);
        }
        try {
            if (bytes != null) {
                try (OutputStream out = conn.getOutputStream()) {
                    out.write(bytes);
                }
            }
            int status = conn.getResponseCode();
            InputStream in = status >= 400 ? conn.getErrorStream() : conn.getInputStream();
            String text = "";
            if (in != null) {
                try (in) {
                    text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                }
            }
            return answer(call, status, text);
        } catch (SocketTimeoutException e) {
            throw new CliFailure(
                    CliFailure.UNREACHABLE,
                    "the pgfleet server at " + server + " did not answer " + call + " within "
                            + REQUEST_TIMEOUT.toSeconds() + " s",
                    e);
        } catch (IOException e) {
            throw unreachable(e);
        }
    }

    /** A request to {@code path} with what every request carries: the key, and the tenant an admin acts in. */
    HttpRequest.Builder request(String path) {
        HttpRequest.Builder request = HttpRequest.newBuilder(server.resolve(path));
        key.ifPresent(k -> request.header("Authorization", "Bearer " + k.value()));
        tenant.ifPresent(t -> request.header("X-Pgfleet-Tenant", t));
        return request;
    }

    /**
     * Ends the client's selector thread and its connections: on Java 21+ the client is
     * {@link AutoCloseable} (closing waits for nothing, every call is answered by then); Java 17's
     * has no close, and its daemon selector ends with the JVM.
     */
    void close() {
        if (http != null && http instanceof AutoCloseable closeable) {
            try {
                closeable.close();
            } catch (Exception e) {
                throw new IllegalStateException("closing the HTTP client failed", e);
            }
        }
    }

    /** An HTTP client for a stream that outlives one request ({@link EventStreamReader}), built on first use. */
    HttpClient http() {
        if (http == null) {
            HttpClient.Builder builder =
                    HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(CONNECT_TIMEOUT);
            if ("http".equals(server.getScheme())) {
                builder.sslContext(plainHttpOnly());
            }
            http = builder.build();
        }
        return http;
    }

    CliFailure unreachable(IOException e) {
        String why = e.getMessage() == null || e.getMessage().isBlank()
                ? "connection refused"
                : e.getMessage().toLowerCase(java.util.Locale.ROOT);
        return new CliFailure(
                CliFailure.UNREACHABLE,
                "cannot reach the pgfleet server at " + shown() + " (" + why + "). Is it running? Start it with"
                        + " `pgfleet server`, or point --server or PGFLEET_SERVER at it.",
                e);
    }

    /** The JSON of a 2xx answer, as {@link JsonReader}'s values; anything else thrown as the server's problem. */
    Object answer(String call, int status, String body) {
        String text = body == null ? "" : body;
        Object json = null;
        if (!text.isBlank()) {
            try {
                json = JsonReader.read(text);
            } catch (JsonReader.InvalidJson e) {
                throw new CliFailure(
                        CliFailure.FAILED,
                        "the server at " + server + " answered " + call + " with HTTP " + status
                                + " and a body that is not JSON; is --server pointing at pgfleet?",
                        e);
            }
        }
        if (status >= 200 && status < 300) {
            return json == null ? new java.util.LinkedHashMap<String, Object>() : json;
        }
        String code = JsonReader.text(json, "code");
        String detail = JsonReader.text(json, "detail");
        List<String> fields = new ArrayList<>();
        for (Object e : JsonReader.array(json, "errors")) {
            fields.add(JsonReader.text(e, "field") + ": " + JsonReader.text(e, "message"));
        }
        throw new ProblemException(
                status,
                code == null ? "http_" + status : code,
                detail == null ? "HTTP " + status + " from " + call : detail,
                fields,
                call);
    }
}
