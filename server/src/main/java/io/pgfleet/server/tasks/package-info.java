/**
 * Tasks: accepting operations (one update at a time per database or instance), the durable queue
 * and scheduler that runs them, and the workflows, written as checklists of idempotent steps.
 */
package io.pgfleet.server.tasks;
