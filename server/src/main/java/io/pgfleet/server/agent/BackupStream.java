package io.pgfleet.server.agent;

import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.PgfleetException;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.springframework.stereotype.Component;

/**
 * A base backup without pg_basebackup (the bundled distributions have none), the way pgBackRest and
 * Barman take one: on the primary's host, {@code pg_backup_start} in a session held for the whole copy,
 * the data directory as a framed stream (what pg_basebackup leaves out left out here too), the WAL from
 * the backup's start to its end, then {@code pg_backup_stop}'s backup_label (and tablespace_map) as files
 * of the stream. On the receiving host the stream becomes the new instance's data directory, owned by
 * its OS user; a marker beside it says a copy is under way, so a copy cut off by a crash is never taken
 * for a finished one and is wiped before the next try.
 *
 * <p>The frame: a header, then entries ({@code D} directory, {@code F} file as chunks of at most 1 MiB
 * ended by an empty one, so a file that grows or shrinks while it is read is still framed right) and
 * an {@code E} entry with the backup's end LSN; a stream without it is a broken copy.
 */
@Component
public class BackupStream {
    private static final String HEADER = "pgfleet-backup-stream-1";
    private static final int CHUNK = 1 << 20;
    /** Directories whose contents pg_basebackup leaves out (basebackup.c's excludeDirContents, pg_wal). */
    private static final Set<String> EMPTIED = Set.of(
            "pg_wal",
            "pg_replslot",
            "pg_dynshmem",
            "pg_notify",
            "pg_serial",
            "pg_snapshots",
            "pg_stat_tmp",
            "pg_subtrans",
            "log",
            "pg_log");
    /** Files pg_basebackup leaves out (basebackup.c's excludeFiles), and the signal files of a standby. */
    private static final Set<String> SKIPPED = Set.of(
            "postmaster.pid",
            "postmaster.opts",
            "postgresql.auto.conf.tmp",
            "current_logfiles",
            "pg_internal.init",
            "backup_label",
            "tablespace_map",
            "backup_label.old",
            "standby.signal",
            "recovery.signal");
    /** Temporary relations (t<backend>_<relfilenode>) and the pgsql_tmp files and directories. */
    private static final Pattern TEMPORARY = Pattern.compile("t\\d+_\\d+.*|pgsql_tmp.*");

    private static final Pattern WAL_SEGMENT = Pattern.compile("[0-9A-F]{24}");
    private final HostLayout layout;
    private final TenantOsUser osUsers;
    private final InstanceAgent agent;

    public BackupStream(HostLayout layout, TenantOsUser osUsers, InstanceAgent agent) {
        this.layout = layout;
        this.osUsers = osUsers;
        this.agent = agent;
    }

    /** What a finished copy held. */
    public record Copied(long files, long bytes, String endLsn) {}

    private InstancePaths paths(InstanceRuntime instance) {
        return new InstancePaths(layout.instanceDir(instance.id()));
    }

    // ---- the sending side: the primary's host ----

