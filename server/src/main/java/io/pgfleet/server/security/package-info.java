/** Secrets: the {@link io.pgfleet.server.security.Secret} type and their encryption at rest. */
package io.pgfleet.server.security;
