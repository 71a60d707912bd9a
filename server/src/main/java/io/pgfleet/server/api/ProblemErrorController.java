package io.pgfleet.server.api;

import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.http.HttpServletRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.webmvc.error.ErrorController;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * The servlet container's error page ({@code /error}: a TRACE, an exception that escaped a filter …)
 * as problem+json, like every other error of the API, never Spring Boot's own JSON or HTML.
 */
@RestController
public class ProblemErrorController implements ErrorController {
    private static final Logger log = LoggerFactory.getLogger(ProblemErrorController.class);

    @RequestMapping("/error")
    public ResponseEntity<byte[]> error(HttpServletRequest request) {
        Object code = request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE);
        int status = code instanceof Integer i && i >= 400 ? i : 500;
        Object uri = request.getAttribute(RequestDispatcher.ERROR_REQUEST_URI);
        Throwable failure = (Throwable) request.getAttribute(RequestDispatcher.ERROR_EXCEPTION);
        String detail;
        if (status >= 500) {
            log.error("request {} failed", uri, failure);
            detail = "internal error; the server log has the details";
        } else if (status == 405) {
            detail = "this method is not allowed on " + uri;
        } else {
            detail = "the request was refused (HTTP " + status + ")";
        }
        return ResponseEntity.status(status)
                .contentType(MediaType.APPLICATION_PROBLEM_JSON)
                .body(ProblemBodies.of(
                        status, ProblemBodies.codeOf(status), detail, uri == null ? null : uri.toString()));
    }
}
