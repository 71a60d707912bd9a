package io.pgfleet.cli;

/** A failure the CLI explains in one sentence and turns into an exit code (see {@link Errors}). */
final class CliFailure extends RuntimeException {
    static final int FAILED = 1;
    static final int USAGE = 2;
    static final int NOT_FOUND = 3;
    static final int CONFLICT = 4;
    static final int UNREACHABLE = 5;

    private final int exitCode;

    CliFailure(int exitCode, String sentence) {
        super(sentence);
        this.exitCode = exitCode;
    }

    CliFailure(int exitCode, String sentence, Throwable cause) {
        super(sentence, cause);
        this.exitCode = exitCode;
    }

    int exitCode() {
        return exitCode;
    }
}
