package io.pgfleet.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The rows are copied from PostgreSQL 17's pg_settings. */
class ServerParameterTest {
    static final ServerParameter WORK_MEM =
            new ServerParameter("work_mem", "user", "integer", "kB", "64", "2147483647", null);
    static final ServerParameter SHARED_BUFFERS =
            new ServerParameter("shared_buffers", "postmaster", "integer", "8kB", "16", "1073741823", null);
    static final ServerParameter STATEMENT_TIMEOUT =
            new ServerParameter("statement_timeout", "user", "integer", "ms", "0", "2147483647", null);
    static final ServerParameter FSYNC = new ServerParameter("fsync", "sighup", "bool", null, null, null, null);
    static final ServerParameter WAL_LEVEL = new ServerParameter(
            "wal_level", "postmaster", "enum", null, null, null, List.of("minimal", "replica", "logical"));
    static final ServerParameter BLOCK_SIZE =
            new ServerParameter("block_size", "internal", "integer", null, "8192", "8192", null);
    static final ServerParameter RANDOM_PAGE_COST =
            new ServerParameter("random_page_cost", "user", "real", null, "0", "1.79769e+308", null);

    @Test
    void memoryValuesParseWithEveryUnit() {
        assertThat(WORK_MEM.check("8MB")).isEmpty();
        assertThat(WORK_MEM.check("65536")).isEmpty();
        assertThat(WORK_MEM.check("1GB")).isEmpty();
        assertThat(WORK_MEM.canonical("8MB")).isEqualTo("8192");
        assertThat(SHARED_BUFFERS.canonical("256MB")).isEqualTo("32768");
        assertThat(SHARED_BUFFERS.canonical("32768")).isEqualTo("32768");
    }

    @Test
    void badNumbersAndUnitsAreRefusedWithTheFix() {
        assertThat(WORK_MEM.check("lots"))
                .hasValueSatisfying(
                        m -> assertThat(m).contains("not a valid integer").contains("64MB"));
        assertThat(WORK_MEM.check("8 parsecs")).isPresent();
        assertThat(WORK_MEM.check("8s")).as("a time unit on a memory parameter").isPresent();
        assertThat(WORK_MEM.check("32kB")).hasValueSatisfying(m -> assertThat(m).contains("outside 64-2147483647"));
    }

    @Test
    void timeValuesParse() {
        assertThat(STATEMENT_TIMEOUT.check("5s")).isEmpty();
        assertThat(STATEMENT_TIMEOUT.check("1min")).isEmpty();
        assertThat(STATEMENT_TIMEOUT.canonical("1min")).isEqualTo("60000");
        assertThat(STATEMENT_TIMEOUT.check("-1")).isPresent();
    }

    @Test
    void booleansEnumsRealsAndReadOnly() {
        assertThat(FSYNC.check("on")).isEmpty();
        assertThat(FSYNC.check("FALSE")).isEmpty();
        assertThat(FSYNC.check("maybe")).isPresent();
        assertThat(FSYNC.canonical("yes")).isEqualTo("on");
        assertThat(WAL_LEVEL.check("Logical")).isEmpty();
        assertThat(WAL_LEVEL.check("archive"))
                .hasValueSatisfying(m -> assertThat(m).contains("[minimal, replica, logical]"));
        assertThat(RANDOM_PAGE_COST.check("1.1")).isEmpty();
        assertThat(RANDOM_PAGE_COST.check("-1")).isPresent();
        assertThat(BLOCK_SIZE.check("8192"))
                .hasValueSatisfying(m -> assertThat(m).contains("internal"));
        assertThat(SHARED_BUFFERS.needsRestart()).isTrue();
        assertThat(WORK_MEM.needsRestart()).isFalse();
    }

    @Test
    void specValidatorNamesUnknownAndBadParametersButAllowsExtensionNames() {
        Map<String, ServerParameter> settings = Map.of("work_mem", WORK_MEM, "fsync", FSYNC);
        List<FieldError> errors = SpecValidator.checkParameters(
                Map.of("work_mem", "huge", "no_such_thing", "1", "fsync", "off", "pg_stat_statements.max", "100"),
                settings);
        assertThat(errors)
                .extracting(FieldError::field)
                .containsExactly("spec.postgresql_conf.no_such_thing", "spec.postgresql_conf.work_mem");
    }

    @Test
    void namesMatchWhateverTheirCaseAsPostgresReadsThem() {
        Map<String, ServerParameter> settings = Map.of("work_mem", WORK_MEM);
        assertThat(SpecValidator.checkParameters(Map.of("WORK_MEM", "8MB"), settings))
                .isEmpty();
        assertThat(SpecValidator.checkParameters(Map.of("Work_Mem", "huge"), settings))
                .extracting(FieldError::field)
                .containsExactly("spec.postgresql_conf.Work_Mem");
    }
}
