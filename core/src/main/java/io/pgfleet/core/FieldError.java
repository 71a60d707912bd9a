package io.pgfleet.core;

/** One invalid field of a request: where it is ({@code spec.nodes[0].port}) and what to do about it. */
public record FieldError(String field, String message) {}
