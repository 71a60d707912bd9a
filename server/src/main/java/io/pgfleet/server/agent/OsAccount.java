package io.pgfleet.server.agent;

import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.PgfleetException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.List;
import java.util.stream.Stream;

/**
 * The OS user that runs one set of Postgres and PgBouncer processes and owns their files. When pgfleet
 * runs as root, each tenant's instances have one of their own (see {@link TenantOsUser}) and so does the
 * embedded catalog; otherwise everything runs as the user running pgfleet and nothing is switched.
 */
public final class OsAccount {
    private final String name;
    private final UserPrincipal user;
    private final GroupPrincipal group;
    private final String unusableBecause;

    private OsAccount(String name, UserPrincipal user, GroupPrincipal group, String unusableBecause) {
        this.name = name;
        this.user = user;
        this.group = group;
        this.unusableBecause = unusableBecause;
    }

    /** An account pgfleet switches to (setpriv) and gives files to (chown): pgfleet runs as root. */
    static OsAccount switchedTo(String name, UserPrincipal user, GroupPrincipal group) {
        return new OsAccount(name, user, group, null);
    }

    /** The user running pgfleet, when it is not root: no switching, no chown. */
    public static OsAccount current() {
        return new OsAccount(System.getProperty("user.name"), null, null, null);
    }

    /**
     * An account that cannot be decided (its instance has neither files nor a database row any more):
     * reading is fine, any attempt to run or write as it fails with {@code reason}.
     */
    static OsAccount unusable(String reason) {
        return new OsAccount(null, null, null, reason);
    }

    public String name() {
        check();
        return name;
    }

    /** Whether pgfleet drops to this account with setpriv (it runs as root). */
    public boolean isSwitched() {
        return user != null;
    }

    /** The command prefix that runs a program as this account (empty when nothing is switched). */
    public List<String> commandPrefix() {
        check();
        return isSwitched()
                ? List.of("setpriv", "--reuid=" + name, "--regid=" + group.getName(), "--init-groups", "--")
                : List.of();
    }

    /** Creates {@code dir} (and missing parents) owned by this account, with the given mode. */
    public void createDirectory(Path dir, String mode) {
        check();
        try {
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString(mode));
            giveTo(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("creating " + dir, e);
        }
    }

    /** Writes a file this account owns (its mode given), replacing it atomically. */
    public void writeFile(Path file, String content, String mode) {
        check();
        try {
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.writeString(tmp, content);
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString(mode));
            giveTo(tmp);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + file, e);
        }
    }

    /** Gives {@code dir} and everything under it to this account (a migration of a stopped server's files). */
    public void takeOver(Path dir) {
        check();
        if (!isSwitched()) {
            return;
        }
        try (Stream<Path> tree = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) tree::iterator) {
                giveTo(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("giving " + dir + " to OS user " + name, e);
        }
    }

    private void giveTo(Path path) throws IOException {
        if (isSwitched()) {
            PosixFileAttributeView view =
                    Files.getFileAttributeView(path, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
            view.setOwner(user);
            view.setGroup(group);
        }
    }

    private void check() {
        if (unusableBecause != null) {
            throw new PgfleetException(ErrorCode.INTERNAL, unusableBecause);
        }
    }

    @Override
    public String toString() {
        return unusableBecause != null ? "(no OS user: " + unusableBecause + ")" : name;
    }
}
