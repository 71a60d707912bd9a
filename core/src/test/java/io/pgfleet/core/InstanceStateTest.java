package io.pgfleet.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

class InstanceStateTest {

    /**
     * DESIGN.md §3, copied row by row. It is the reference the code is checked against, so edit it only
     * when DESIGN.md changes, never to make a failing test pass.
     */
    private static final String DESIGN_TABLE = """
            | creating   | available, failed, error, deleting |
            | available  | stopping, restarting, modifying, deleting, failed, unknown |
            | modifying  | available, stopped, restarting, error |
            | stopping   | stopped, error |
            | stopped    | starting, modifying, deleting, unknown |
            | starting   | available, error, failed |
            | restarting | available, error, failed |
            | failed     | starting, restarting, stopping, deleting, available |
            | error      | starting, restarting, stopping, deleting, available |
            | unknown    | available, stopped, failed, error, deleting |
            | deleting   | error |
            """;

    private static final Map<String, Set<String>> ALLOWED = parse(DESIGN_TABLE);

    /** The eleven states of DESIGN.md §3, spelled as there. */
    private static final Set<String> DESIGN_STATES = Set.of(
            "creating",
            "available",
            "stopping",
            "stopped",
            "starting",
            "restarting",
            "modifying",
            "failed",
            "error",
            "unknown",
            "deleting");

    static Stream<Arguments> everyPairOfStates() {
        return Arrays.stream(InstanceState.values())
                .flatMap(from -> Arrays.stream(InstanceState.values())
                        .map(to ->
                                Arguments.of(from, to, ALLOWED.get(from.label()).contains(to.label()))));
    }

    @ParameterizedTest(name = "{0} -> {1} allowed: {2}")
    @MethodSource("everyPairOfStates")
    void everyTransitionFollowsTheDesignTable(InstanceState from, InstanceState to, boolean allowed) {
        assertThat(from.canMoveTo(to)).as("%s -> %s", from.label(), to.label()).isEqualTo(allowed);
    }

    @ParameterizedTest(name = "{0} -> {1} allowed: {2}")
    @MethodSource("everyPairOfStates")
    void validateTransitionRefusesExactlyWhatTheTableForbids(InstanceState from, InstanceState to, boolean allowed) {
        if (allowed) {
            assertThatCode(() -> from.validateTransition(to, "instance n1 of example"))
                    .doesNotThrowAnyException();
        } else {
            assertThatThrownBy(() -> from.validateTransition(to, "instance n1 of example"))
                    .isInstanceOf(PgfleetException.class)
                    .extracting(e -> ((PgfleetException) e).code())
                    .isEqualTo(ErrorCode.INVALID_STATE);
        }
    }

    @Test
    void theEnumHasExactlyTheStatesOfTheDesign() {
        assertThat(Arrays.stream(InstanceState.values()).map(InstanceState::label))
                .containsExactlyInAnyOrderElementsOf(DESIGN_STATES);
        assertThat(ALLOWED.keySet()).isEqualTo(DESIGN_STATES);
        assertThat(ALLOWED.values().stream().flatMap(Set::stream)).allMatch(DESIGN_STATES::contains);
    }

    @ParameterizedTest
    @EnumSource(InstanceState.class)
    void noStateMovesToItself(InstanceState state) {
        assertThat(state.canMoveTo(state)).isFalse();
    }

    @Test
    void stoppedInstanceCanOnlyStartBeModifiedDeletedOrLost() {
        assertThat(reachableFrom(InstanceState.STOPPED))
                .containsExactlyInAnyOrder(
                        InstanceState.STARTING, InstanceState.MODIFYING, InstanceState.DELETING, InstanceState.UNKNOWN);
    }

    @Test
    void stopGoesThroughStoppingAndStartGoesThroughStarting() {
        assertThat(InstanceState.AVAILABLE.canMoveTo(InstanceState.STOPPED)).isFalse();
        assertThat(InstanceState.AVAILABLE.canMoveTo(InstanceState.STOPPING)).isTrue();
        assertThat(InstanceState.STOPPING.canMoveTo(InstanceState.STOPPED)).isTrue();
        assertThat(InstanceState.STOPPED.canMoveTo(InstanceState.AVAILABLE)).isFalse();
        assertThat(InstanceState.STOPPED.canMoveTo(InstanceState.STARTING)).isTrue();
        assertThat(InstanceState.STARTING.canMoveTo(InstanceState.AVAILABLE)).isTrue();
    }

    @Test
    void deletingInstanceCanOnlyFailIntoError() {
        assertThat(reachableFrom(InstanceState.DELETING)).containsExactly(InstanceState.ERROR);
    }

    @Test
    void refusedTransitionIsAConflictNamingSubjectAndBothStates() {
        assertThatThrownBy(() ->
                        InstanceState.STOPPED.validateTransition(InstanceState.RESTARTING, "instance n1 of example"))
                .isInstanceOfSatisfying(PgfleetException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.INVALID_STATE);
                    assertThat(e.code().httpStatus()).isEqualTo(409);
                    assertThat(e.getMessage())
                            .isEqualTo("instance n1 of example is stopped and cannot become restarting");
                });
    }

    @ParameterizedTest
    @EnumSource(
            value = InstanceState.class,
            names = {"AVAILABLE", "STOPPED", "FAILED", "ERROR"})
    void instanceWithNoOperationUnderWayIsStable(InstanceState state) {
        assertThat(state.isStable()).isTrue();
    }

    @ParameterizedTest
    @EnumSource(
            value = InstanceState.class,
            names = {"AVAILABLE", "STOPPED", "FAILED", "ERROR"},
            mode = EnumSource.Mode.EXCLUDE)
    void instanceInTransitOrUnobservableIsNotStable(InstanceState state) {
        assertThat(state.isStable()).isFalse();
    }

    @ParameterizedTest
    @EnumSource(InstanceState.class)
    void labelIsTheLowercaseDesignSpellingAndParsesBack(InstanceState state) {
        assertThat(DESIGN_STATES).contains(state.label());
        assertThat(InstanceState.fromLabel(state.label())).isEqualTo(state);
    }

    private static Set<InstanceState> reachableFrom(InstanceState from) {
        Set<InstanceState> reachable = EnumSet.noneOf(InstanceState.class);
        for (InstanceState to : InstanceState.values()) {
            if (from.canMoveTo(to)) {
                reachable.add(to);
            }
        }
        return reachable;
    }

    private static Map<String, Set<String>> parse(String table) {
        Map<String, Set<String>> allowed = new HashMap<>();
        table.lines().filter(line -> !line.isBlank()).forEach(line -> {
            String[] cells = line.split("\\|");
            String from = cells[1].trim();
            Set<String> to = Set.copyOf(
                    Arrays.stream(cells[2].split(",")).map(String::trim).toList());
            allowed.put(from, to);
        });
        return Map.copyOf(allowed);
    }
}
