/** Keys, tenants and roles, and the encryption of secrets at rest ({@link SecretBox}). */
package io.pgfleet.server.security;
