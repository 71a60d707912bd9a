package io.pgfleet.server.api;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * The URLs of one database for one user, as libpq ({@code postgresql://}) and pgjdbc
 * ({@code jdbc:postgresql://}) take them. pgjdbc reads no user or password before the host, so they go
 * in the query; behind PgBouncer's transaction pooling a JDBC URL sets {@code prepareThreshold=0},
 * because named server-side prepared statements do not survive from one transaction to the next there.
 *
 * @param password the clear password, or null to show {@code ****} in its place
 */
record ConnectionUrls(String host, String database, String user, String password) {
    private static final String MASK = "****";

    String libpq(int port) {
        String auth = user == null ? "" : enc(user) + ":" + (password == null ? MASK : enc(password)) + "@";
        return "postgresql://" + auth + hostPart() + ":" + port + "/" + enc(database);
    }

    String jdbc(int port, boolean pooled) {
        StringBuilder url = new StringBuilder("jdbc:postgresql://" + hostPart() + ":" + port + "/" + enc(database));
        char sep = '?';
        if (user != null) {
            url.append(sep).append("user=").append(enc(user));
            url.append("&password=").append(password == null ? MASK : enc(password));
            sep = '&';
        }
        if (pooled) {
            url.append(sep).append("prepareThreshold=0");
        }
        return url.toString();
    }

    /** An IPv6 literal needs brackets in a URL. */
    private String hostPart() {
        return host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host;
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
