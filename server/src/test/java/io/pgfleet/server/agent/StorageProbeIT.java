package io.pgfleet.server.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The write probe on real file systems (the suite runs as root): a full tmpfs is {@code no_space}, a
 * read-only one {@code read_only}, and neither leaves its probe file behind.
 */
class StorageProbeIT {
    @TempDir
    Path dir;

    private Path mounted;

    @AfterEach
    void unmount() {
        if (mounted != null) {
            run("umount", mounted.toString());
        }
    }

    private Path mount(String options) throws IOException {
        Path at = Files.createDirectory(dir.resolve("fs"));
        run("mount", "-t", "tmpfs", "-o", options, "pgfleet-it-probe", at.toString());
        mounted = at;
        return at;
    }

    private static StorageProbe.Target here(Path directory) {
        return new StorageProbe.Target(directory, directory);
    }

    @Test
    void theProbeWritesBesideTheDataDirectoryUnlessItIsMountedOnItsOwn() throws IOException {
        InstancePaths paths = new InstancePaths(dir.resolve("instance"));
        Files.createDirectories(paths.data());
        Files.writeString(paths.data().resolve("PG_VERSION"), "17\n");
        Files.createDirectories(paths.logDir());
        assertThat(StorageProbe.targetsOf(paths)).containsExactly(new StorageProbe.Target(paths.dir(), paths.data()));
        run(
                "mount",
                "-t",
                "tmpfs",
                "-o",
                "size=1m",
                "pgfleet-it-probe",
                paths.logDir().toString());
        mounted = paths.logDir();
        assertThat(StorageProbe.targetsOf(paths))
                .containsExactly(
                        new StorageProbe.Target(paths.dir(), paths.data()),
                        new StorageProbe.Target(paths.logDir(), paths.logDir()));
        try (OutputStream out = Files.newOutputStream(paths.logDir().resolve("filler"))) {
            out.write(new byte[1 << 20]);
        }
        StorageProbe.Finding finding = StorageProbe.probe(paths, 0).orElseThrow();
        assertThat(finding.directory()).isEqualTo(paths.logDir());
        assertThat(finding.problem()).isEqualTo("no_space");
        assertThat(paths.data().resolve(StorageProbe.PROBE_FILE)).doesNotExist();
        assertThat(paths.dir().resolve(StorageProbe.PROBE_FILE)).doesNotExist();
    }

    @Test
    void aWritableDirectoryPassesAndKeepsNoProbeFile() {
        assertThat(StorageProbe.probe(List.of(here(dir)), 0)).isEmpty();
        assertThat(dir.resolve(StorageProbe.PROBE_FILE)).doesNotExist();
    }

    @Test
    void aFullFileSystemIsNoSpace() throws IOException {
        Path fs = mount("size=1m");
        try (OutputStream out = Files.newOutputStream(fs.resolve("filler"))) {
            out.write(new byte[1 << 20]);
        }
        assertThat(Files.getFileStore(fs).getUsableSpace()).isZero();
        StorageProbe.Finding finding =
                StorageProbe.probe(List.of(here(dir), here(fs)), 0).orElseThrow();
        assertThat(finding.problem()).isEqualTo("no_space");
        assertThat(finding.message()).isEqualTo("no space left on device");
        assertThat(finding.directory()).isEqualTo(fs);
        assertThat(fs.resolve(StorageProbe.PROBE_FILE)).doesNotExist();
        Files.delete(fs.resolve("filler"));
        assertThat(StorageProbe.probe(List.of(here(fs)), 0)).as("space freed").isEmpty();
        StorageProbe.Finding tight =
                StorageProbe.probe(List.of(here(fs)), 2L << 20).orElseThrow();
        assertThat(tight.problem()).as("1 MB free, 2 MB wanted").isEqualTo("no_space");
        assertThat(tight.message()).startsWith("almost no space left on device (");
    }

    @Test
    void aReadOnlyFileSystemIsReadOnly() throws IOException {
        Path fs = mount("size=1m,ro");
        StorageProbe.Finding finding = StorageProbe.probe(List.of(here(fs)), 0).orElseThrow();
        assertThat(finding.problem()).isEqualTo("read_only");
        assertThat(finding.message()).isEqualTo("read-only file system");
    }

    @Test
    void whatTheSystemSaidNamesTheProblem() {
        Path d = Path.of("/x");
        assertThat(StorageProbe.classify(new FileSystemException("/x/f", null, "Disk quota exceeded"), d)
                        .problem())
                .isEqualTo("quota_exceeded");
        assertThat(StorageProbe.classify(new AccessDeniedException("/x/f"), d).problem())
                .isEqualTo("permission_denied");
        StorageProbe.Finding other = StorageProbe.classify(new IOException("Input/output error"), d);
        assertThat(other.problem()).isEqualTo("io_error");
        assertThat(other.message()).isEqualTo("cannot write: Input/output error");
    }

    private static void run(String... command) {
        try {
            Process p = new ProcessBuilder(command).inheritIO().start();
            if (p.waitFor() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " exited with " + p.exitValue());
            }
        } catch (IOException e) {
            throw new IllegalStateException(String.join(" ", command) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Test
    void instancesOnOneFileSystemShareAProbeAndOneOnAFullDiskIsFoundOnItsOwn() throws IOException {
        InstancePaths a = instance(dir.resolve("a"));
        InstancePaths b = instance(dir.resolve("b"));
        Map<Object, Optional<StorageProbe.Finding>> round = new HashMap<>();
        assertThat(StorageProbe.probe(a, 0, round)).isEmpty();
        assertThat(StorageProbe.probe(b, 0, round)).isEmpty();
        assertThat(round).as("one probe for the file system of a and b").hasSize(1);

        Path fs = mount("size=64k");
        InstancePaths full = instance(fs.resolve("c"));
        fill(fs);
        StorageProbe.Finding finding = StorageProbe.probe(full, 0, round).orElseThrow();
        assertThat(finding.problem()).isEqualTo("no_space");
        assertThat(finding.directory()).isEqualTo(full.data());
        assertThat(round).hasSize(2);
        assertThat(StorageProbe.probe(a, 0, round))
                .as("a's disk is not the full one")
                .isEmpty();
        assertThat(Files.exists(a.dir().resolve(StorageProbe.PROBE_FILE))).isFalse();
    }

    private static InstancePaths instance(Path at) throws IOException {
        InstancePaths paths = new InstancePaths(at);
        Files.createDirectories(paths.data());
        Files.writeString(paths.data().resolve("PG_VERSION"), "17\n");
        Files.createDirectories(paths.logDir());
        return paths;
    }

    private static void fill(Path fs) throws IOException {
        byte[] block = new byte[4096];
        try (var out = Files.newOutputStream(fs.resolve("filler"))) {
            while (true) {
                out.write(block);
                out.flush();
            }
        } catch (IOException full) {
            // no space left: what the test wants
        }
    }
}
