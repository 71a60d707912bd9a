/**
 * What touches the host: the PostgreSQL distribution, initdb and pg_ctl run as the instance user,
 * the readiness probe, port bind tests, configuration files and the server log.
 */
package io.pgfleet.server.agent;
