/**
 * A fleet of hosts on one catalog (DESIGN.md §5b): registration and heartbeats, the leader lease and
 * what the leader decides (a silent host is unreachable), placement of nodes, the per-host parts of
 * database-wide tasks, and the authenticated calls one host makes to another.
 */
package io.pgfleet.server.fleet;
