package io.pgfleet.server.config;

import io.pgfleet.core.PgfleetException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * {@code --listen-addresses}: where instances and their PgBouncers listen, in the syntax both take (a
 * comma-separated list of host names or IP addresses, or {@code *}). pgfleet probes, reconciles and
 * pools over loopback (see agent.InstanceAddress), so 127.0.0.1 is added when the list has no loopback address.
 */
public final class ListenAddresses {
    /** Host names, IPv4 and IPv6 literals; nothing that could break out of postgresql.conf or pgbouncer.ini. */
    private static final Pattern ADDRESS = Pattern.compile("[A-Za-z0-9._:-]{1,253}|\\*");

    private ListenAddresses() {}

    public static String withLoopback(String value) {
        if (value == null || value.isBlank()) {
            return "*";
        }
        Set<String> addresses = new LinkedHashSet<>();
        for (String part : value.split(",")) {
            String address = part.strip();
            if (!ADDRESS.matcher(address).matches()) {
                throw PgfleetException.invalid(
                        "--listen-addresses",
                        "'" + address + "' is not a host name or IP address; use e.g. 10.0.0.5,127.0.0.1 or *");
            }
            addresses.add(address);
        }
        List<String> result = new ArrayList<>(addresses);
        boolean coversLoopback = addresses.contains("*")
                || addresses.contains("0.0.0.0")
                || addresses.contains("localhost")
                // any 127/8 address is loopback: hosts of a fleet sharing one machine each take their own
                || addresses.stream().anyMatch(a -> a.startsWith("127."));
        if (!coversLoopback) {
            result.add(0, "127.0.0.1");
        }
        return String.join(",", result);
    }
}
