package io.pgfleet.server.security;

import java.util.UUID;

/**
 * Who makes a request: the key, its role, and the tenant the request acts in. That is the key's own
 * tenant, or for an admin the one named by the {@code X-Pgfleet-Tenant} header.
 */
public record Caller(String keyId, Role role, UUID keyTenantId, UUID tenantId, String tenantName) {
    public static final String ATTRIBUTE = "pgfleet.caller";

    /** The tenant column value of the catalog's tenant-owned rows. */
    public String tenant() {
        return tenantId.toString();
    }

    public boolean isAdmin() {
        return role == Role.ADMIN;
    }
}
