package io.pgfleet.core;

import static io.pgfleet.core.InstanceState.AVAILABLE;
import static io.pgfleet.core.InstanceState.CREATING;
import static io.pgfleet.core.InstanceState.DELETING;
import static io.pgfleet.core.InstanceState.ERROR;
import static io.pgfleet.core.InstanceState.FAILED;
import static io.pgfleet.core.InstanceState.MODIFYING;
import static io.pgfleet.core.InstanceState.RESTARTING;
import static io.pgfleet.core.InstanceState.STOPPED;
import static io.pgfleet.core.InstanceState.UNKNOWN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class DatabaseStateTest {

    @Test
    void databaseIsAvailableWhenAllInstancesAre() {
        assertThat(DatabaseState.derive(List.of(AVAILABLE), false)).isEqualTo(DatabaseState.AVAILABLE);
        assertThat(DatabaseState.derive(List.of(AVAILABLE, AVAILABLE, AVAILABLE), false))
                .isEqualTo(DatabaseState.AVAILABLE);
    }

    @Test
    void databaseIsDegradedWhenSomeInstancesAreNotAvailable() {
        assertThat(DatabaseState.derive(List.of(AVAILABLE, STOPPED), false)).isEqualTo(DatabaseState.DEGRADED);
        assertThat(DatabaseState.derive(List.of(AVAILABLE, FAILED), false)).isEqualTo(DatabaseState.DEGRADED);
        assertThat(DatabaseState.derive(List.of(AVAILABLE, UNKNOWN), false)).isEqualTo(DatabaseState.DEGRADED);
        assertThat(DatabaseState.derive(List.of(AVAILABLE, RESTARTING), false)).isEqualTo(DatabaseState.DEGRADED);
    }

    @Test
    void databaseIsStoppedOnlyWhenEveryInstanceIsStopped() {
        assertThat(DatabaseState.derive(List.of(STOPPED, STOPPED), false)).isEqualTo(DatabaseState.STOPPED);
        assertThat(DatabaseState.derive(List.of(STOPPED, AVAILABLE), false)).isNotEqualTo(DatabaseState.STOPPED);
    }

    @Test
    void databaseIsFailedWhenNoInstanceIsHealthy() {
        assertThat(DatabaseState.derive(List.of(FAILED), false)).isEqualTo(DatabaseState.FAILED);
        assertThat(DatabaseState.derive(List.of(ERROR), false)).isEqualTo(DatabaseState.FAILED);
        assertThat(DatabaseState.derive(List.of(FAILED, ERROR), false)).isEqualTo(DatabaseState.FAILED);
    }

    @Test
    void anInstanceBeingCreatedMakesTheDatabaseCreating() {
        assertThat(DatabaseState.derive(List.of(CREATING, CREATING), false)).isEqualTo(DatabaseState.CREATING);
        assertThat(DatabaseState.derive(List.of(CREATING, AVAILABLE), false)).isEqualTo(DatabaseState.CREATING);
    }

    @Test
    void anInstanceBeingDeletedMakesTheDatabaseDeleting() {
        assertThat(DatabaseState.derive(List.of(DELETING, AVAILABLE), false)).isEqualTo(DatabaseState.DELETING);
        assertThat(DatabaseState.derive(List.of(DELETING, CREATING), false)).isEqualTo(DatabaseState.DELETING);
    }

    @Test
    void databaseWhoseInstanceRowsAreAllRemovedIsDeleting() {
        // A deleted instance's row is removed (DESIGN.md §3), so a database with none left is being deleted.
        assertThat(DatabaseState.derive(List.of(), false)).isEqualTo(DatabaseState.DELETING);
    }

    @Test
    void anInstanceBeingModifiedMakesTheDatabaseModifying() {
        assertThat(DatabaseState.derive(List.of(MODIFYING), false)).isEqualTo(DatabaseState.MODIFYING);
        assertThat(DatabaseState.derive(List.of(MODIFYING, AVAILABLE), false)).isEqualTo(DatabaseState.MODIFYING);
    }

    @ParameterizedTest
    @EnumSource(InstanceState.class)
    void suspendedDatabaseIsSuspendedWhateverItsInstances(InstanceState state) {
        assertThat(DatabaseState.derive(List.of(state, AVAILABLE), true)).isEqualTo(DatabaseState.SUSPENDED);
    }

    @Test
    void suspendedDatabaseWithoutInstancesIsSuspended() {
        assertThat(DatabaseState.derive(List.of(), true)).isEqualTo(DatabaseState.SUSPENDED);
    }

    @ParameterizedTest
    @EnumSource(DatabaseState.class)
    void labelParsesBack(DatabaseState state) {
        assertThat(DatabaseState.fromLabel(state.label())).isEqualTo(state);
        assertThat(DatabaseState.fromLabel(state.label().toUpperCase())).isEqualTo(state);
    }

    @Test
    void unknownLabelIsRefusedNamingTheField() {
        assertThatThrownBy(() -> DatabaseState.fromLabel("running"))
                .isInstanceOfSatisfying(PgfleetException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.BAD_REQUEST);
                    assertThat(e.fieldErrors()).singleElement().satisfies(f -> {
                        assertThat(f.field()).isEqualTo("state");
                        assertThat(f.message()).contains("'running'", "degraded", "suspended");
                    });
                });
    }
}
