package io.pgfleet.server.api;

import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.FieldError;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.server.catalog.CatalogFailures;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.exc.InvalidFormatException;
import tools.jackson.databind.exc.MismatchedInputException;
import tools.jackson.databind.exc.UnrecognizedPropertyException;
import tools.jackson.databind.exc.ValueInstantiationException;

/**
 * Every error leaves as RFC 9457 problem+json with a stable {@code code} and, for bad input, the
 * fields at fault. Bad input is a 4xx; only a fault of pgfleet itself is a 500, with no stack trace.
 */
@RestControllerAdvice
public class ProblemHandler extends ResponseEntityExceptionHandler {
    private static final Logger log = LoggerFactory.getLogger(ProblemHandler.class);

    @ExceptionHandler(PgfleetException.class)
    ResponseEntity<Object> pgfleet(PgfleetException e) {
        if (e.code() == ErrorCode.INTERNAL) {
            log.error("request failed: {}", e.getMessage(), e);
        }
        return problem(HttpStatus.valueOf(e.code().httpStatus()), e.code().code(), e.getMessage(), e.fieldErrors());
    }

    @ExceptionHandler(Exception.class)
    ResponseEntity<Object> unexpected(Exception e) {
        if (CatalogFailures.isUnavailable(e)) {
            return catalogUnavailable(e);
        }
        log.error("request failed unexpectedly", e);
        return problem(
                HttpStatus.INTERNAL_SERVER_ERROR,
                ErrorCode.INTERNAL.code(),
                "internal error; the server log has the details",
                List.of());
    }

