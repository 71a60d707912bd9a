package io.pgfleet.server.security;

import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.server.agent.HostLayout;
import io.pgfleet.server.catalog.JdbcApiKeyRepository;
import io.pgfleet.server.catalog.JdbcApiKeyRepository.ApiKeyRow;
import io.pgfleet.server.catalog.JdbcTenantRepository;
import io.pgfleet.server.catalog.JdbcTenantRepository.TenantRow;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * API keys {@code pgf_<id>_<secret>}: the id finds the row, the secret is compared as a SHA-256 hash in
 * constant time. The secret has 256 random bits, so a fast hash is enough (nothing to brute-force).
 */
@Component
public class ApiKeys implements org.springframework.beans.factory.SmartInitializingSingleton {
    private static final Logger log = LoggerFactory.getLogger(ApiKeys.class);
    private static final Pattern KEY = Pattern.compile("pgf_([a-z0-9]{12})_([A-Za-z0-9_-]{43})");
    private static final char[] ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789".toCharArray();
    private static final SecureRandom RANDOM = new SecureRandom();

    private final JdbcApiKeyRepository keys;
    private final JdbcTenantRepository tenants;
    private final HostLayout layout;
    private final TransactionTemplate tx;
    private final boolean migrateOnly;

    /** A key just made: the only moment its secret exists outside the caller's hands. */
    public record CreatedKey(ApiKeyRow row, String key) {}

    public ApiKeys(
            JdbcApiKeyRepository keys,
            JdbcTenantRepository tenants,
            HostLayout layout,
            TransactionTemplate tx,
            io.pgfleet.server.config.PgfleetProperties properties) {
        this.migrateOnly = properties.migrateOnly();
        this.keys = keys;
        this.tenants = tenants;
        this.layout = layout;
        this.tx = tx;
    }

    @Override
    public void afterSingletonsInstantiated() {
        if (!migrateOnly) {
            bootstrap();
        }
    }

    /**
     * First start: the default tenant gets an admin key, written to {@code <home>/secrets/admin.key}
     * (0600). The log says where it is, never what it is.
     */
    public void bootstrap() {
        Path file = adminKeyFile();
        if (keys.anyActiveAdmin()) {
            return;
        }
        CreatedKey admin = tx.execute(s -> {
            keys.lockBootstrap(); // another host of the fleet may be bootstrapping the same catalog right now
            return keys.anyActiveAdmin()
                    ? null
                    : create(JdbcTenantRepository.DEFAULT_TENANT, "admin", Role.ADMIN, "bootstrap");
        });
        if (admin == null) {
            return; // another host of the fleet created it a moment ago
        }
        try {
            Files.deleteIfExists(file);
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(
                    file, admin.key() + "\n", StandardCharsets.US_ASCII, StandardOpenOption.TRUNCATE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("writing the admin key to " + file, e);
        }
        log.info(
                "created the admin API key {} of tenant default; it is in {} (mode 0600)",
                admin.row().id(),
                file);
    }

    public Path adminKeyFile() {
        return layout.secretsDir().resolve("admin.key");
    }

    public CreatedKey create(UUID tenantId, String name, Role role, String createdBy) {
        StringBuilder id = new StringBuilder(12);
        for (int i = 0; i < 12; i++) {
            id.append(ID_ALPHABET[RANDOM.nextInt(ID_ALPHABET.length)]);
        }
        byte[] secretBytes = new byte[32];
        RANDOM.nextBytes(secretBytes);
        String secret = Base64.getUrlEncoder().withoutPadding().encodeToString(secretBytes);
        ApiKeyRow row =
                new ApiKeyRow(id.toString(), tenantId, name, role.label(), hash(secret), createdBy, null, null, null);
        keys.insert(row);
        return new CreatedKey(keys.find(row.id()).orElseThrow(), "pgf_" + id + "_" + secret);
    }

    /**
     * The caller behind an {@code Authorization} header value, acting in its own tenant or, for an
     * admin, the one named by {@code tenantHeader}. Every failure is the same 401, so a probe learns
     * nothing about which keys exist.
     */
    public Caller authenticate(String authorization, String tenantHeader) {
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw unauthorized("send Authorization: Bearer <api key>");
        }
        Matcher m = KEY.matcher(authorization.substring(7).trim());
        if (!m.matches()) {
            throw unauthorized("the API key is malformed, unknown or revoked");
        }
        ApiKeyRow row = keys.find(m.group(1)).orElse(null);
        byte[] presented = hash(m.group(2));
        // Compare even when the id is unknown, so timing does not tell which ids exist.
        boolean matches = MessageDigest.isEqual(presented, row == null ? new byte[32] : row.secretHash());
        if (row == null || !matches || row.revokedAt() != null) {
            throw unauthorized("the API key is malformed, unknown or revoked");
        }
        return callerOf(row, tenantHeader);
    }

    /**
     * The caller of a console session: the key it was opened with, read again on every request, so a
     * revoked key ends its sessions at once and the session's role is always the key's.
     */
    public Caller authenticateKeyId(String keyId, String tenantHeader) {
        ApiKeyRow row = keys.find(keyId).orElse(null);
        if (row == null || row.revokedAt() != null) {
            throw unauthorized("the key of this console session was revoked; log in again");
        }
        return callerOf(row, tenantHeader);
    }

    private Caller callerOf(ApiKeyRow row, String tenantHeader) {
        if (row.lastUsedAt() == null
                || row.lastUsedAt().isBefore(java.time.Instant.now().minusSeconds(60))) {
            // At most one write a minute per key: a busy key must not pay a write on every request.
            keys.touch(row.id());
        }
        Role role = Role.fromLabel(row.role());
        TenantRow tenant = new TenantRow(row.tenantId(), keys.tenantName(row.tenantId()), null);
        if (tenantHeader != null && !tenantHeader.isBlank() && role == Role.ADMIN) {
            tenant = resolveTenant(tenantHeader.trim());
        }
        return new Caller(row.id(), role, row.tenantId(), tenant.id(), tenant.name());
    }

    /** A tenant by name or id; 404 when neither matches. */
    public TenantRow resolveTenant(String nameOrId) {
        try {
            UUID id = UUID.fromString(nameOrId);
            return tenants.find(id).orElseThrow(() -> PgfleetException.notFound("tenant " + nameOrId));
        } catch (IllegalArgumentException notAUuid) {
            return tenants.findByName(nameOrId).orElseThrow(() -> PgfleetException.notFound("tenant " + nameOrId));
        }
    }

    private static PgfleetException unauthorized(String message) {
        return new PgfleetException(ErrorCode.UNAUTHORIZED, message);
    }

    static byte[] hash(String secret) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.US_ASCII));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
