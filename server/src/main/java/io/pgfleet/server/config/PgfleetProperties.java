package io.pgfleet.server.config;

import java.nio.file.Path;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Every setting of pgfleet ({@code pgfleet.*}); the README's configuration table lists them.
 *
 * @param home home directory; null means the default of DESIGN.md §5
 * @param readyTimeout how long a starting Postgres may take to answer {@code SELECT 1}
 * @param pgbouncerBin the pgbouncer executable; null means {@code pgbouncer} on PATH, then /usr/sbin
 * @param listenAddresses where instances and poolers listen; always includes loopback (see {@link ListenAddresses})
 * @param driftCheckInterval how often the roles of available instances are verified against the spec
 */
@ConfigurationProperties("pgfleet")
public record PgfleetProperties(
        Path home,
        String hostId,
        String catalogUrl,
        String catalogUser,
        Path catalogPasswordFile,
        Path pgBinDir,
        String runAs,
        String portRange,
        String listenAddresses,
        String advertiseHost,
        Duration readyTimeout,
        Duration stopTimeout,
        int workers,
        boolean migrateOnly,
        Path pgbouncerBin,
        Duration driftCheckInterval,
        Path distDir) {

    public PgfleetProperties {
        hostId = hostId == null || hostId.isBlank() ? "host-1" : hostId;
        // Null: as root, each tenant's instances run as an OS user of their own (TenantOsUser).
        runAs = runAs == null || runAs.isBlank() ? null : runAs;
        portRange = portRange == null || portRange.isBlank() ? "5433-5999" : portRange;
        listenAddresses = ListenAddresses.withLoopback(listenAddresses);
        advertiseHost = advertiseHost == null || advertiseHost.isBlank() ? "localhost" : advertiseHost;
        readyTimeout = readyTimeout == null ? Duration.ofSeconds(60) : readyTimeout;
        stopTimeout = stopTimeout == null ? Duration.ofSeconds(60) : stopTimeout;
        workers = workers <= 0 ? 8 : workers;
        driftCheckInterval = driftCheckInterval == null ? Duration.ofSeconds(30) : driftCheckInterval;
    }
}
