package io.pgfleet.core;

import java.util.List;

/** The one exception family of pgfleet: a stable {@link ErrorCode}, a message with the facts, field errors. */
public class PgfleetException extends RuntimeException {
    private final ErrorCode code;
    private final List<FieldError> fieldErrors;

    public PgfleetException(ErrorCode code, String message) {
        this(code, message, List.of(), null);
    }

    public PgfleetException(ErrorCode code, String message, Throwable cause) {
        this(code, message, List.of(), cause);
    }

    public PgfleetException(ErrorCode code, String message, List<FieldError> fieldErrors, Throwable cause) {
        super(message, cause);
        this.code = code;
        this.fieldErrors = List.copyOf(fieldErrors);
    }

    public ErrorCode code() {
        return code;
    }

    public List<FieldError> fieldErrors() {
        return fieldErrors;
    }

    public static PgfleetException notFound(String what) {
        return new PgfleetException(ErrorCode.NOT_FOUND, what + " not found");
    }

    public static PgfleetException invalidSpec(List<FieldError> errors) {
        String summary = errors.size() == 1
                ? errors.get(0).field() + ": " + errors.get(0).message()
                : errors.size() + " fields are invalid; see errors";
        return new PgfleetException(ErrorCode.INVALID_SPEC, summary, errors, null);
    }

    /** A query or path parameter the server cannot use: 400, naming the parameter. */
    public static PgfleetException badParameter(String parameter, String message) {
        return new PgfleetException(
                ErrorCode.BAD_REQUEST, parameter + ": " + message, List.of(new FieldError(parameter, message)), null);
    }

    public static PgfleetException invalid(String field, String message) {
        return invalidSpec(List.of(new FieldError(field, message)));
    }
}
