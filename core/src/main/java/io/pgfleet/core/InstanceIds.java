package io.pgfleet.core;

import java.security.SecureRandom;
import java.util.UUID;

/** Instance ids: {@code <database-uuid>-<node>-<8 chars a-z0-9>} (DESIGN.md §1). */
public final class InstanceIds {
    private static final String ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
    private static final SecureRandom RANDOM = new SecureRandom();

    private InstanceIds() {}

    public static String newInstanceId(UUID databaseUuid, String nodeName) {
        StringBuilder suffix = new StringBuilder(8);
        for (int i = 0; i < 8; i++) {
            suffix.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
        }
        return databaseUuid + "-" + nodeName + "-" + suffix;
    }
}
