package io.pgfleet.server.agent;

import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.server.config.PgfleetProperties;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.springframework.stereotype.Component;

/**
 * The home directory's layout (DESIGN.md §5) and the OS users pgfleet runs PostgreSQL as. When pgfleet
 * runs as root, PostgreSQL must not: each tenant's instances run as a user of their own
 * ({@link TenantOsUser}) and the embedded catalog as {@value #CATALOG_USER}.
 */
@Component
public class HostLayout {
    /** The OS user of the embedded catalog when pgfleet runs as root. */
    public static final String CATALOG_USER = "pgfleet-catalog";

    private final Path home;
    private final Path distDir;
    private final boolean root;

    public HostLayout(PgfleetProperties properties) {
        this.root = "root".equals(System.getProperty("user.name"));
        InstanceAddress.configure(properties.listenAddresses());
        this.home = io.pgfleet.server.config.FleetMembership.resolveHome(properties.home());
        this.distDir = properties.distDir() == null
                ? home.resolve("dist")
                : properties.distDir().toAbsolutePath().normalize();
        if (root
                && properties.runAs() != null
                && SystemUsers.find(properties.runAs()).isEmpty()) {
            throw missingRunAsUser(properties.runAs());
        }
        createHome();
    }

    static PgfleetException missingRunAsUser(String user) {
        return new PgfleetException(
                ErrorCode.BAD_REQUEST,
                "pgfleet runs as root and PostgreSQL refuses to, and --run-as asks for OS user '" + user
                        + "', which does not exist. Create it (useradd --system " + user
                        + ") or leave --run-as out: each tenant's instances then run as an OS user of their own.");
    }

    private void createHome() {
        try {
            Files.createDirectories(home);
            Files.createDirectories(instancesDir());
            Files.createDirectories(distDir());
            Files.createDirectories(secretsDir());
            Files.setPosixFilePermissions(secretsDir(), PosixFilePermissions.fromString("rwx------"));
            if (root) {
                for (Path dir : List.of(home, instancesDir(), distDir())) {
                    Set<PosixFilePermission> perms = new java.util.HashSet<>(Files.getPosixFilePermissions(dir));
                    perms.addAll(Set.of(PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.GROUP_EXECUTE));
                    if (dir.equals(instancesDir())) {
                        // Traversable, not listable: no tenant's instance learns the others' directory names.
                        perms.removeAll(Set.of(PosixFilePermission.OTHERS_READ, PosixFilePermission.GROUP_READ));
                    }
                    Files.setPosixFilePermissions(dir, perms);
                }
                checkTraversable(home);
                checkTraversable(distDir());
            }
            refuseWritableByOthers(distDir());
        } catch (IOException e) {
            throw new PgfleetException(ErrorCode.BAD_REQUEST, "cannot create home " + home + ": " + e.getMessage(), e);
        }
    }

    /** Binaries that every instance runs must not be replaceable by anyone but pgfleet. */
    private static void refuseWritableByOthers(Path dir) throws IOException {
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(dir);
        if (perms.contains(PosixFilePermission.OTHERS_WRITE) || perms.contains(PosixFilePermission.GROUP_WRITE)) {
            throw new PgfleetException(
                    ErrorCode.BAD_REQUEST,
                    "--dist-dir " + dir + " is writable by other users, who could replace the PostgreSQL binaries"
                            + " pgfleet runs; chmod go-w it or choose another directory");
        }
    }

    /** Every directory on the way to the home must let the instances' OS users through (mode o+x). */
    private void checkTraversable(Path dir) throws IOException {
        String what = dir.equals(home) ? "home " + home : "--dist-dir " + dir;
        List<Path> closed = new ArrayList<>();
        for (Path p = dir; p != null; p = p.getParent()) {
            if (!Files.getPosixFilePermissions(p).contains(PosixFilePermission.OTHERS_EXECUTE)) {
                closed.add(p);
            }
        }
        if (!closed.isEmpty()) {
            throw new PgfleetException(
                    ErrorCode.BAD_REQUEST,
                    what + " is not reachable by the instances' OS users: " + closed
                            + " must be searchable by others (chmod o+x), or choose a --home such as /var/lib/pgfleet");
        }
    }

    public Path home() {
        return home;
    }

    public Path instancesDir() {
        return home.resolve("instances");
    }

    public Path instanceDir(String instanceId) {
        return instancesDir().resolve(instanceId);
    }

    /** The unpacked bundled binaries: {@code <home>/dist}, or {@code --dist-dir} shared by several homes. */
    public Path distDir() {
        return distDir;
    }

    public Path catalogDir() {
        return home.resolve("catalog");
    }

    public Path secretsDir() {
        return home.resolve("secrets");
    }

    public boolean isRoot() {
        return root;
    }

    /**
     * The embedded catalog's OS user: {@value #CATALOG_USER} when pgfleet runs as root. A catalog made
     * before it had its own user (owned by {@code postgres}) is given to it when it is not running;
     * a running one is adopted as it is, under its owner.
     */
    public OsAccount catalogAccount(boolean catalogRunning) {
        if (!root) {
            return OsAccount.current();
        }
        java.util.Optional<String> owner = SystemUsers.ownerOf(catalogDir());
        if (owner.isPresent() && !owner.get().equals(CATALOG_USER) && catalogRunning) {
            return SystemUsers.find(owner.get())
                    .orElseThrow(() -> new PgfleetException(
                            ErrorCode.INTERNAL,
                            "the catalog runs as OS user " + owner.get() + ", which no longer exists"));
        }
        OsAccount account = SystemUsers.ensure(CATALOG_USER, "pgfleet embedded catalog");
        if (owner.isPresent() && !owner.get().equals(CATALOG_USER)) {
            account.takeOver(catalogDir());
        }
        return account;
    }
}
