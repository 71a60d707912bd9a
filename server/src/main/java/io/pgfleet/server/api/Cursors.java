package io.pgfleet.server.api;

import io.pgfleet.core.PgfleetException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** Opaque paging cursors: the last key of a page, so clients cannot build or rely on them. */
final class Cursors {
    private Cursors() {}

    static String encode(String lastKey) {
        return Base64.getUrlEncoder()
                .withoutPadding()
                .encodeToString(("v1:" + lastKey).getBytes(StandardCharsets.UTF_8));
    }

    static String decode(String parameter, String cursor) {
        try {
            String raw = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
            if (raw.startsWith("v1:")) {
                return raw.substring(3);
            }
        } catch (IllegalArgumentException e) {
            throw PgfleetException.badParameter(parameter, "is not a cursor this server handed out");
        }
        throw PgfleetException.badParameter(parameter, "is not a cursor this server handed out");
    }
}
