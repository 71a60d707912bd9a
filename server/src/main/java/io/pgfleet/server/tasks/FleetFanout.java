package io.pgfleet.server.tasks;

import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.catalog.JdbcInstanceRepository;
import io.pgfleet.server.config.PgfleetProperties;
import io.pgfleet.server.fleet.FleetNodes;
import java.util.List;
import java.util.function.Consumer;
import org.springframework.stereotype.Component;

/**
 * The {@link StepRunner}'s fan-out over a fleet: each run of node lanes is one phase of the task;
 * the lanes of this host's instances run here, and every other host runs its own as a task part
 * ({@link FleetNodes}). A lane belongs to the host of its instance; a lane without one (or whose
 * instance row is gone: all its steps are finished) runs here.
 */
@Component
public class FleetFanout implements StepRunner.Fanout {
    private final FleetNodes fleetNodes;
    private final JdbcInstanceRepository instances;
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(FleetFanout.class);
    private final String hostId;
    private final io.pgfleet.server.fleet.JdbcFleetRepository fleet;

    public FleetFanout(
            FleetNodes fleetNodes,
            JdbcInstanceRepository instances,
            PgfleetProperties properties,
            io.pgfleet.server.fleet.JdbcFleetRepository fleet) {
        this.fleet = fleet;
        this.fleetNodes = fleetNodes;
        this.instances = instances;
        this.hostId = properties.hostId();
    }

    @Override
    public void run(List<List<Step>> lanes, Consumer<List<List<Step>>> runHere) {
        // In a part, a lane whose instance is gone was another host's (its removal finished there): not ours.
        List<List<Step>> mine = inPart()
                ? lanes.stream()
                        .filter(l -> l.get(0).instanceId() == null
                                || instances.find(l.get(0).instanceId()).isPresent())
                        .toList()
                : lanes.stream().filter(l -> !hostIsGone(l)).toList();
        fleetNodes.forEachNode(mine, this::hostOf, runHere);
    }

    @Override
    public boolean inPart() {
        return FleetNodes.inPart();
    }

    /** A lane that may be left out (a failover's) whose host has been silent too long. */
    private boolean hostIsGone(List<Step> lane) {
        java.time.Duration silence = lane.get(0).skipWhenHostSilentFor();
        if (silence == null) {
            return false;
        }
        String host = hostOf(lane);
        boolean gone = !host.equals(hostId)
                && fleet.host(host)
                        .map(h -> "unreachable".equals(h.state()) || h.millisSinceSeen() >= silence.toMillis())
                        .orElse(true);
        if (gone) {
            log.warn(
                    "host {} is silent; lane {} is left for its return",
                    host,
                    lane.get(0).node());
        }
        return gone;
    }

    private String hostOf(List<Step> lane) {
        String instanceId = lane.get(0).instanceId();
        if (instanceId == null) {
            return hostId;
        }
        return instances.find(instanceId).map(InstanceRow::hostId).orElse(hostId);
    }
}
