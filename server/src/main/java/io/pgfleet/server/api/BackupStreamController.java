package io.pgfleet.server.api;

import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.server.fleet.HostCalls;
import io.pgfleet.server.ha.ReplicaClone;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * The host-to-host route a new replica's host copies its primary from (pgfleet's own base backup,
 * {@link ReplicaClone}). Outside {@code /v1}: no API key opens it, whatever its role; only a request
 * signed with the fleet's key by a host of the fleet, made within the last two minutes, gets a byte.
 */
@RestController
@io.swagger.v3.oas.annotations.Hidden // between the hosts of a fleet: not part of the public API document
public class BackupStreamController {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(BackupStreamController.class);
    private final HostCalls hostCalls;
    private final ReplicaClone clone;

    public BackupStreamController(HostCalls hostCalls, ReplicaClone clone) {
        this.hostCalls = hostCalls;
        this.clone = clone;
    }

    @GetMapping(ReplicaClone.ROUTE)
    public void baseBackup(
            @PathVariable String instanceId,
            @RequestParam(required = false) String label,
            @RequestParam(required = false) Long at,
            HttpServletRequest request,
            HttpServletResponse response)
            throws IOException {
        String forwardedBy = request.getHeader(HostCalls.FORWARDED_BY);
        String signature = request.getHeader(HostCalls.SIGNATURE);
        if (forwardedBy == null || signature == null) {
            throw new PgfleetException(
                    ErrorCode.UNAUTHORIZED,
                    "this route serves the hosts of the fleet only: the fleet's signature is missing");
        }
        String pathAndQuery = request.getRequestURI() + "?" + request.getQueryString();
        if (!hostCalls.isSigned(forwardedBy, pathAndQuery, signature)) {
            throw new PgfleetException(ErrorCode.FORBIDDEN, "the fleet's signature does not match this request");
        }
        // The signature first: without it, even a malformed request learns nothing but 401.
        if (label == null || at == null) {
            throw PgfleetException.invalid("label", "a signed base-backup request names its label and its time (at)");
        }
        long age = Math.abs(System.currentTimeMillis() - at);
        if (age > ReplicaClone.SIGNATURE_VALIDITY.toMillis()) {
            throw new PgfleetException(
                    ErrorCode.FORBIDDEN,
                    "the signed request is " + age / 1000 + " s old; at most "
                            + ReplicaClone.SIGNATURE_VALIDITY.toSeconds() + " s are accepted");
        }
        var source = clone.source(instanceId);
        response.setContentType("application/octet-stream");
        try {
            clone.serve(source, label, response.getOutputStream());
        } catch (RuntimeException e) {
            if (!response.isCommitted()) {
                response.reset(); // nothing sent yet: the caller gets a problem, not a broken stream
                throw e;
            }
            // The copy was cut off mid-stream (the receiving host went away, or Postgres failed): closing
            // the session aborted the backup; the receiver's step fails or its host retries the copy.
            log.warn(
                    "base backup of instance {} for host {} cut off after it started: {}",
                    instanceId,
                    forwardedBy,
                    e.getMessage());
        }
    }
}
