/** Events: what happened to databases and instances, written in the transaction that made it happen. */
package io.pgfleet.server.events;
