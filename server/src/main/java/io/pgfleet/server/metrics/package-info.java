/**
 * The figures operators chart, as Micrometer meters on {@code /actuator/prometheus}: databases by state,
 * self-healing restarts and give-ups, the task queue, and each pooler's clients and servers.
 */
package io.pgfleet.server.metrics;
