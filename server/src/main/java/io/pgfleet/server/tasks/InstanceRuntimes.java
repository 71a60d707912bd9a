package io.pgfleet.server.tasks;

import io.pgfleet.server.agent.InstanceRuntime;
import io.pgfleet.server.catalog.CatalogRows.DatabaseRow;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.security.SecretBox;
import org.springframework.stereotype.Component;

/** Turns an instance's catalog row into the agent's {@link InstanceRuntime}, its passwords decrypted. */
@Component
public class InstanceRuntimes {
    private final SecretBox secrets;

    public InstanceRuntimes(SecretBox secrets) {
        this.secrets = secrets;
    }

    public InstanceRuntime of(DatabaseRow db, InstanceRow row) {
        return of(db.id(), db.tenantId(), row);
    }

    /** Enough to observe an instance (is it running?); nothing may run as its OS user from this one. */
    public InstanceRuntime of(String databaseId, InstanceRow row) {
        return of(databaseId, null, row);
    }

    /**
     * Only to ask whether its postmaster and pooler run (the health monitor, every second for every
     * instance): no password is decrypted, so nothing can connect or run with this one.
     */
    public InstanceRuntime observing(InstanceRow row) {
        return new InstanceRuntime(
                row.id(), row.nodeName(), "", row.postgresVersion(), row.port(), row.poolerPort(), null, null, null);
    }

    private InstanceRuntime of(String databaseId, String tenantId, InstanceRow row) {
        return new InstanceRuntime(
                row.id(),
                row.nodeName(),
                databaseId,
                row.postgresVersion(),
                row.port(),
                row.poolerPort(),
                secrets.open(row.superuserPasswordEnc()),
                row.poolerPasswordEnc() == null ? null : secrets.open(row.poolerPasswordEnc()),
                tenantId);
    }
}