    /** The catalog is down (or restarting): a 503 the client may retry, not a fault of pgfleet. */
    static ResponseEntity<Object> catalogUnavailable(Throwable e) {
        log.warn("request refused: the catalog is unavailable: {}", e.getMessage());
        ResponseEntity<Object> problem = problem(
                HttpStatus.SERVICE_UNAVAILABLE,
                ErrorCode.CATALOG_UNAVAILABLE.code(),
                "the catalog is unavailable (pgfleet is restarting it); retry in a moment",
                List.of());
        return ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE)
                .headers(problem.getHeaders())
                .header(HttpHeaders.RETRY_AFTER, "1")
                .body(problem.getBody());
    }

    @Override
    protected ResponseEntity<Object> handleHttpMessageNotReadable(
            HttpMessageNotReadableException e, HttpHeaders headers, HttpStatusCode status, WebRequest request) {
        // A pgEdge field pgfleet refuses with a reason (PgEdgeFields) arrives wrapped in the parse failure.
        for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
            if (t instanceof PgfleetException refused) {
                return pgfleet(refused);
            }
        }
        // The outermost Jackson exception knows the field path; a date parser's own exception below it does not.
        JacksonException found = null;
        for (Throwable t = e.getCause(); t != null && found == null; t = t.getCause()) {
            if (t instanceof JacksonException j) {
                found = j;
            }
        }
        if (found != null) {
            JacksonException jackson = found;
            String field = path(jackson);
            String message;
            if (jackson instanceof StrictJson.ControlCharacterException) {
                message = jackson.getOriginalMessage();
            } else if (jackson instanceof ValueInstantiationException) {
                // A record refused a null inside a list or map ({"labels": {"a": null}}, "nodes": [null]).
                message = "holds a null where a value is required";
            } else if (jackson instanceof UnrecognizedPropertyException) {
                message = "is not a known field; check its spelling";
            } else if (jackson instanceof InvalidFormatException invalid) {
                message = "'" + invalid.getValue() + "' is not " + describe(invalid.getTargetType());
            } else if (jackson instanceof MismatchedInputException mismatch && mismatch.getTargetType() != null) {
                message = "has the wrong type; expected " + describe(mismatch.getTargetType());
            } else {
                String original = jackson.getOriginalMessage();
                return problem(
                        HttpStatus.BAD_REQUEST,
                        ErrorCode.BAD_REQUEST.code(),
                        "malformed JSON: " + firstLine(original),
                        List.of());
            }
            String shown = field.isEmpty() ? "request body" : field;
            return problem(
                    HttpStatus.BAD_REQUEST,
                    ErrorCode.BAD_REQUEST.code(),
                    shown + ": " + message,
                    List.of(new FieldError(shown, message)));
        }
        return problem(
                HttpStatus.BAD_REQUEST,
                ErrorCode.BAD_REQUEST.code(),
                "the request body is missing or is not JSON",
                List.of());
    }

    @Override
    protected ResponseEntity<Object> handleExceptionInternal(
            Exception e, Object body, HttpHeaders headers, HttpStatusCode status, WebRequest request) {
        // Spring's own 4xx (unknown path, wrong method, bad parameter type …): same shape, with a code.
        String detail = body instanceof ProblemDetail pd && pd.getDetail() != null
                ? pd.getDetail()
                : HttpStatus.valueOf(status.value()).getReasonPhrase();
        String code = switch (status.value()) {
            case 404 -> ErrorCode.NOT_FOUND.code();
            case 405 -> "method_not_allowed";
            case 406 -> "not_acceptable";
            case 415 -> "unsupported_media_type";
            default -> status.is4xxClientError() ? ErrorCode.BAD_REQUEST.code() : ErrorCode.INTERNAL.code();
        };
        if (status.is5xxServerError()) {
            log.error("request failed", e);
        }
        List<FieldError> errors = List.of();
        if (e instanceof org.springframework.beans.TypeMismatchException mismatch
                && mismatch.getPropertyName() != null) {
            detail = mismatch.getPropertyName() + ": '" + mismatch.getValue() + "' is not "
                    + describe(mismatch.getRequiredType() == null ? Object.class : mismatch.getRequiredType());
            errors = List.of(new FieldError(mismatch.getPropertyName(), detail));
        }
        ResponseEntity<Object> problem = problem(HttpStatus.valueOf(status.value()), code, detail, errors);
        HttpHeaders merged = new HttpHeaders();
        merged.putAll(headers);
        merged.setContentType(MediaType.APPLICATION_PROBLEM_JSON);
        return new ResponseEntity<>(problem.getBody(), merged, status);
    }

    static ResponseEntity<Object> problem(HttpStatus status, String code, String detail, List<FieldError> errors) {
        ProblemDetail pd = ProblemDetail.forStatusAndDetail(status, detail);
        pd.setTitle(status.getReasonPhrase());
        pd.setProperty("code", code);
        // pgEdge Control Plane's error members, so its clients read our errors too.
        pd.setProperty("name", code);
        pd.setProperty("message", detail);
        if (!errors.isEmpty()) {
            pd.setProperty(
                    "errors",
                    errors.stream()
                            .map(f -> Map.of("field", f.field(), "message", f.message()))
                            .toList());
        }
        return ResponseEntity.status(status)
                .contentType(MediaType.APPLICATION_PROBLEM_JSON)
                .body(pd);
    }

    private static String path(JacksonException e) {
        StringBuilder sb = new StringBuilder();
        for (JacksonException.Reference ref : e.getPath()) {
            if (ref.getPropertyName() != null) {
                if (!sb.isEmpty()) {
                    sb.append('.');
                }
                sb.append(ref.getPropertyName());
            } else if (ref.getIndex() >= 0) {
                sb.append('[').append(ref.getIndex()).append(']');
            }
        }
        return sb.toString();
    }

    private static String describe(Class<?> type) {
        if (type == Integer.class || type == Long.class || type == int.class || type == long.class) {
            return "a whole number";
        }
        if (Number.class.isAssignableFrom(type)) {
            return "a number";
        }
        if (type == Boolean.class || type == boolean.class) {
            return "true or false";
        }
        if (type == String.class) {
            return "a string";
        }
        if (java.util.Collection.class.isAssignableFrom(type)) {
            return "an array";
        }
        if (type == java.util.UUID.class) {
            return "a UUID";
        }
        if (java.time.temporal.Temporal.class.isAssignableFrom(type)) {
            return "a time in ISO-8601, such as 2026-01-31T02:00:00Z";
        }
        return "an object";
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "unreadable";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
