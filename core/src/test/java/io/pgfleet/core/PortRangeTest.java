package io.pgfleet.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PortRangeTest {

    private static final java.util.function.IntPredicate NOTHING_BOUND = port -> true;

    @Test
    void parsesTheDefaultRange() {
        PortRange range = PortRange.parse("5433-5999");
        assertThat(range.first()).isEqualTo(5433);
        assertThat(range.last()).isEqualTo(5999);
        assertThat(range).hasToString("5433-5999");
    }

    @Test
    void parseToleratesSurroundingSpaces() {
        assertThat(PortRange.parse(" 6000 - 6010 ")).isEqualTo(new PortRange(6000, 6010));
    }

    @Test
    void rangeOfOnePortIsAllowed() {
        assertThat(PortRange.parse("6000-6000").contains(6000)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(
            strings = {"", "5433", "5433-", "-5999", "a-b", "5433-59x9", "5433-5999-6000", "5433..5999", "5433 5999"})
    void textThatIsNotFirstDashLastIsRefusedWithAnExample(String text) {
        assertThatThrownBy(() -> PortRange.parse(text)).isInstanceOfSatisfying(PgfleetException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.INVALID_SPEC);
            assertThat(e.fieldErrors()).singleElement().satisfies(f -> {
                assertThat(f.field()).isEqualTo("port_range");
                assertThat(f.message()).isEqualTo("'" + text + "' is not FIRST-LAST, e.g. 5433-5999");
            });
        });
    }

    @ParameterizedTest
    @ValueSource(strings = {"1000-2000", "1023-1030", "65000-65536", "6000-5999", "0-0"})
    void rangeOutside1024To65535OrBackwardsIsRefused(String text) {
        assertThatThrownBy(() -> PortRange.parse(text)).isInstanceOfSatisfying(PgfleetException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.INVALID_SPEC);
            assertThat(e.fieldErrors()).singleElement().satisfies(f -> {
                assertThat(f.field()).isEqualTo("port_range");
                assertThat(f.message()).contains("is not a range within 1024-65535");
            });
        });
    }

    @Test
    void widestRangeIs1024To65535() {
        PortRange widest = PortRange.parse("1024-65535");
        assertThat(widest.contains(1024)).isTrue();
        assertThat(widest.contains(65535)).isTrue();
    }

    @Test
    void containsIncludesBothEnds() {
        PortRange range = new PortRange(6000, 6002);
        assertThat(range.contains(5999)).isFalse();
        assertThat(range.contains(6000)).isTrue();
        assertThat(range.contains(6002)).isTrue();
        assertThat(range.contains(6003)).isFalse();
    }

    @Test
    void firstFreeIsTheFirstPortOfAnUnusedRange() {
        assertThat(PortRange.parse("5433-5999").firstFree(Set.of(), NOTHING_BOUND))
                .contains(5433);
    }

    @Test
    void firstFreeSkipsPortsReservedByInstancesStoppedOnesIncluded() {
        PortRange range = PortRange.parse("5433-5999");
        assertThat(range.firstFree(Set.of(5433, 5434, 5436), NOTHING_BOUND)).contains(5435);
    }

    @Test
    void firstFreeSkipsPortsSomethingOnTheHostIsBoundTo() {
        PortRange range = PortRange.parse("5433-5999");
        assertThat(range.firstFree(Set.of(), port -> port != 5433 && port != 5434))
                .contains(5435);
    }

    @Test
    void firstFreeSkipsReservedAndBoundPortsTogether() {
        PortRange range = PortRange.parse("5433-5999");
        assertThat(range.firstFree(Set.of(5433, 5435), port -> port != 5434)).contains(5436);
    }

    @Test
    void reservedPortsOutsideTheRangeDoNotMatter() {
        PortRange range = PortRange.parse("6000-6001");
        assertThat(range.firstFree(Set.of(5432, 5999, 6002), NOTHING_BOUND)).contains(6000);
    }

    @Test
    void firstFreeIsEmptyWhenEveryPortIsReservedOrBound() {
        PortRange range = PortRange.parse("6000-6003");
        assertThat(range.firstFree(Set.of(6000, 6001), port -> port > 6003)).isEmpty();
        assertThat(range.firstFree(Set.of(6000, 6001, 6002, 6003), NOTHING_BOUND))
                .isEmpty();
    }

    @Test
    void bindTestIsNotAskedAboutReservedPorts() {
        PortRange range = PortRange.parse("6000-6002");
        assertThat(range.firstFree(Set.of(6000), port -> {
                    assertThat(port).as("reserved port probed").isNotEqualTo(6000);
                    return true;
                }))
                .contains(6001);
    }
}
