package io.pgfleet.server.api;

import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.server.catalog.JdbcApiKeyRepository;
import io.pgfleet.server.catalog.JdbcApiKeyRepository.ApiKeyRow;
import io.pgfleet.server.catalog.JdbcDatabaseRepository;
import io.pgfleet.server.catalog.JdbcTenantRepository;
import io.pgfleet.server.catalog.JdbcTenantRepository.TenantRow;
import io.pgfleet.server.security.ApiKeys;
import io.pgfleet.server.security.Caller;
import io.pgfleet.server.security.Role;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.regex.Pattern;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestAttribute;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code /v1/tenants} (admin only, enforced by {@link ApiFilter}) and {@code /v1/api-keys}: admins manage
 * every tenant's keys, operators their own tenant's keys of equal or lower role.
 */
@RestController
public class AccessController {
    private static final Pattern NAME = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");

    private final JdbcTenantRepository tenants;
    private final JdbcApiKeyRepository keyRows;
    private final ApiKeys keys;
    private final JdbcDatabaseRepository databases;

    public AccessController(
            JdbcTenantRepository tenants,
            JdbcApiKeyRepository keyRows,
            ApiKeys keys,
            JdbcDatabaseRepository databases) {
        this.tenants = tenants;
        this.keyRows = keyRows;
        this.keys = keys;
        this.databases = databases;
    }

    public record TenantView(String id, String name, Instant createdAt) {
        static TenantView of(TenantRow row) {
            return new TenantView(row.id().toString(), row.name(), row.createdAt());
        }
    }

    public record TenantList(List<TenantView> tenants) {}

    public record CreateTenantRequest(String name) {}

    public record KeyView(
            String id,
            String tenantId,
            String name,
            String role,
            String createdBy,
            Instant createdAt,
            Instant lastUsedAt,
            Instant revokedAt) {
        static KeyView of(ApiKeyRow row) {
            return new KeyView(
                    row.id(),
                    row.tenantId().toString(),
                    row.name(),
                    row.role(),
                    row.createdBy(),
                    row.createdAt(),
                    row.lastUsedAt(),
                    row.revokedAt());
        }

        KeyView withoutCreator() {
            return new KeyView(id, tenantId, name, role, null, createdAt, lastUsedAt, revokedAt);
        }
    }

    public record KeyList(List<KeyView> apiKeys) {}

    /** The only response that ever holds a key's secret. */
    public record CreatedKeyView(KeyView apiKey, String key) {}

    public record CreateKeyRequest(String name, String role, String tenant) {}

    @GetMapping("/v1/tenants")
    public TenantList tenants() {
        return new TenantList(tenants.list().stream().map(TenantView::of).toList());
    }

    @PostMapping("/v1/tenants")
    @ResponseStatus(HttpStatus.CREATED)
    public TenantView createTenant(@RequestBody CreateTenantRequest request) {
        String name = request.name();
        if (name == null || !NAME.matcher(name).matches()) {
            throw PgfleetException.invalid(
                    "name", "use 1-63 lowercase letters, digits and '-', not starting or ending with '-'");
        }
        if (tenants.findByName(name).isPresent()) {
            throw new PgfleetException(ErrorCode.ALREADY_EXISTS, "tenant " + name + " already exists");
        }
        TenantRow row = new TenantRow(UUID.randomUUID(), name, null);
        tenants.insert(row);
        return TenantView.of(tenants.find(row.id()).orElseThrow());
    }

    @GetMapping("/v1/tenants/{tenant}")
    public TenantView tenant(@PathVariable String tenant) {
        return TenantView.of(keys.resolveTenant(tenant));
    }

    /**
     * Deletes a tenant that owns no database; its keys go with it (the foreign key cascades). Its tasks,
     * events and audit records stay readable by admins.
     */
    @DeleteMapping("/v1/tenants/{tenant}")
    public TenantView deleteTenant(@RequestAttribute(Caller.ATTRIBUTE) Caller caller, @PathVariable String tenant) {
        TenantRow row = keys.resolveTenant(tenant);
        if (row.id().equals(JdbcTenantRepository.DEFAULT_TENANT)) {
            throw new PgfleetException(ErrorCode.INVALID_STATE, "tenant default cannot be deleted");
        }
        if (row.id().equals(caller.keyTenantId())) {
            throw new PgfleetException(
                    ErrorCode.INVALID_STATE,
                    "tenant " + row.name() + " holds the key making this call; delete it with another admin key");
        }
        long owned = databases.count(row.id().toString(), java.util.Map.of(), null);
        if (owned > 0) {
            throw new PgfleetException(
                    ErrorCode.INVALID_STATE,
                    "tenant " + row.name() + " still owns " + owned + " database(s); delete them first");
        }
        tenants.delete(row.id());
        return TenantView.of(row);
    }

    @GetMapping("/v1/api-keys")
    public KeyList list(@RequestAttribute(Caller.ATTRIBUTE) Caller caller) {
        List<ApiKeyRow> rows = keyRows.list(caller.isAdmin() ? null : caller.tenantId());
        // Who made a key is shown only within its tenant: an admin key of another tenant stays unnamed.
        java.util.Set<String> ownTenantKeys =
                rows.stream().map(ApiKeyRow::id).collect(java.util.stream.Collectors.toSet());
        return new KeyList(rows.stream()
                .map(KeyView::of)
                .map(view -> caller.isAdmin() || view.createdBy() == null || ownTenantKeys.contains(view.createdBy())
                        ? view
                        : view.withoutCreator())
                .toList());
    }

    @PostMapping("/v1/api-keys")
    @ResponseStatus(HttpStatus.CREATED)
    public CreatedKeyView create(
            @RequestAttribute(Caller.ATTRIBUTE) Caller caller, @RequestBody CreateKeyRequest request) {
        if (request.name() == null || request.name().isBlank() || request.name().length() > 100) {
            throw PgfleetException.invalid("name", "is required: 1-100 characters saying what the key is for");
        }
        Role role = Role.fromLabel(request.role() == null ? "" : request.role());
        if (!caller.role().canGrant(role)) {
            throw new PgfleetException(
                    ErrorCode.FORBIDDEN,
                    "a " + caller.role().label() + " key cannot create a " + role.label() + " key");
        }
        UUID tenant = caller.tenantId();
        if (request.tenant() != null) {
            TenantRow named = keys.resolveTenant(request.tenant());
            if (!caller.isAdmin() && !named.id().equals(caller.tenantId())) {
                throw PgfleetException.notFound("tenant " + request.tenant());
            }
            tenant = named.id();
        }
        ApiKeys.CreatedKey created = keys.create(tenant, request.name(), role, caller.keyId());
        return new CreatedKeyView(KeyView.of(created.row()), created.key());
    }

    @DeleteMapping("/v1/api-keys/{keyId}")
    public KeyView revoke(@RequestAttribute(Caller.ATTRIBUTE) Caller caller, @PathVariable String keyId) {
        ApiKeyRow row = keyRows.find(keyId)
                .filter(k -> caller.isAdmin() || k.tenantId().equals(caller.tenantId()))
                .orElseThrow(() -> PgfleetException.notFound("API key " + keyId));
        if (!caller.role().canGrant(Role.fromLabel(row.role()))) {
            throw new PgfleetException(
                    ErrorCode.FORBIDDEN, "a " + caller.role().label() + " key cannot revoke a " + row.role() + " key");
        }
        if (!keyRows.revoke(keyId)) {
            throw new PgfleetException(ErrorCode.INVALID_STATE, "API key " + keyId + " is revoked already");
        }
        return KeyView.of(keyRows.find(keyId).orElseThrow());
    }
}
