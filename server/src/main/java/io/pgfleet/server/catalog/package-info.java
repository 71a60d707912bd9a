/**
 * The catalog: pgfleet's own metadata in PostgreSQL (embedded or external), its Flyway migrations,
 * and the JDBC repositories over it.
 */
package io.pgfleet.server.catalog;