    /**
     * Streams a base backup of the running {@code primary} to {@code out}. The backup session is held
     * open until the end: if the receiver goes away, the session closes and Postgres aborts the backup.
     */
    public Copied send(InstanceRuntime primary, String label, OutputStream out) {
        Path data = paths(primary).data();
        try (Connection c = agent.connect(primary, "postgres")) {
            boolean newApi = serverVersion(c) >= 150000;
            String startWal;
            try (PreparedStatement ps = c.prepareStatement(
                    newApi
                            ? "SELECT pg_walfile_name(l) FROM pg_backup_start(?, true) AS l"
                            : "SELECT pg_walfile_name(l) FROM pg_start_backup(?, true, false) AS l")) {
                ps.setString(1, label);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    startWal = rs.getString(1);
                }
            }
            DataOutputStream frame = new DataOutputStream(new BufferedOutputStream(out, CHUNK));
            frame.writeUTF(HEADER);
            Counter counter = new Counter();
            sendTree(data, frame, counter);
            String endLsn;
            String endWal;
            String labelFile;
            String mapFile;
            try (Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery(
                            newApi
                                    ? "SELECT lsn::text, pg_walfile_name(lsn), labelfile, spcmapfile"
                                            + " FROM pg_backup_stop(false)"
                                    : "SELECT lsn::text, pg_walfile_name(lsn), labelfile, spcmapfile"
                                            + " FROM pg_stop_backup(false, false)")) {
                rs.next();
                endLsn = rs.getString(1);
                endWal = rs.getString(2);
                labelFile = rs.getString(3);
                mapFile = rs.getString(4);
            }
            // The WAL that makes the copy consistent (-X fetch): the replica's slot, made before the
            // backup started, keeps it on the primary until now.
            try (var wal = Files.list(data.resolve("pg_wal"))) {
                for (Path segment : wal.sorted().toList()) {
                    String name = segment.getFileName().toString();
                    boolean inBackup = WAL_SEGMENT.matcher(name).matches()
                            && name.substring(8).compareTo(startWal.substring(8)) >= 0
                            && name.substring(8).compareTo(endWal.substring(8)) <= 0;
                    if (inBackup || name.endsWith(".history")) {
                        sendFile(segment, "pg_wal/" + name, frame, counter);
                    }
                }
            }
            sendFile(data.resolve("global").resolve("pg_control"), "global/pg_control", frame, counter);
            sendContent("backup_label", labelFile, frame, counter);
            if (mapFile != null && !mapFile.isEmpty()) {
                sendContent("tablespace_map", mapFile, frame, counter);
            }
            frame.writeByte('E');
            frame.writeUTF(endLsn);
            frame.flush();
            return new Copied(counter.files, counter.bytes, endLsn);
        } catch (SQLException e) {
            throw new PgfleetException(
                    ErrorCode.INTERNAL, primary.subject() + ": base backup failed: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException(primary.subject() + ": sending the base backup", e);
        }
    }

    private static int serverVersion(Connection c) throws SQLException {
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT current_setting('server_version_num')::int")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static final class Counter {
        long files;
        long bytes;
    }

    private void sendTree(Path data, DataOutputStream frame, Counter counter) throws IOException {
        Path tablespaces = data.resolve("pg_tblspc");
        if (Files.isDirectory(tablespaces)) {
            try (var links = Files.list(tablespaces)) {
                if (links.findAny().isPresent()) {
                    throw new PgfleetException(
                            ErrorCode.INVALID_STATE,
                            "the data directory has tablespaces outside it (pg_tblspc); pgfleet's own copy does"
                                    + " not carry them: use a distribution with pg_basebackup");
                }
            }
        }
        Files.walkFileTree(data, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                if (dir.equals(data)) {
                    return FileVisitResult.CONTINUE;
                }
                String name = dir.getFileName().toString();
                if (TEMPORARY.matcher(name).matches()) {
                    return FileVisitResult.SKIP_SUBTREE;
                }
                String relative = relative(data, dir);
                frame.writeByte('D');
                frame.writeUTF(relative);
                if (EMPTIED.contains(relative)) {
                    if (relative.equals("pg_wal")) {
                        for (String kept : List.of("archive_status", "summaries")) {
                            if (Files.isDirectory(dir.resolve(kept))) {
                                frame.writeByte('D');
                                frame.writeUTF("pg_wal/" + kept);
                            }
                        }
                    }
                    return FileVisitResult.SKIP_SUBTREE;
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                String name = file.getFileName().toString();
                String relative = relative(data, file);
                if (attrs.isRegularFile()
                        && !SKIPPED.contains(name)
                        && !TEMPORARY.matcher(name).matches()
                        && !relative.equals("global/pg_control")) { // sent last, after pg_backup_stop
                    sendFile(file, relative, frame, counter);
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                if (e instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE; // dropped while the copy ran: WAL replay drops it too
                }
                throw e;
            }
        });
    }

    private static String relative(Path data, Path path) {
        return data.relativize(path).toString().replace('\\', '/');
    }

    private static void sendFile(Path file, String relative, DataOutputStream frame, Counter counter)
            throws IOException {
        InputStream in;
        try {
            in = Files.newInputStream(file);
        } catch (NoSuchFileException e) {
            return; // dropped while the copy ran
        }
        try (in) {
            frame.writeByte('F');
            frame.writeUTF(relative);
            byte[] buffer = new byte[CHUNK];
            int n;
            while ((n = in.readNBytes(buffer, 0, CHUNK)) > 0) {
                frame.writeInt(n);
                frame.write(buffer, 0, n);
                counter.bytes += n;
            }
            frame.writeInt(0);
            counter.files++;
        }
    }

