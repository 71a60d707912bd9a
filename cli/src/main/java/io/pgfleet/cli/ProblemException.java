package io.pgfleet.cli;

import java.util.List;

/** The server answered with an error: its RFC 9457 problem, or what stood in for one. */
final class ProblemException extends RuntimeException {
    private final int status;
    private final String code;
    private final List<String> fieldErrors;
    private final String request;

    ProblemException(int status, String code, String detail, List<String> fieldErrors, String request) {
        super(detail);
        this.status = status;
        this.code = code;
        this.fieldErrors = List.copyOf(fieldErrors);
        this.request = request;
    }

    int status() {
        return status;
    }

    /** The problem's {@code code}, e.g. {@code invalid_state}; never null. */
    String code() {
        return code;
    }

    List<String> fieldErrors() {
        return fieldErrors;
    }

    /** {@code METHOD /path} of the call that failed. */
    String request() {
        return request;
    }
}
