/** The REST API (v1): thin controllers, response records, and the RFC 9457 problem mapping. */
package io.pgfleet.server.api;
