/**
 * What touches the host: the PostgreSQL distribution, initdb and pg_ctl run as the instance user,
 * the readiness probe, port bind tests, configuration files, PgBouncer and the server log. It works
 * on its own {@link io.pgfleet.server.agent.InstanceRuntime}, never on catalog rows, and depends on
 * nothing of the server but {@code config}.
 */
package io.pgfleet.server.agent;
