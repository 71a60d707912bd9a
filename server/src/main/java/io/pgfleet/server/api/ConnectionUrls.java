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
        return bracketed(host);
    }

    private static String bracketed(String host) {
        return host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host;
    }

    /**
     * Per replicated node (several instances): multi-host URIs over its instances, primary first, with
     * {@code target_session_attrs} (libpq) and {@code targetServerType} (pgjdbc).
     */
    static java.util.List<Views.ConnectionNode> nodes(
            java.util.List<Views.ConnectionInstance> all, String database, String user, String password) {
        java.util.Map<String, java.util.List<Views.ConnectionInstance>> byNode = new java.util.LinkedHashMap<>();
        all.forEach(i -> byNode.computeIfAbsent(i.nodeName(), n -> new java.util.ArrayList<>())
                .add(i));
        String auth = user == null ? "" : enc(user) + ":" + (password == null ? MASK : enc(password)) + "@";
        String jdbcAuth =
                user == null ? "" : "&user=" + enc(user) + "&password=" + (password == null ? MASK : enc(password));
        java.util.List<Views.ConnectionNode> result = new java.util.ArrayList<>();
        byNode.forEach((node, list) -> {
            if (list.size() < 2) {
                return;
            }
            String hosts = String.join(
                    ",",
                    list.stream().map(i -> bracketed(i.host()) + ":" + i.port()).toList());
            boolean pooled = list.stream().allMatch(i -> i.poolerPort() != null);
            String poolHosts = String.join(
                    ",",
                    list.stream()
                            .map(i -> bracketed(i.host()) + ":" + i.poolerPort())
                            .toList());
            String db = enc(database);
            result.add(new Views.ConnectionNode(
                    node,
                    "postgresql://" + auth + hosts + "/" + db + "?target_session_attrs=read-write",
                    "postgresql://" + auth + hosts + "/" + db + "?target_session_attrs=read-only",
                    pooled ? "postgresql://" + auth + poolHosts + "/" + db + "?target_session_attrs=read-write" : null,
                    "jdbc:postgresql://" + hosts + "/" + db + "?targetServerType=primary" + jdbcAuth,
                    "jdbc:postgresql://" + hosts + "/" + db + "?targetServerType=preferSecondary" + jdbcAuth));
        });
        return result;
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