    private static void sendContent(String relative, String content, DataOutputStream frame, Counter counter)
            throws IOException {
        byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
        frame.writeByte('F');
        frame.writeUTF(relative);
        frame.writeInt(bytes.length);
        frame.write(bytes);
        frame.writeInt(0);
        counter.files++;
        counter.bytes += bytes.length;
    }

    // ---- the receiving side: the new instance's host ----

    /** Present while a copy is made: a data directory beside it is half made, whatever it holds. */
    private Path marker(InstanceRuntime instance) {
        return paths(instance).dir().resolve("clone.incomplete");
    }

    /** Whether a finished copy (of either kind) is in place: a data directory, and no copy under way. */
    public boolean isCopied(InstanceRuntime instance) {
        InstancePaths paths = paths(instance);
        return Files.exists(paths.data().resolve("PG_VERSION"))
                && Files.exists(paths.data().resolve("global").resolve("pg_control"))
                && !Files.exists(marker(instance));
    }

    /** Before any copy: the marker first, then the half copy of an earlier try goes. */
    public void beginCopy(InstanceRuntime instance) {
        OsAccount account = osUsers.of(instance);
        account.createDirectory(paths(instance).dir(), "rwx------");
        account.createDirectory(paths(instance).logDir(), "rwx------");
        account.createDirectory(paths(instance).socketDir(), "rwx------");
        account.writeFile(marker(instance), "a copy of the data directory is under way\n", "rw-------");
        try {
            PostgresDistribution.deleteTree(paths(instance).data());
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "removing the half copy " + paths(instance).data(), e);
        }
    }

    /** After a copy finished: its files are the instance user's, and the marker goes last. */
    public void endCopy(InstanceRuntime instance) {
        osUsers.of(instance).takeOver(paths(instance).data());
        try {
            Files.deleteIfExists(marker(instance));
        } catch (IOException e) {
            throw new UncheckedIOException("removing " + marker(instance), e);
        }
    }

    /** Writes the stream into {@code target}'s data directory (call {@link #beginCopy} first). */
    public Copied receive(InstanceRuntime target, InputStream raw) {
        Path data = paths(target).data().toAbsolutePath().normalize();
        long files = 0;
        long bytes = 0;
        try {
            DataInputStream in = new DataInputStream(new BufferedInputStream(raw, CHUNK));
            if (!HEADER.equals(in.readUTF())) {
                throw new PgfleetException(ErrorCode.INTERNAL, target.subject() + ": not a pgfleet backup stream");
            }
            Files.createDirectories(data);
            Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwx------"));
            byte[] buffer = new byte[CHUNK];
            while (true) {
                int type = in.readByte();
                if (type == 'E') {
                    String endLsn = in.readUTF();
                    return new Copied(files, bytes, endLsn);
                }
                Path path = inside(data, in.readUTF(), target);
                if (type == 'D') {
                    Files.createDirectories(
                            path, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                } else if (type == 'F') {
                    Files.createDirectories(path.getParent());
                    try (OutputStream out = Files.newOutputStream(path)) {
                        int n;
                        while ((n = in.readInt()) > 0) {
                            if (n > CHUNK) {
                                throw new PgfleetException(
                                        ErrorCode.INTERNAL, target.subject() + ": a backup chunk of " + n + " bytes");
                            }
                            in.readFully(buffer, 0, n);
                            out.write(buffer, 0, n);
                            bytes += n;
                        }
                    }
                    Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
                    files++;
                } else {
                    throw new PgfleetException(
                            ErrorCode.INTERNAL, target.subject() + ": unknown backup stream entry " + type);
                }
            }
        } catch (EOFException e) {
            throw new PgfleetException(
                    ErrorCode.INTERNAL,
                    target.subject() + ": the base backup stream ended after " + files + " files (" + bytes
                            + " bytes) without its end; the primary's side failed or went away",
                    e);
        } catch (IOException e) {
            throw new UncheckedIOException(target.subject() + ": receiving the base backup", e);
        }
    }

    /** A stream's path, kept inside the data directory whatever it says. */
    private static Path inside(Path data, String relative, InstanceRuntime target) {
        Path path = data.resolve(relative).normalize();
        if (relative.isEmpty() || relative.startsWith("/") || !path.startsWith(data) || path.equals(data)) {
            throw new PgfleetException(
                    ErrorCode.INTERNAL, target.subject() + ": backup stream path '" + relative + "' is outside it");
        }
        return path;
    }
}
