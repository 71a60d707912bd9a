/**
 * The {@code pgfleet} command-line client: one picocli verb per REST operation, tables for people and
 * the API's own JSON for scripts. No Spring and no domain logic: a cold JVM must answer in well under a
 * second.
 */
package io.pgfleet.cli;
