package io.pgfleet.server.config;

import io.pgfleet.core.PgfleetException;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Turns a failed start-up check (missing OS user, closed directory, catalog that will not start) into
 * Spring Boot's short "APPLICATION FAILED TO START" report instead of a stack trace.
 */
public class StartupFailureAnalyzer extends AbstractFailureAnalyzer<PgfleetException> {
    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, PgfleetException cause) {
        return new FailureAnalysis(
                cause.getMessage(),
                "Fix the cause above and start pgfleet again; `bin/pgfleet server --help` lists the options.",
                cause);
    }
}
