package io.pgfleet.server.catalog;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.server.agent.HostLayout;
import io.pgfleet.server.agent.PostgresDistribution;
import io.pgfleet.server.config.HealingProperties;
import io.pgfleet.server.config.PgfleetProperties;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The catalog's DataSource: the embedded catalog unless {@code --catalog-url} names another
 * PostgreSQL (13 or later). Flyway migrations run before anyone gets the DataSource.
 */
@Configuration(proxyBeanMethods = false)
public class CatalogConfiguration {
    private static final int MIN_CATALOG_MAJOR = 13;

    @Bean(destroyMethod = "close")
    EmbeddedCatalogHolder embeddedCatalog(
            PgfleetProperties properties, HostLayout layout, PostgresDistribution distribution) {
        return new EmbeddedCatalogHolder(
                properties.catalogUrl() == null ? new EmbeddedCatalog(layout, distribution) : null);
    }

    @Bean(destroyMethod = "close")
    HikariDataSource dataSource(PgfleetProperties properties, HealingProperties healing, EmbeddedCatalogHolder holder) {
        HikariConfig config = new HikariConfig();
        config.setPoolName("catalog");
        config.setMaximumPoolSize(20);
        // While the catalog is down a request waits this long for a connection, then answers 503.
        config.setConnectionTimeout(
                Math.max(250, healing.catalogConnectionTimeout().toMillis()));
        EmbeddedCatalog embedded = holder.catalog();
        if (embedded != null) {
            config.setJdbcUrl(embedded.jdbcUrl());
            config.setUsername(embedded.user());
            config.setPassword(embedded.password().value());
        } else {
            config.setJdbcUrl(properties.catalogUrl());
            config.setUsername(properties.catalogUser());
            if (properties.catalogPasswordFile() != null) {
                try {
                    config.setPassword(
                            Files.readString(properties.catalogPasswordFile()).strip());
                } catch (IOException e) {
                    throw new UncheckedIOException("reading --catalog-password-file", e);
                }
            }
        }
        HikariDataSource dataSource = new HikariDataSource(config);
        checkVersion(dataSource);
        Flyway.configure()
                .dataSource(dataSource)
                .locations("classpath:db/migration")
                .load()
                .migrate();
        return dataSource;
    }

    private static void checkVersion(DataSource dataSource) {
        try (Connection c = dataSource.getConnection()) {
            int major = c.getMetaData().getDatabaseMajorVersion();
            if (major < MIN_CATALOG_MAJOR) {
                throw new PgfleetException(
                        ErrorCode.BAD_REQUEST,
                        "the catalog runs PostgreSQL " + major + "; pgfleet needs " + MIN_CATALOG_MAJOR + " or later");
            }
        } catch (SQLException e) {
            throw new PgfleetException(ErrorCode.BAD_REQUEST, "cannot connect to the catalog: " + e.getMessage(), e);
        }
    }

    @Bean
    CatalogWatchdog catalogWatchdog(EmbeddedCatalogHolder holder, HealingProperties healing) {
        return new CatalogWatchdog(holder.catalog(), healing.catalogWatchdogInterval());
    }

    /** Lets the embedded catalog be absent (external catalog) yet still be stopped on shutdown. */
    record EmbeddedCatalogHolder(EmbeddedCatalog catalog) implements AutoCloseable {
        @Override
        public void close() {
            if (catalog != null) {
                catalog.close();
            }
        }
    }
}
