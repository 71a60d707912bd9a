package io.pgfleet.core;

/** PgBouncer in front of each instance (DESIGN.md §4, Pooling). */
public record PoolerSpec(Boolean enabled, String poolMode, Integer defaultPoolSize, Integer maxClientConn) {
    public boolean isEnabled() {
        return Boolean.TRUE.equals(enabled);
    }
}
