package io.pgfleet.server.agent;

import io.pgfleet.core.Secret;

/**
 * What the agent needs to run one instance on this host: where it lives, its ports and its two
 * passwords, already decrypted. The agent's own description, made by the task layer from the catalog.
 *
 * @param poolerPort null when no pooler port is reserved
 * @param poolerPassword the pooler's auth_user password; null before one was stored
 * @param tenantId the tenant that owns it (its OS user, {@link TenantOsUser}); null where only observed
 * @param streaming its part in its node's replication; {@link StreamingSettings#NONE} for a node of one host
 */
public record InstanceRuntime(
        String id,
        String nodeName,
        String databaseId,
        String postgresVersion,
        int port,
        Integer poolerPort,
        Secret superuserPassword,
        Secret poolerPassword,
        String tenantId,
        StreamingSettings streaming) {

    public InstanceRuntime {
        streaming = streaming == null ? StreamingSettings.NONE : streaming;
    }

    /** How messages name it: {@code instance n1 of example}. */
    public String subject() {
        return "instance " + nodeName + " of " + databaseId;
    }

    public InstanceRuntime withPort(int newPort) {
        return new InstanceRuntime(
                id,
                nodeName,
                databaseId,
                postgresVersion,
                newPort,
                poolerPort,
                superuserPassword,
                poolerPassword,
                tenantId,
                streaming);
    }
}
