package io.pgfleet.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ErrorCodeTest {

    @Test
    void codesAreSnakeCaseWithTheirHttpStatus() {
        assertThat(ErrorCode.PORT_CONFLICT.code()).isEqualTo("port_conflict");
        assertThat(ErrorCode.INVALID_SPEC.httpStatus()).isEqualTo(422);
        assertThat(ErrorCode.NOT_FOUND.httpStatus()).isEqualTo(404);
        assertThat(ErrorCode.UNAUTHORIZED.httpStatus()).isEqualTo(401);
        assertThat(ErrorCode.FORBIDDEN.httpStatus()).isEqualTo(403);
    }

    @Test
    void everyConflictIsA409() {
        assertThat(List.of(
                        ErrorCode.ALREADY_EXISTS,
                        ErrorCode.PORT_CONFLICT,
                        ErrorCode.INVALID_STATE,
                        ErrorCode.OPERATION_IN_PROGRESS,
                        ErrorCode.NOTHING_PENDING,
                        ErrorCode.STORAGE_UNWRITABLE))
                .allSatisfy(code -> assertThat(code.httpStatus()).isEqualTo(409));
    }

    @Test
    void exitCodesAreTheOnesTheCliDocuments() {
        assertThat(ErrorCode.BAD_REQUEST.exitCode()).isEqualTo(2);
        assertThat(ErrorCode.INVALID_SPEC.exitCode()).isEqualTo(2);
        assertThat(ErrorCode.NOT_FOUND.exitCode()).isEqualTo(3);
        assertThat(ErrorCode.INTERNAL.exitCode()).isEqualTo(1);
        for (ErrorCode code : ErrorCode.values()) {
            if (code.httpStatus() == 409) {
                assertThat(code.exitCode()).as(code.code()).isEqualTo(4);
            }
        }
    }

    @Test
    void onlyInternalIsA500() {
        for (ErrorCode code : ErrorCode.values()) {
            assertThat(code.httpStatus() == 500).as(code.code()).isEqualTo(code == ErrorCode.INTERNAL);
        }
    }

    @Test
    void singleFieldErrorBecomesTheMessage() {
        PgfleetException e = PgfleetException.invalid("spec.nodes[0].port", "80 is privileged; use 1024-65535");
        assertThat(e.getMessage()).isEqualTo("spec.nodes[0].port: 80 is privileged; use 1024-65535");
        assertThat(e.code()).isEqualTo(ErrorCode.INVALID_SPEC);
    }

    @Test
    void notFoundNamesWhatWasMissing() {
        PgfleetException e = PgfleetException.notFound("database example");
        assertThat(e.getMessage()).isEqualTo("database example not found");
        assertThat(e.code().httpStatus()).isEqualTo(404);
    }
}
