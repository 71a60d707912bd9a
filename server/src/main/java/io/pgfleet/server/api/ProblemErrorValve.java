package io.pgfleet.server.api;

import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ErrorReportValve;
import org.apache.coyote.ActionCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tomcat's own errors (an encoded {@code /} or a NUL in the path, a URL or header over 8 KB, a request
 * line it cannot parse) answered as problem+json like every other error of the API, instead of
 * Tomcat's HTML page.
 */
final class ProblemErrorValve extends ErrorReportValve {
    private static final Logger log = LoggerFactory.getLogger(ProblemErrorValve.class);

    @Override
    protected void report(Request request, Response response, Throwable throwable) {
        int status = response.getStatus();
        // As Tomcat's own valve: only errors, only when nothing was written and no one reported it yet.
        if (status < 400 || response.getContentWritten() > 0 || !response.setErrorReported()) {
            return;
        }
        AtomicBoolean ioAllowed = new AtomicBoolean(true);
        response.getCoyoteResponse().action(ActionCode.IS_IO_ALLOWED, ioAllowed);
        if (!ioAllowed.get()) {
            return;
        }
        if (status >= 500) {
            log.error("request {} failed in Tomcat", request.getDecodedRequestURI(), throwable);
        }
        String detail = switch (status) {
            case 400 ->
                "the request cannot be parsed: a path with an encoded '/' or a control character, or a"
                        + " malformed request line or header";
            case 413, 414, 431 -> "the request line or headers are too long (at most 8 KB)";
            default -> status >= 500 ? "internal error; the server log has the details" : "the request was refused";
        };
        String uri = request.getRequestURI();
        byte[] body = ProblemBodies.of(status, ProblemBodies.codeOf(status), detail, uri);
        try {
            response.setContentType(ProblemBodies.CONTENT_TYPE);
            response.setContentLength(body.length);
            OutputStream out = response.getOutputStream();
            out.write(body);
            response.finishResponse();
        } catch (IOException | IllegalStateException e) {
            // The client is gone or the response is closed: nothing more can be said to it.
            log.debug("request {}: the problem document could not be written: {}", uri, e.getMessage());
        }
    }
}
