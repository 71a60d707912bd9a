package io.pgfleet.core;

import java.util.Map;

/** {@code POST /v1/databases}: the user-chosen id, labels and the spec. */
public record CreateDatabaseRequest(String id, Map<String, String> labels, DatabaseSpec spec) {
    public CreateDatabaseRequest {
        labels = labels == null ? Map.of() : Map.copyOf(labels);
    }
}
