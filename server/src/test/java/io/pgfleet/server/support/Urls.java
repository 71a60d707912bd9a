package io.pgfleet.server.support;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/** Reads the user and password back out of a {@code postgresql://user:password@host:port/db} URL. */
public final class Urls {
    private Urls() {}

    public static String user(String url) {
        return URLDecoder.decode(userInfo(url)[0], StandardCharsets.UTF_8);
    }

    public static String password(String url) {
        return URLDecoder.decode(userInfo(url)[1], StandardCharsets.UTF_8);
    }

    private static String[] userInfo(String url) {
        String rest = url.substring(url.indexOf("//") + 2);
        String info = rest.substring(0, rest.lastIndexOf('@'));
        int colon = info.indexOf(':');
        return new String[] {info.substring(0, colon), info.substring(colon + 1)};
    }
}
