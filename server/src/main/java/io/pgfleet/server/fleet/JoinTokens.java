package io.pgfleet.server.fleet;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/**
 * Join tokens: an admin asks one host for a token, a new host presents it to that host to learn the
 * fleet's catalog and key. Tokens are random (192 bits), valid for {@link #VALIDITY}, and the catalog
 * keeps only their SHA-256, so reading the catalog does not give a way in.
 */
@Repository
public class JoinTokens {
    public static final Duration VALIDITY = Duration.ofHours(1);
    private static final String PREFIX = "pgfj_";
    private final JdbcClient jdbc;
    private final SecureRandom random = new SecureRandom();

    public JoinTokens(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /** A new token and when it expires. */
    public record Issued(String token, Instant expiresAt) {}

    public Issued issue(String createdBy) {
        byte[] bytes = new byte[24];
        random.nextBytes(bytes);
        String token = PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        Instant expires = Instant.now().plus(VALIDITY);
        jdbc.sql("delete from fleet_join_tokens where expires_at < now()").update();
        jdbc.sql("insert into fleet_join_tokens (token_sha256, created_by, expires_at) values (?, ?, ?)")
                .params(sha256(token), createdBy, Timestamp.from(expires))
                .update();
        return new Issued(token, expires);
    }

    /** Whether {@code token} was issued by this fleet and has not expired. */
    public boolean isValid(String token) {
        if (token == null || !token.startsWith(PREFIX) || token.length() > 100) {
            return false;
        }
        return jdbc.sql("select count(*) from fleet_join_tokens where token_sha256 = ? and expires_at > now()")
                        .param(sha256(token))
                        .query(Long.class)
                        .single()
                > 0;
    }

    private static String sha256(String token) {
        try {
            return HexFormat.of()
                    .formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }
}
