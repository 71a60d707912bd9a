package io.pgfleet.core;

/**
 * Stable error codes. The API puts {@link #code()} in every problem document and the CLI maps it to
 * an exit code, so keep existing codes stable.
 */
public enum ErrorCode {
    // Exit codes as `pgfleet --help` documents them: 1 failed, 2 usage (bad input), 3 not found,
    // 4 conflict; 5 (cannot reach the server) never comes from a problem document.
    BAD_REQUEST(400, 2),
    INVALID_SPEC(422, 2),
    UNAUTHORIZED(401, 1),
    FORBIDDEN(403, 1),
    NOT_FOUND(404, 3),
    ALREADY_EXISTS(409, 4),
    PORT_CONFLICT(409, 4),
    INVALID_STATE(409, 4),
    OPERATION_IN_PROGRESS(409, 4),
    NOTHING_PENDING(409, 4),
    /** The host the operation needs is unreachable (no heartbeat) or draining (no new instances). */
    HOST_UNAVAILABLE(409, 4),
    /** An instance the operation would write to cannot write its data or log directory (a full disk). */
    STORAGE_UNWRITABLE(409, 4),
    /** The catalog cannot be reached (its Postgres died or restarts): retry in a moment. */
    CATALOG_UNAVAILABLE(503, 5),
    INTERNAL(500, 1);

    private final int httpStatus;
    private final int exitCode;

    ErrorCode(int httpStatus, int exitCode) {
        this.httpStatus = httpStatus;
        this.exitCode = exitCode;
    }

    public int httpStatus() {
        return httpStatus;
    }

    public int exitCode() {
        return exitCode;
    }

    /** The code as the API spells it, e.g. {@code port_conflict}. */
    public String code() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
