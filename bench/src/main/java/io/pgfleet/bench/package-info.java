/**
 * Programs that measure pgfleet and print numbers. {@link io.pgfleet.bench.LifecycleBench} times the
 * instance lifecycle through the REST API against the same steps done by hand with initdb, pg_ctl and
 * JDBC on the same PostgreSQL binaries.
 */
package io.pgfleet.bench;
