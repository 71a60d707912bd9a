package io.pgfleet.core;

import java.util.Map;
import java.util.TreeMap;

/**
 * How much memory an instance may use. pgfleet derives the memory parameters from it, with the usual
 * rules of thumb: a quarter for shared_buffers, three quarters assumed for the OS cache, and per
 * operation memory that stays safe with many connections.
 */
public record ResourcesSpec(Integer memoryMb) {
    public static final int MIN_MEMORY_MB = 128;
    public static final int MAX_MEMORY_MB = 4 * 1024 * 1024;

    /** The parameters derived from {@code memory_mb}; empty when it is absent. */
    public Map<String, String> derivedParameters() {
        Map<String, String> result = new TreeMap<>();
        if (memoryMb == null) {
            return result;
        }
        int mb = memoryMb;
        result.put("shared_buffers", mb / 4 + "MB");
        result.put("effective_cache_size", mb * 3 / 4 + "MB");
        result.put("work_mem", Math.max(1, mb / 64) + "MB");
        result.put("maintenance_work_mem", Math.max(16, Math.min(2048, mb / 16)) + "MB");
        return result;
    }
}
