package io.pgfleet.server.api;

import io.pgfleet.server.api.Views.TaskEnvelope;
import io.pgfleet.server.ha.HaOperations;
import io.pgfleet.server.ha.HaOperations.FailoverRequest;
import io.pgfleet.server.ha.HaOperations.SwitchoverRequest;
import io.pgfleet.server.security.Caller;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestAttribute;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

/** Switchover and failover of a node's primary (pgEdge's path and body; DESIGN.md §5b, §6). */
@RestController
@RequestMapping("/v1/databases")
public class HaController {
    private final HaOperations operations;
    private final PgEdgeCompat compat;

    public HaController(HaOperations operations, PgEdgeCompat compat) {
        this.operations = operations;
        this.compat = compat;
    }

    @PostMapping("/{databaseId}/switchover")
    @ResponseStatus(HttpStatus.ACCEPTED)
    public TaskEnvelope switchover(
            @RequestAttribute(Caller.ATTRIBUTE) Caller caller,
            @PathVariable String databaseId,
            @RequestBody SwitchoverRequest body) {
        return new TaskEnvelope(compat.task(operations.switchover(caller.tenant(), databaseId, body)));
    }

    @PostMapping("/{databaseId}/failover")
    @ResponseStatus(HttpStatus.ACCEPTED)
    public TaskEnvelope failover(
            @RequestAttribute(Caller.ATTRIBUTE) Caller caller,
            @PathVariable String databaseId,
            @RequestBody FailoverRequest body) {
        return new TaskEnvelope(compat.task(operations.failover(caller.tenant(), databaseId, body)));
    }
}
