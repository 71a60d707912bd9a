/**
 * The pgfleet domain: database specs and their validation, instance and task states with the one
 * transition table of DESIGN.md §3, and the port rules of §4. Records and enums; no framework, no I/O.
 */
package io.pgfleet.core;
