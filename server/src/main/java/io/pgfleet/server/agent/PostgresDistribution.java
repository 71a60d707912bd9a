package io.pgfleet.server.agent;

import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.server.config.PgfleetProperties;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * PostgreSQL binaries per major version: the ones bundled in the jar (unpacked once under
 * {@code <home>/dist/<version>/}) and, with {@code --pg-bin-dir}, a system installation.
 */
@Component
public class PostgresDistribution {
    private static final Logger log = LoggerFactory.getLogger(PostgresDistribution.class);
    private static final String ARCHIVE = "postgres-linux-x86_64.txz";

    private final HostLayout layout;
    private final Map<String, String> bundled = new LinkedHashMap<>();
    private final Map<String, Path> system = new LinkedHashMap<>();
    private final String defaultVersion;
    private final Map<String, Object> unpackLocks = new ConcurrentHashMap<>();

    public PostgresDistribution(HostLayout layout, PgfleetProperties properties) {
        this.layout = layout;
        Properties versions = new Properties();
        try (InputStream in = getClass().getResourceAsStream("/pgdist/versions.properties")) {
            if (in == null) {
                throw new IllegalStateException("pgdist/versions.properties is missing from the build");
            }
            versions.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (String major : new TreeSet<>(versions.stringPropertyNames())) {
            if (!major.equals("default") && getClass().getResource("/pgdist/" + major + "/" + ARCHIVE) != null) {
                bundled.put(major, versions.getProperty(major));
            }
        }
        String defaultMajor = versions.getProperty("default");
        if (properties.pgBinDir() != null) {
            Path binDir = properties.pgBinDir().toAbsolutePath();
            String major = detectMajor(binDir);
            system.put(major, binDir);
            defaultMajor = major;
            log.info("PostgreSQL {} from {} is the default version", major, binDir);
        }
        this.defaultVersion = defaultMajor;
    }

    /** {@code postgres --version} says e.g. "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)". */
    private static String detectMajor(Path binDir) {
        Path postgres = binDir.resolve("postgres");
        if (!Files.isExecutable(postgres)) {
            throw new PgfleetException(
                    ErrorCode.BAD_REQUEST, "--pg-bin-dir " + binDir + " has no executable 'postgres'");
        }
        HostCommand.Result result = HostCommand.run(
                java.util.List.of(postgres.toString(), "--version"), null, Map.of(), Duration.ofSeconds(10));
        Matcher m = Pattern.compile("\\(PostgreSQL\\) (\\d+)").matcher(result.output());
        if (!result.succeeded() || !m.find()) {
            throw new PgfleetException(
                    ErrorCode.BAD_REQUEST,
                    "cannot tell the version of " + postgres + ": "
                            + result.output().strip());
        }
        return m.group(1);
    }

    public Set<String> versions() {
        Set<String> all = new TreeSet<>(bundled.keySet());
        all.addAll(system.keySet());
        return all;
    }

    /**
     * The PostgreSQL version a major runs as, "major.minor" for a bundled one (e.g. 17.11), the major
     * alone for a system installation.
     */
    public String fullVersion(String major) {
        String full = bundled.get(major);
        if (system.containsKey(major) || full == null) {
            return major;
        }
        String[] parts = full.split("\\.");
        return parts.length >= 2 ? parts[0] + "." + parts[1] : full;
    }

    /** What a spec may name: each major, and the major.minor it runs as (e.g. 17 and 17.11). */
    public Set<String> offeredVersions() {
        Set<String> all = new TreeSet<>(versions());
        versions().forEach(major -> all.add(fullVersion(major)));
        return all;
    }

    /** The major a spec's version names: "17.11" is 17 where 17 runs as 17.11; anything else is kept. */
    public String majorOf(String requested) {
        if (requested == null) {
            return null;
        }
        for (String major : versions()) {
            if (requested.equals(fullVersion(major))) {
                return major;
            }
        }
        return requested;
    }

    public String defaultVersion() {
        return defaultVersion;
    }

    /** The bundled (not system) default, used for the embedded catalog. */
    public String bundledDefault() {
        return bundled.containsKey("17") ? "17" : bundled.keySet().iterator().next();
    }

    /** The bin directory of a major version, unpacking the bundled binaries on first use. */
    public Path binDir(String major) {
        Path systemDir = system.get(major);
        if (systemDir != null) {
            return systemDir;
        }
        return bundledBinDir(major);
    }

    public Path bundledBinDir(String major) {
        String full = bundled.get(major);
        if (full == null) {
            throw PgfleetException.invalid(
                    "spec.postgres_version", "'" + major + "' is not available; use one of " + versions());
        }
        Path target = layout.distDir().resolve(full);
        if (Files.exists(target.resolve(".complete"))) {
            return target.resolve("bin");
        }
        // Two threads (and two pgfleet processes) may ask at once: a JVM lock, then a file lock, then
        // unpack into a temporary directory renamed into place only when whole.
        synchronized (unpackLocks.computeIfAbsent(major, k -> new Object())) {
            try (FileChannel channel = FileChannel.open(
                            layout.distDir().resolve(full + ".lock"),
                            StandardOpenOption.CREATE,
                            StandardOpenOption.WRITE);
                    FileLock lock = channel.lock()) {
                if (!Files.exists(target.resolve(".complete"))) {
                    unpack(major, full, target);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("unpacking PostgreSQL " + full, e);
            }
        }
        return target.resolve("bin");
    }

    private void unpack(String major, String full, Path target) throws IOException {
        long started = System.nanoTime();
        Path tmp = layout.distDir().resolve(full + ".partial");
        deleteTree(tmp);
        deleteTree(target);
        Files.createDirectories(tmp);
        try (InputStream raw = getClass().getResourceAsStream("/pgdist/" + major + "/" + ARCHIVE);
                TarArchiveInputStream tar =
                        new TarArchiveInputStream(new XZCompressorInputStream(new BufferedInputStream(raw, 1 << 16)))) {
            TarArchiveEntry entry;
            while ((entry = tar.getNextEntry()) != null) {
                Path out = tmp.resolve(entry.getName()).normalize();
                if (!out.startsWith(tmp)) {
                    throw new IOException("archive entry escapes the target: " + entry.getName());
                }
                if (entry.isDirectory()) {
                    Files.createDirectories(out);
                } else if (entry.isSymbolicLink()) {
                    Files.createDirectories(out.getParent());
                    Files.createSymbolicLink(out, Path.of(entry.getLinkName()));
                } else {
                    Files.createDirectories(out.getParent());
                    Files.copy(tar, out);
                    Files.setPosixFilePermissions(out, permissions(entry.getMode()));
                }
            }
        }
        makeReadable(tmp);
        Files.writeString(tmp.resolve(".complete"), full + "\n");
        Files.move(tmp, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        log.info("PostgreSQL {} unpacked into {} in {} ms", full, target, (System.nanoTime() - started) / 1_000_000);
    }

    /** The instance user must read and run the binaries, whoever unpacked them. */
    private static void makeReadable(Path root) throws IOException {
        try (var paths = Files.walk(root)) {
            for (Path p : (Iterable<Path>) paths::iterator) {
                if (Files.isSymbolicLink(p)) {
                    continue;
                }
                Set<PosixFilePermission> perms = EnumSet.copyOf(Files.getPosixFilePermissions(p));
                perms.add(PosixFilePermission.OWNER_READ);
                perms.add(PosixFilePermission.GROUP_READ);
                perms.add(PosixFilePermission.OTHERS_READ);
                if (Files.isDirectory(p) || perms.contains(PosixFilePermission.OWNER_EXECUTE)) {
                    perms.add(PosixFilePermission.GROUP_EXECUTE);
                    perms.add(PosixFilePermission.OTHERS_EXECUTE);
                }
                Files.setPosixFilePermissions(p, perms);
            }
        }
    }

    private static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> perms = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] order = {
            PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
            PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
            PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ
        };
        for (int bit = 0; bit < order.length; bit++) {
            if ((mode & (1 << bit)) != 0) {
                perms.add(order[bit]);
            }
        }
        perms.add(PosixFilePermission.OWNER_READ);
        perms.add(PosixFilePermission.OWNER_WRITE);
        return perms;
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (var paths = Files.walk(root)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
