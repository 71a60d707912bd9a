package io.pgfleet.core;

import java.util.Map;

/**
 * {@code POST /v1/databases/{database_id}}: the whole desired spec, and optionally new labels. The id
 * may be repeated (pgEdge's clients send it) but must then match the path.
 */
public record UpdateDatabaseRequest(String id, Map<String, String> labels, DatabaseSpec spec) {}
