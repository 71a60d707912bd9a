package io.pgfleet.server.config;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.unit.DataSize;

/**
 * How often the storage of this host's instances is probed ({@code pgfleet.*}, beside
 * {@link PgfleetProperties}); the README's configuration table lists it.
 *
 * @param storageCheckInterval how often each instance's data and log directories get a write probe
 *     (a small file written, fsynced and deleted); a postmaster found dead is probed at once
 * @param storageMinFree less than this left to unprivileged users counts as a full disk
 */
@ConfigurationProperties("pgfleet")
public record StorageProperties(Duration storageCheckInterval, DataSize storageMinFree) {
    public StorageProperties {
        storageCheckInterval = storageCheckInterval == null ? Duration.ofSeconds(5) : storageCheckInterval;
        // One WAL segment: with less, Postgres cannot create its next one and PANICs.
        storageMinFree = storageMinFree == null ? DataSize.ofMegabytes(16) : storageMinFree;
    }
}
