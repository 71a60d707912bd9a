package io.pgfleet.server.api;

import io.pgfleet.core.PgfleetException;
import io.pgfleet.server.catalog.CatalogRows.DatabaseRow;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.catalog.JdbcDatabaseRepository;
import io.pgfleet.server.security.Caller;
import io.pgfleet.server.tasks.ActivitySampler;
import io.pgfleet.server.tasks.ActivitySampler.Sample;
import io.pgfleet.server.tasks.DatabaseOperations;
import java.util.List;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestAttribute;
import org.springframework.web.bind.annotation.RestController;

/** An instance's recent activity (transactions per second, connections) for the console's charts. */
@RestController
public class ActivityController {
    private final JdbcDatabaseRepository databases;
    private final DatabaseOperations operations;
    private final ActivitySampler sampler;

    public ActivityController(
            JdbcDatabaseRepository databases, DatabaseOperations operations, ActivitySampler sampler) {
        this.databases = databases;
        this.operations = operations;
        this.sampler = sampler;
    }

    public record ActivityView(
            String instanceId, String nodeName, String hostId, long intervalSeconds, List<Sample> samples) {}

    @GetMapping("/v1/databases/{databaseId}/instances/{instanceId}/activity")
    public ActivityView activity(
            @RequestAttribute(Caller.ATTRIBUTE) Caller caller,
            @PathVariable String databaseId,
            @PathVariable String instanceId) {
        DatabaseRow db = databases
                .find(caller.tenant(), databaseId)
                .orElseThrow(() -> PgfleetException.notFound("database " + databaseId));
        InstanceRow instance = operations.resolve(db, instanceId);
        return new ActivityView(
                instance.id(),
                instance.nodeName(),
                instance.hostId(),
                ActivitySampler.INTERVAL.toSeconds(),
                sampler.samples(instance));
    }
}
