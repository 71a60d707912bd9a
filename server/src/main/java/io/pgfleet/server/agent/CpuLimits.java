package io.pgfleet.server.agent;

import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.PgfleetException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * pgEdge's {@code cpus}, enforced where the host allows it: each instance's postmaster, and so every
 * process it forks, runs in a control group of its own ({@code pgfleet/<instance id>}) whose CPU quota
 * is the spec's {@code cpus} per 100 ms period (cgroup v2 {@code cpu.max}, v1 {@code cpu.cfs_quota_us}).
 * A changed {@code cpus} applies at once, without a restart. Where no CPU controller is writable (pgfleet
 * not root, a read-only mount) the value is only recorded; {@link #enforced()} and {@link #why()} say so.
 */
@Component
public class CpuLimits {
    private static final Logger log = LoggerFactory.getLogger(CpuLimits.class);
    static final long PERIOD_US = 100_000;
    /** The smallest quota the kernel takes (1 ms per period). */
    private static final long MIN_QUOTA_US = 1_000;

    private final Path base;
    private final boolean v2;
    private final String why;

    public CpuLimits() {
        this(Path.of("/sys/fs/cgroup"));
    }

    CpuLimits(Path cgroupRoot) {
        Path found = null;
        boolean unified = false;
        String reason;
        try {
            if (Files.isRegularFile(cgroupRoot.resolve("cgroup.controllers"))) {
                unified = true;
                if (!Files.readString(cgroupRoot.resolve("cgroup.controllers")).contains("cpu")) {
                    throw new IOException("cgroup v2 has no cpu controller");
                }
                found = cgroupRoot.resolve("pgfleet");
                Files.createDirectories(found);
                Files.writeString(cgroupRoot.resolve("cgroup.subtree_control"), "+cpu");
                Files.writeString(found.resolve("cgroup.subtree_control"), "+cpu");
                reason = "cgroup v2 " + found;
            } else if (Files.isRegularFile(cgroupRoot.resolve("cpu").resolve("cpu.cfs_quota_us"))) {
                found = cgroupRoot.resolve("cpu").resolve("pgfleet");
                Files.createDirectories(found);
                reason = "cgroup v1 " + found;
            } else {
                throw new IOException("no cgroup cpu controller is mounted under " + cgroupRoot);
            }
        } catch (IOException | SecurityException e) {
            found = null;
            reason = "not enforced: " + e.getMessage();
        }
        this.base = found;
        this.v2 = unified;
        this.why = reason;
        log.info("cpus limits: {}", why);
    }

    /** Whether {@code cpus} is enforced on this host. */
    public boolean enforced() {
        return base != null;
    }

    /** Where the limits live, or why they are not enforced. */
    public String why() {
        return why;
    }

    /**
     * The command prefix that puts a launched program into the instance's group before it runs: a shell
     * writes its own pid into the group's {@code cgroup.procs}, then becomes the program. Empty where
     * limits are not enforced.
     */
    public List<String> launchPrefix(String instanceId) {
        if (base == null) {
            return List.of();
        }
        return List.of(
                "sh",
                "-c",
                "mkdir -p \"${0%/*}\" && echo $$ > \"$0\" && exec \"$@\"",
                base.resolve(instanceId).resolve("cgroup.procs").toString());
    }

    /** Sets the instance's quota to {@code cpus} (empty: no limit), creating its group when needed. */
    public void limit(String instanceId, OptionalDouble cpus) {
        if (base == null) {
            return;
        }
        Path group = group(instanceId);
        long quota = cpus.isPresent() ? Math.max(MIN_QUOTA_US, Math.round(cpus.getAsDouble() * PERIOD_US)) : -1;
        try {
            if (v2) {
                Files.writeString(
                        group.resolve("cpu.max"), (quota < 0 ? "max" : Long.toString(quota)) + " " + PERIOD_US);
            } else {
                Files.writeString(group.resolve("cpu.cfs_period_us"), Long.toString(PERIOD_US));
                Files.writeString(group.resolve("cpu.cfs_quota_us"), Long.toString(quota));
            }
        } catch (IOException e) {
            throw new PgfleetException(
                    ErrorCode.INTERNAL,
                    "setting the CPU quota of instance " + instanceId + " failed: " + e.getMessage(),
                    e);
        }
    }

    /**
     * Moves a running postmaster and the processes it already forked into the instance's group (new
     * backends follow the postmaster), so a {@code cpus} set on a running instance holds at once.
     */
    public void adopt(String instanceId, long postmasterPid) {
        if (base == null) {
            return;
        }
        Path procs = group(instanceId).resolve("cgroup.procs");
        ProcessHandle.of(postmasterPid).ifPresent(postmaster -> {
            java.util.stream.Stream.concat(java.util.stream.Stream.of(postmaster), postmaster.children())
                    .forEach(p -> {
                        try {
                            Files.writeString(procs, Long.toString(p.pid()));
                        } catch (IOException e) {
                            if (p.isAlive()) {
                                throw new PgfleetException(
                                        ErrorCode.INTERNAL,
                                        "moving process " + p.pid() + " of instance " + instanceId
                                                + " into its control group failed: " + e.getMessage(),
                                        e);
                            }
                            // A backend that ended in between has nothing left to limit.
                        }
                    });
        });
    }

    /** The quota in force, in CPUs (empty: none, or not enforced). */
    public OptionalDouble quota(String instanceId) {
        if (base == null || !Files.isDirectory(base.resolve(instanceId))) {
            return OptionalDouble.empty();
        }
        try {
            String[] fields = v2
                    ? Files.readString(base.resolve(instanceId).resolve("cpu.max"))
                            .trim()
                            .split(" ")
                    : new String[] {
                        Files.readString(base.resolve(instanceId).resolve("cpu.cfs_quota_us"))
                                .trim(),
                        Files.readString(base.resolve(instanceId).resolve("cpu.cfs_period_us"))
                                .trim()
                    };
            if (fields[0].equals("max") || fields[0].startsWith("-")) {
                return OptionalDouble.empty();
            }
            return OptionalDouble.of(Double.parseDouble(fields[0]) / Double.parseDouble(fields[1]));
        } catch (IOException e) {
            throw new PgfleetException(
                    ErrorCode.INTERNAL,
                    "reading the CPU quota of instance " + instanceId + " failed: " + e.getMessage(),
                    e);
        }
    }

    /** The group's directory, for tests and diagnostics (empty where limits are not enforced). */
    public Optional<Path> groupOf(String instanceId) {
        return base == null ? Optional.empty() : Optional.of(base.resolve(instanceId));
    }

    /** Removes the instance's group once its processes are gone (deleting the instance). */
    public void remove(String instanceId) {
        if (base == null) {
            return;
        }
        try {
            Files.deleteIfExists(base.resolve(instanceId));
        } catch (IOException e) {
            throw new PgfleetException(
                    ErrorCode.INTERNAL,
                    "removing the control group of instance " + instanceId + " failed (a process of it still runs?): "
                            + e.getMessage(),
                    e);
        }
    }

    private Path group(String instanceId) {
        Path group = base.resolve(instanceId);
        try {
            Files.createDirectories(group);
        } catch (IOException e) {
            throw new PgfleetException(
                    ErrorCode.INTERNAL,
                    "creating the control group of instance " + instanceId + " failed: " + e.getMessage(),
                    e);
        }
        return group;
    }
}
