package io.pgfleet.server.agent;

import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.server.config.PgfleetProperties;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.springframework.stereotype.Component;

/**
 * The home directory's layout (DESIGN.md §5) and the OS user that owns instance files. When pgfleet
 * runs as root, PostgreSQL must not, so instances run as {@code pgfleet.run-as} (default postgres).
 */
@Component
public class HostLayout {
    private final Path home;
    private final boolean root;
    private final String instanceUser;
    private final UserPrincipal instanceOwner;
    private final GroupPrincipal instanceGroup;

    public HostLayout(PgfleetProperties properties) {
        this.root = "root".equals(System.getProperty("user.name"));
        InstanceAddress.configure(properties.listenAddresses());
        this.home = resolveHome(properties.home(), root);
        this.instanceUser = root ? properties.runAs() : System.getProperty("user.name");
        UserPrincipalLookupService lookup = home.getFileSystem().getUserPrincipalLookupService();
        try {
            this.instanceOwner = lookup.lookupPrincipalByName(instanceUser);
            this.instanceGroup = root ? lookup.lookupPrincipalByGroupName(primaryGroup(instanceUser)) : null;
        } catch (UserPrincipalNotFoundException e) {
            throw new PgfleetException(
                    ErrorCode.BAD_REQUEST,
                    "pgfleet runs as root and PostgreSQL refuses to, so instances run as OS user '" + instanceUser
                            + "', which does not exist. Create it (useradd --system --home-dir /var/lib/postgresql "
                            + instanceUser + ") or pass --run-as USER.");
        } catch (IOException e) {
            throw new UncheckedIOException("looking up OS user " + instanceUser, e);
        }
        createHome();
    }

    private static Path resolveHome(Path configured, boolean root) {
        if (configured != null) {
            return configured.toAbsolutePath().normalize();
        }
        return root ? Path.of("/var/lib/pgfleet") : Path.of(System.getProperty("user.home"), ".pgfleet");
    }

    private static String primaryGroup(String user) throws IOException {
        for (String line : Files.readAllLines(Path.of("/etc/passwd"))) {
            String[] fields = line.split(":");
            if (fields.length > 3 && fields[0].equals(user)) {
                for (String group : Files.readAllLines(Path.of("/etc/group"))) {
                    String[] g = group.split(":");
                    if (g.length > 2 && g[2].equals(fields[3])) {
                        return g[0];
                    }
                }
            }
        }
        return user;
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
                    Files.setPosixFilePermissions(dir, perms);
                }
                checkTraversable(home);
            }
        } catch (IOException e) {
            throw new PgfleetException(ErrorCode.BAD_REQUEST, "cannot create home " + home + ": " + e.getMessage(), e);
        }
    }

    /** Every directory on the way to the home must let the instance user through (mode o+x). */
    private void checkTraversable(Path dir) throws IOException {
        List<Path> closed = new ArrayList<>();
        for (Path p = dir; p != null; p = p.getParent()) {
            if (!Files.getPosixFilePermissions(p).contains(PosixFilePermission.OTHERS_EXECUTE)) {
                closed.add(p);
            }
        }
        if (!closed.isEmpty()) {
            throw new PgfleetException(
                    ErrorCode.BAD_REQUEST,
                    "home " + home + " is not reachable by OS user '" + instanceUser + "': " + closed
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

    public Path distDir() {
        return home.resolve("dist");
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

    public String instanceUser() {
        return instanceUser;
    }

    /** Creates {@code dir} (and parents under home) owned by the instance user, with the given mode. */
    public void createOwnedDirectory(Path dir, String mode) {
        try {
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString(mode));
            giveToInstanceUser(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("creating " + dir, e);
        }
    }

    /** Writes a file the instance user owns (its mode given), replacing it atomically. */
    public void writeOwnedFile(Path file, String content, String mode) {
        try {
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.writeString(tmp, content);
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString(mode));
            giveToInstanceUser(tmp);
            Files.move(
                    tmp,
                    file,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + file, e);
        }
    }

    private void giveToInstanceUser(Path path) throws IOException {
        if (root) {
            PosixFileAttributeView view =
                    Files.getFileAttributeView(path, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
            view.setOwner(instanceOwner);
            view.setGroup(instanceGroup);
        }
    }

    /** The command prefix that drops privileges to the instance user (empty when not root). */
    public List<String> asInstanceUser() {
        return root
                ? List.of(
                        "setpriv",
                        "--reuid=" + instanceUser,
                        "--regid=" + instanceGroup.getName(),
                        "--init-groups",
                        "--")
                : List.of();
    }
}
