package io.pgfleet.core;

import java.security.SecureRandom;

/** A password in memory. {@link #toString()} is {@code ****} so it never reaches a log by accident. */
public record Secret(String value) {
    private static final String ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    private static final SecureRandom RANDOM = new SecureRandom();

    /** 32 characters from a 57-letter alphabet: about 186 bits, no quotes to escape anywhere. */
    public static Secret generate() {
        StringBuilder sb = new StringBuilder(32);
        for (int i = 0; i < 32; i++) {
            sb.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
        }
        return new Secret(sb.toString());
    }

    @Override
    public String toString() {
        return "****";
    }
}
