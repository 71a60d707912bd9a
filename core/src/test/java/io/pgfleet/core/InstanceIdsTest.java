package io.pgfleet.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class InstanceIdsTest {

    @Test
    void idIsDatabaseUuidThenNodeThenEightLowercaseAlphanumerics() {
        UUID database = UUID.fromString("68f50878-44d2-4524-a823-e31bd478706d");
        String id = InstanceIds.newInstanceId(database, "n1");
        assertThat(id).matches("68f50878-44d2-4524-a823-e31bd478706d-n1-[a-z0-9]{8}");
    }

    @Test
    void twoInstancesOfTheSameNodeGetDifferentIds() {
        UUID database = UUID.randomUUID();
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < 100; i++) {
            ids.add(InstanceIds.newInstanceId(database, "n1"));
        }
        assertThat(ids).hasSize(100);
    }
}
