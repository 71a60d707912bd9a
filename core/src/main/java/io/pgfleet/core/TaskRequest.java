package io.pgfleet.core;

/**
 * What a task was asked to do: one record per {@link TaskType}, with the facts its workflow needs.
 * Stored as the task's {@code request} (jsonb, snake_case), so a resumed task works from the same
 * request as the first run.
 */
public sealed interface TaskRequest {
    TaskType type();

    /** The record type that holds a task type's request. */
    static Class<? extends TaskRequest> typeOf(TaskType type) {
        return switch (type) {
            case CREATE -> Create.class;
            case UPDATE -> Update.class;
            case DELETE -> Delete.class;
            case STOP_INSTANCE -> StopInstance.class;
            case START_INSTANCE -> StartInstance.class;
            case RESTART_INSTANCE -> RestartInstance.class;
            case HEAL_INSTANCE -> HealInstance.class;
            case SUSPEND -> Suspend.class;
            case UNSUSPEND -> Unsuspend.class;
            case SWITCHOVER -> Switchover.class;
            case FAILOVER -> Failover.class;
        };
    }

    record Create() implements TaskRequest {
        public TaskType type() {
            return TaskType.CREATE;
        }
    }

    /**
     * The plan was computed when the update was accepted, against the spec it replaced; {@code previous}
     * is the snapshot a failed update goes back to (spec, labels, stored password ciphertexts, ports and
     * states per node), null for an update accepted before rollbacks existed.
     */
    record Update(UpdatePlan plan, java.util.Map<String, Object> previous) implements TaskRequest {
        public Update(UpdatePlan plan) {
            this(plan, null);
        }

        public TaskType type() {
            return TaskType.UPDATE;
        }
    }

    record Delete(int canceledScheduledTasks) implements TaskRequest {
        public TaskType type() {
            return TaskType.DELETE;
        }
    }

    record StopInstance() implements TaskRequest {
        public TaskType type() {
            return TaskType.STOP_INSTANCE;
        }
    }

    record StartInstance() implements TaskRequest {
        public TaskType type() {
            return TaskType.START_INSTANCE;
        }
    }

    /** {@code onlyIfPending}: skip the restart when no setting waits for one. */
    record RestartInstance(boolean onlyIfPending) implements TaskRequest {
        public TaskType type() {
            return TaskType.RESTART_INSTANCE;
        }
    }

    /** Automatic restart number {@code attempt} of a failed instance, and why it had failed. */
    record HealInstance(int attempt, String reason) implements TaskRequest {
        public TaskType type() {
            return TaskType.HEAL_INSTANCE;
        }
    }

    record Suspend(String reason, int canceledScheduledTasks) implements TaskRequest {
        public TaskType type() {
            return TaskType.SUSPEND;
        }
    }

    record Unsuspend() implements TaskRequest {
        public TaskType type() {
            return TaskType.UNSUSPEND;
        }
    }

    /**
     * A planned move of node {@code node}'s primary role away from {@code oldPrimaryId}; to
     * {@code candidateInstanceId}, or (null) to the replica that replayed most.
     */
    record Switchover(String node, String oldPrimaryId, String candidateInstanceId) implements TaskRequest {
        public TaskType type() {
            return TaskType.SWITCHOVER;
        }
    }

    /**
     * A promotion of a replica of {@code node} because its primary {@code oldPrimaryId} is lost. An
     * automatic one is decided by the fleet leader {@code leader} holding the lease with {@code epoch}
     * (its fence is void once another host holds the lease); a person's has no leader (epoch -1).
     */
    record Failover(
            String node,
            String oldPrimaryId,
            String candidateInstanceId,
            boolean automatic,
            String leader,
            long epoch,
            String reason)
            implements TaskRequest {
        public TaskType type() {
            return TaskType.FAILOVER;
        }
    }
}
