package io.pgfleet.server.agent;

import io.pgfleet.server.config.PgfleetProperties;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import org.springframework.stereotype.Component;

/**
 * Which OS user runs an instance. When pgfleet runs as root, each tenant's instances run as a user of
 * their own, {@code pgf-<first 12 hex digits of the tenant id>}, created on first use, and their
 * directories are that user's alone (mode 0700): a database superuser of one tenant (COPY … PROGRAM,
 * pg_read_file) can neither read another tenant's files nor signal its processes, nor the catalog's.
 *
 * <p>An instance's files record its user: an instance whose directory exists runs as that directory's
 * owner, so instances made before per-tenant users (owned by {@code postgres}) keep running as before.
 * {@code --run-as USER} makes every new instance run as that one user instead (tenants then share it).
 */
@Component
public class TenantOsUser {
    static final String PREFIX = "pgf-";

    private final HostLayout layout;
    private final String sharedUser;

    public TenantOsUser(HostLayout layout, PgfleetProperties properties) {
        this.layout = layout;
        this.sharedUser = properties.runAs();
    }

    /** The OS user name of a tenant's instances: {@code pgf-} and the first 12 hex digits of its id. */
    public static String nameFor(String tenantId) {
        String hex = tenantId.replace("-", "").toLowerCase(Locale.ROOT);
        return PREFIX + hex.substring(0, Math.min(12, hex.length()));
    }

    /** The account {@code instance} runs as (created when it is the first instance of its tenant here). */
    public OsAccount of(InstanceRuntime instance) {
        if (!layout.isRoot()) {
            return OsAccount.current();
        }
        Path dir = layout.instanceDir(instance.id());
        Optional<String> owner = SystemUsers.ownerOf(dir);
        if (owner.isPresent()) {
            return SystemUsers.find(owner.get())
                    .orElseGet(() -> OsAccount.unusable("the OS user owning " + dir + " (" + owner.get()
                            + ") no longer exists; give the directory to an existing user (chown -R)"));
        }
        if (sharedUser != null) {
            return SystemUsers.find(sharedUser).orElseThrow(() -> HostLayout.missingRunAsUser(sharedUser));
        }
        if (instance.tenantId() == null) {
            return OsAccount.unusable(instance.subject() + " has no files yet and no tenant was given; nothing can run"
                    + " as its OS user");
        }
        return SystemUsers.ensure(nameFor(instance.tenantId()), "pgfleet tenant instances, home " + layout.home());
    }
}
