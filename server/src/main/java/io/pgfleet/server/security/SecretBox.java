package io.pgfleet.server.security;

import io.pgfleet.core.Secret;
import io.pgfleet.server.agent.HostLayout;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.springframework.stereotype.Component;

/**
 * Encrypts secrets at rest with AES-256-GCM. The key is {@code <home>/secrets/secret.key} (mode 0600),
 * created on first start; losing it makes the stored passwords unreadable, so back it up with the catalog.
 */
@Component
public class SecretBox {
    private static final int IV_BYTES = 12;
    private static final int TAG_BITS = 128;
    private final SecureRandom random = new SecureRandom();
    private final SecretKeySpec key;

    public SecretBox(HostLayout layout) {
        this.key = new SecretKeySpec(loadOrCreateKey(layout.secretsDir().resolve("secret.key")), "AES");
    }

    private byte[] loadOrCreateKey(Path file) {
        try {
            if (!Files.exists(file)) {
                byte[] fresh = new byte[32];
                random.nextBytes(fresh);
                Path tmp = file.resolveSibling("secret.key.tmp");
                Files.write(tmp, fresh, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING);
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
                Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            }
            byte[] bytes = Files.readAllBytes(file);
            if (bytes.length != 32) {
                throw new IllegalStateException(file + " holds " + bytes.length + " bytes; an AES-256 key has 32");
            }
            return bytes;
        } catch (IOException e) {
            throw new UncheckedIOException("reading the secret key " + file, e);
        }
    }

    /**
     * HMAC-SHA256 of {@code message} under this host's key, hex. Hosts of one fleet share the key, so
     * this proves to another host that a call comes from the fleet; it also gives the key's fingerprint.
     */
    public String mac(String message) {
        try {
            javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key.getEncoded(), "HmacSHA256"));
            return java.util.HexFormat.of().formatHex(mac.doFinal(message.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    /** Tells keys apart without revealing them: what the catalog stores to check every host has the fleet's key. */
    /**
     * The fleet's key itself, for a host that joins the fleet with a valid join token (it must decrypt
     * what the others encrypted). Nothing else sends it anywhere.
     */
    public byte[] keyForJoiningHost() {
        return key.getEncoded();
    }

    public String fingerprint() {
        return mac("pgfleet key fingerprint").substring(0, 32);
    }

    public byte[] seal(Secret secret) {
        try {
            byte[] iv = new byte[IV_BYTES];
            random.nextBytes(iv);
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, iv));
            byte[] encrypted = cipher.doFinal(secret.value().getBytes(StandardCharsets.UTF_8));
            return ByteBuffer.allocate(IV_BYTES + encrypted.length)
                    .put(iv)
                    .put(encrypted)
                    .array();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM encryption failed", e);
        }
    }

    public Secret open(byte[] box) {
        try {
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, box, 0, IV_BYTES));
            return new Secret(new String(cipher.doFinal(box, IV_BYTES, box.length - IV_BYTES), StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(
                    "a stored secret cannot be decrypted with " + "<home>/secrets/secret.key", e);
        }
    }
}
