package io.pgfleet.server.agent;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.text.Normalizer;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Checks a password against a {@code pg_authid.rolpassword} SCRAM-SHA-256 verifier (RFC 5802/7677), the
 * way the server would, so pgfleet can tell that a password was changed by hand without logging in.
 */
final class ScramVerifier {
    /**
     * Answers already computed, by verifier: the SHA-256 of the password checked against it, and whether
     * it matched. The drift check asks the same question for every user of every instance every round,
     * and each answer costs 4,096 HMACs; a digest of the password costs one hash. Bounded: cleared when full.
     */
    private static final Map<String, Answer> ANSWERS = new ConcurrentHashMap<>();

    private static final int MAX_ANSWERS = 10_000;

    private record Answer(byte[] passwordDigest, boolean matches) {}

    private ScramVerifier() {}

    /** Whether {@code password} produces {@code verifier}; false for a verifier that is not SCRAM. */
    static boolean matches(String verifier, String password) {
        if (verifier == null || !verifier.startsWith("SCRAM-SHA-256$")) {
            return false;
        }
        byte[] digest = sha256(password.getBytes(StandardCharsets.UTF_8));
        Answer known = ANSWERS.get(verifier);
        if (known != null && MessageDigest.isEqual(known.passwordDigest(), digest)) {
            return known.matches();
        }
        boolean matches = compute(verifier, password);
        if (ANSWERS.size() >= MAX_ANSWERS) {
            ANSWERS.clear();
        }
        ANSWERS.put(verifier, new Answer(digest, matches));
        return matches;
    }

    private static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }

    private static boolean compute(String verifier, String password) {
        // SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>
        String[] parts = verifier.substring("SCRAM-SHA-256$".length()).split("[$:]");
        if (parts.length != 4) {
            return false;
        }
        try {
            int iterations = Integer.parseInt(parts[0]);
            byte[] salt = Base64.getDecoder().decode(parts[1]);
            byte[] storedKey = Base64.getDecoder().decode(parts[2]);
            // PostgreSQL SASLprep-normalizes the password; NFKC is that for every password without
            // prohibited characters.
            byte[] pw = Normalizer.normalize(password, Normalizer.Form.NFKC).getBytes(StandardCharsets.UTF_8);
            byte[] salted = hi(pw, salt, iterations);
            byte[] clientKey = hmac(salted, "Client Key".getBytes(StandardCharsets.US_ASCII));
            byte[] computed = MessageDigest.getInstance("SHA-256").digest(clientKey);
            return MessageDigest.isEqual(computed, storedKey);
        } catch (IllegalArgumentException e) {
            return false; // a malformed verifier (not base64, bad iteration count) matches no password
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }

    /** PBKDF2-HMAC-SHA-256, one 32-byte block. */
    private static byte[] hi(byte[] password, byte[] salt, int iterations) throws GeneralSecurityException {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(password.length == 0 ? new byte[1] : password, "HmacSHA256"));
        mac.update(salt);
        byte[] u = mac.doFinal(new byte[] {0, 0, 0, 1});
        byte[] result = u.clone();
        for (int i = 1; i < iterations; i++) {
            u = mac.doFinal(u);
            for (int j = 0; j < result.length; j++) {
                result[j] ^= u[j];
            }
        }
        return result;
    }

    private static byte[] hmac(byte[] key, byte[] data) throws GeneralSecurityException {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        return mac.doFinal(data);
    }
}
