package io.pgfleet.server.agent;

import io.pgfleet.core.DatabaseSpec;
import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.core.Secret;
import io.pgfleet.server.config.PgfleetProperties;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.springframework.stereotype.Component;

/** The host-side work on an instance's PgBouncer: its executable, configuration, start, stop. */
@Component
public class PoolerAgent {
    private final HostLayout layout;
    private final PgfleetProperties properties;

    private final TenantOsUser osUsers;

    public PoolerAgent(HostLayout layout, PgfleetProperties properties, TenantOsUser osUsers) {
        this.osUsers = osUsers;
        this.layout = layout;
        this.properties = properties;
    }

    /** The pgbouncer executable: --pgbouncer-bin, else pgbouncer on PATH, else Debian's /usr/sbin. */
    public Optional<Path> executable() {
        if (properties.pgbouncerBin() != null) {
            return Optional.of(properties.pgbouncerBin()).filter(Files::isExecutable);
        }
        List<Path> candidates = new ArrayList<>();
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty()) {
                candidates.add(Path.of(dir, "pgbouncer"));
            }
        }
        candidates.add(Path.of("/usr/sbin/pgbouncer"));
        return candidates.stream().filter(Files::isExecutable).findFirst();
    }

    public PgBouncer pgbouncer(InstanceRuntime instance) {
        Path executable = executable()
                .orElseThrow(() -> new PgfleetException(
                        ErrorCode.INVALID_SPEC,
                        "pgbouncer is not installed: install it (apt-get install pgbouncer) or pass --pgbouncer-bin"));
        return new PgBouncer(
                osUsers.of(instance),
                executable,
                new InstancePaths(layout.instanceDir(instance.id())).pgbouncerDir(),
                "pooler of " + instance.subject());
    }

    /** The auth_user password of the instance's pooler; an error before one was stored. */
    Secret poolerPassword(InstanceRuntime instance) {
        if (instance.poolerPassword() == null) {
            throw new PgfleetException(
                    ErrorCode.INTERNAL, "instance " + instance.nodeName() + " has no pooler password yet");
        }
        return instance.poolerPassword();
    }

    PgBouncer.Config config(InstanceRuntime instance, DatabaseSpec spec) {
        return new PgBouncer.Config(
                instance.poolerPort(),
                properties.listenAddresses(),
                instance.port(),
                spec.databaseName(),
                spec.pooler(),
                poolerPassword(instance));
    }

    /** WritePoolerConf, StartPooler, AwaitPoolerReady (a query through it); each a no-op when done. */
    public void start(InstanceRuntime instance, DatabaseSpec spec) {
        PgBouncer pooler = pgbouncer(instance);
        PgBouncer.Config config = config(instance, spec);
        boolean changed = pooler.writeConfiguration(config);
        if (changed && pooler.runningPid().isPresent()) {
            try (PgBouncerConsole console = new PgBouncerConsole(
                    instance.poolerPort(), config.authPassword(), "pooler of " + instance.nodeName())) {
                console.reload();
            }
        }
        pooler.start(instance.poolerPort());
        pooler.awaitReady(config, properties.readyTimeout());
    }

    public void stop(InstanceRuntime instance) {
        if (executable().isEmpty()) {
            return; // never installed, so never started
        }
        pgbouncer(instance).stop();
    }

    /** Reads the pid file only: no OS account is looked up (the health monitor asks every second). */
    public boolean isRunning(InstanceRuntime instance) {
        Optional<Path> executable = executable();
        return executable.isPresent()
                && new PgBouncer(
                                OsAccount.unusable("an observed pooler is only read"),
                                executable.get(),
                                new InstancePaths(layout.instanceDir(instance.id())).pgbouncerDir(),
                                "pooler of " + instance.subject())
                        .runningPid()
                        .isPresent();
    }
}
