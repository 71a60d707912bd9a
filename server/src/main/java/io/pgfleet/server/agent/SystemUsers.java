package io.pgfleet.server.agent;

import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.PgfleetException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host's OS users as pgfleet needs them when it runs as root: looked up, or created as
 * unprivileged system users (no login, no home) with {@code useradd --system}.
 */
public final class SystemUsers {
    private static final Logger log = LoggerFactory.getLogger(SystemUsers.class);
    private static final Map<String, OsAccount> KNOWN = new ConcurrentHashMap<>();
    /** useradd's exit code when the user exists: another pgfleet on the host created it a moment ago. */
    private static final int USERADD_EXISTS = 9;

    private SystemUsers() {}

    /** The account of an existing OS user, if there is one. */
    public static Optional<OsAccount> find(String name) {
        OsAccount known = KNOWN.get(name);
        if (known != null) {
            return Optional.of(known);
        }
        UserPrincipalLookupService lookup = FileSystems.getDefault().getUserPrincipalLookupService();
        try {
            OsAccount account = OsAccount.switchedTo(
                    name, lookup.lookupPrincipalByName(name), lookup.lookupPrincipalByGroupName(primaryGroup(name)));
            KNOWN.put(name, account);
            return Optional.of(account);
        } catch (UserPrincipalNotFoundException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("looking up OS user " + name, e);
        }
    }

    /**
     * The account of {@code name}, created first when it does not exist: a system user with its own
     * group, no home and no login shell. Several threads (two nodes of one database) may ask at once.
     */
    public static synchronized OsAccount ensure(String name, String comment) {
        Optional<OsAccount> existing = find(name);
        if (existing.isPresent()) {
            return existing.get();
        }
        String shell = Files.isExecutable(Path.of("/usr/sbin/nologin")) ? "/usr/sbin/nologin" : "/bin/false";
        List<String> command = List.of(
                "useradd",
                "--system",
                "--user-group",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                shell,
                "--comment",
                comment,
                name);
        HostCommand.Result result = null;
        for (int attempt = 1; attempt <= 20; attempt++) {
            result = HostCommand.run(command, null, Map.of(), Duration.ofSeconds(30));
            if (result.succeeded() || result.exitCode() == USERADD_EXISTS) {
                break;
            }
            // Another useradd (another process on the host) holds /etc/passwd's lock: try again shortly.
            if (!result.output().contains("lock")) {
                break;
            }
            sleep(Duration.ofMillis(50L * attempt));
        }
        if (result.succeeded()) {
            log.info("OS user {} created ({})", name, comment);
        }
        String said = result.lastLines(3);
        return find(name)
                .orElseThrow(() -> new PgfleetException(
                        ErrorCode.INTERNAL, "cannot create OS user " + name + " with useradd: " + said));
    }

    /** The owner of {@code path}, unless it is missing or belongs to root. */
    public static Optional<String> ownerOf(Path path) {
        try {
            if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
                return Optional.empty();
            }
            String owner = Files.getOwner(path, LinkOption.NOFOLLOW_LINKS).getName();
            return owner.equals("root") || owner.equals("0") ? Optional.empty() : Optional.of(owner);
        } catch (IOException e) {
            throw new UncheckedIOException("reading the owner of " + path, e);
        }
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

    private static void sleep(Duration pause) {
        try {
            Thread.sleep(pause.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PgfleetException(ErrorCode.INTERNAL, "creating an OS user was interrupted", e);
        }
    }
}
