package io.pgfleet.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine;

/**
 * The verbs under {@code pgfleet} and the commands under each, in the order help lists them, and the part
 * of that tree a command line needs. Picocli builds its model of a command by reflection over its class
 * and annotations, most of a cold start for the whole tree: {@code pgfleet db list} gets the root, {@code
 * db} and {@code list}, nothing else. Help, completion, usage errors and anything this class cannot read
 * with certainty get the whole tree, so what picocli prints is the same either way.
 */
final class CommandTree {
    private CommandTree() {}

    /** A verb: its class, and its commands by name (each name is its class's {@code @Command(name)}). */
    record Verb(Class<?> type, Map<String, Class<?>> commands) {}

    /** The root's options that take a value (ClientOptions, inherited by every command). */
    private static final Set<String> OPTIONS_WITH_VALUE =
            Set.of("--server", "--api-key", "--home", "--tenant", "-o", "--output");

    static final Map<String, Verb> VERBS = new LinkedHashMap<>();

    static {
        verb("db", DbCommand.class)
                .with("create", DbCommand.Create.class)
                .with("list", DbCommand.ListDatabases.class)
                .with("get", DbCommand.Get.class)
                .with("update", DbCommand.Update.class)
                .with("delete", DbCommand.Delete.class)
                .with("suspend", DbSuspension.Suspend.class)
                .with("unsuspend", DbSuspension.Unsuspend.class);
        verb("instance", InstanceCommand.class)
                .with("stop", InstanceCommand.Stop.class)
                .with("start", InstanceCommand.Start.class)
                .with("restart", InstanceCommand.Restart.class);
        verb("task", TaskCommand.class)
                .with("list", TaskCommand.ListTasks.class)
                .with("get", TaskCommand.Get.class)
                .with("log", TaskCommand.Log.class)
                .with("cancel", TaskCommand.Cancel.class)
                .with("wait", TaskCommand.Wait.class);
        verb("connect", ConnectCommand.class);
        verb("logs", LogsCommand.class);
        verb("events", EventsCommand.class);
        verb("host", HostCommand.class)
                .with("list", HostCommand.ListHosts.class)
                .with("get", HostCommand.Get.class)
                .with("drain", HostCommand.Drain.class)
                .with("undrain", HostCommand.Undrain.class)
                .with("remove", HostCommand.Remove.class);
        verb("tenant", TenantCommand.class)
                .with("list", TenantCommand.ListTenants.class)
                .with("create", TenantCommand.Create.class)
                .with("get", TenantCommand.Get.class)
                .with("delete", TenantCommand.Delete.class);
        verb("apikey", ApiKeyCommand.class)
                .with("list", ApiKeyCommand.ListKeys.class)
                .with("create", ApiKeyCommand.Create.class)
                .with("revoke", ApiKeyCommand.Revoke.class);
        verb("audit", AuditCommand.class);
        verb("completion", CompletionCommand.class);
    }

    /** Adds to {@code root} the verbs and commands {@code args} need: one path, or everything. */
    static void addTo(CommandLine root, String[] args) {
        int at = firstWord(args, 0, VERBS.keySet());
        Verb verb = at < 0 || args[at].equals("completion") ? null : VERBS.get(args[at]);
        String command = null;
        if (verb != null && !verb.commands().isEmpty()) {
            int next = firstWord(args, at + 1, verb.commands().keySet());
            command = next >= 0 && verb.commands().containsKey(args[next]) ? args[next] : null;
        }
        for (Map.Entry<String, Verb> v : VERBS.entrySet()) {
            if (verb == null || verb == v.getValue()) {
                // The verb's commands are added before the verb joins the root, as picocli does with
                // annotated subcommands, so the root's inherited options reach every one.
                CommandLine cli = new CommandLine(v.getValue().type());
                for (Map.Entry<String, Class<?>> c : v.getValue().commands().entrySet()) {
                    if (command == null || command.equals(c.getKey())) {
                        cli.addSubcommand(c.getKey(), c.getValue());
                    }
                }
                root.addSubcommand(v.getKey(), cli);
            }
        }
    }

    /**
     * The index of the first word from {@code from} on that is not one of the root's options or its value,
     * or -1 when there is none, or when an option comes first that this class does not know (such as -h:
     * picocli decides, with the whole tree), or when an option's value is one of {@code commands} (picocli
     * refuses those as values, which only the whole tree shows).
     */
    private static int firstWord(String[] args, int from, Set<String> commands) {
        int i = from;
        while (i < args.length) {
            String arg = args[i];
            int eq = arg.indexOf('=');
            String value;
            if (OPTIONS_WITH_VALUE.contains(arg)) {
                value = i + 1 < args.length ? args[i + 1] : null;
                i += 2;
            } else if (arg.startsWith("--") && eq > 0 && OPTIONS_WITH_VALUE.contains(arg.substring(0, eq))) {
                value = arg.substring(eq + 1);
                i++;
            } else if (arg.startsWith("-")) {
                return -1;
            } else {
                return i;
            }
            if (value == null || commands.contains(value)) {
                return -1;
            }
        }
        return -1;
    }

    private static Builder verb(String name, Class<?> type) {
        Map<String, Class<?>> commands = new LinkedHashMap<>();
        VERBS.put(name, new Verb(type, commands));
        return new Builder(commands);
    }

    private record Builder(Map<String, Class<?>> commands) {
        Builder with(String name, Class<?> type) {
            commands.put(name, type);
            return this;
        }
    }
}
