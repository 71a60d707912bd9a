package io.pgfleet.server.agent;

import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.security.SecretBox;
import java.util.List;
import java.util.Map;
import org.springframework.stereotype.Component;

/**
 * What an instance's PgBouncer reports for its database ({@code SHOW POOLS} on the admin console, as the
 * auth_user): clients active and waiting, server connections active, idle and used, and the longest wait.
 */
@Component
public class PoolerFigures {
    /** One pooler's figures, summed over the pools (one per user) of the database. */
    public record Figures(
            long clientsActive,
            long clientsWaiting,
            long serversActive,
            long serversIdle,
            long serversUsed,
            double maxWaitSeconds) {}

    private final SecretBox secrets;

    public PoolerFigures(SecretBox secrets) {
        this.secrets = secrets;
    }

    /** Reads the figures now; fails when the pooler does not answer. */
    public Figures read(InstanceRow instance, String databaseName) {
        if (instance.poolerPort() == null || instance.poolerPasswordEnc() == null) {
            throw new PgfleetException(ErrorCode.INTERNAL, "instance " + instance.nodeName() + " has no pooler");
        }
        List<Map<String, String>> pools;
        try (PgBouncerConsole console = new PgBouncerConsole(
                instance.poolerPort(),
                secrets.open(instance.poolerPasswordEnc()),
                "pooler of instance " + instance.nodeName())) {
            pools = console.rows("SHOW POOLS");
        }
        long clActive = 0;
        long clWaiting = 0;
        long svActive = 0;
        long svIdle = 0;
        long svUsed = 0;
        double maxWait = 0;
        for (Map<String, String> pool : pools) {
            if (!databaseName.equals(pool.get("database"))) {
                continue;
            }
            clActive += number(pool, "cl_active");
            clWaiting += number(pool, "cl_waiting");
            svActive += number(pool, "sv_active");
            svIdle += number(pool, "sv_idle");
            svUsed += number(pool, "sv_used");
            maxWait = Math.max(maxWait, number(pool, "maxwait") + number(pool, "maxwait_us") / 1e6);
        }
        return new Figures(clActive, clWaiting, svActive, svIdle, svUsed, maxWait);
    }

    private static long number(Map<String, String> row, String column) {
        String value = row.get(column);
        return value == null || value.isEmpty() ? 0 : Long.parseLong(value.trim());
    }
}
