package io.pgfleet.cli;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Help;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** The root command {@code pgfleet}; its options are inherited by every verb. */
@Command(
        name = "pgfleet",
        mixinStandardHelpOptions = true,
        versionProvider = Pgfleet.Version.class,
        description = {
            "Self-hosted control plane for PostgreSQL: the client of its REST API.",
            "`pgfleet server [options]` runs the control plane itself (see: pgfleet server --help)."
        },
        footerHeading = "%nEnvironment:%n",
        footer = {
            "  PGFLEET_SERVER   the server's URL, like --server",
            "  PGFLEET_API_KEY  the API key, like --api-key",
            "  PGFLEET_TENANT   the tenant an admin acts in, like --tenant",
            "  PGFLEET_HOME     a local server's home, like --home; its secrets/admin.key",
            "                   is sent when no key is given and the server is local",
            "",
            "Example:",
            "  pgfleet db create example --node n1 --node n2:6010 --user admin:owner --wait",
            "  pgfleet db list",
            "  pgfleet instance restart example n1 --at 2026-12-01T03:00:00Z"
        },
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:ok",
            "1:failed (the task failed or was canceled, or a refusal: unauthorized, forbidden)",
            "2:usage (bad flags or arguments, or input the server calls invalid)",
            "3:not found (no such database, instance, task, host, tenant or key)",
            "4:conflict (not in that state, suspended, another task runs, port or id taken)",
            "5:cannot reach the server"
        })
public final class Pgfleet implements Runnable {
    static {
        // Picocli registers, for every command it builds, converters for java.sql and java.time types by
        // reflection, loading and initializing those classes (date formatters among them) on each cold
        // start; no option here has such a type. Path, the one reflective type an option has, stays.
        if (System.getProperty("picocli.converters.excludes") == null) {
            System.setProperty("picocli.converters.excludes", "java\\.(sql|time)\\..*");
        }
    }

    @Spec
    CommandSpec spec;

    @CommandLine.Mixin
    ClientOptions options;

    private final Console console;
    private final List<ApiClient> opened = new ArrayList<>();

    Pgfleet(Console console) {
        this.console = console;
    }

    /** Keeps {@code client} to be closed when the command returns (see {@link #execute}). */
    ApiClient opened(ApiClient client) {
        opened.add(client);
        return client;
    }

    /** What the verbs share: the options given, the environment, the output streams. */
    Console console() {
        return console;
    }

    ClientOptions options() {
        return options;
    }

    @Override
    public void run() {
        // `pgfleet` alone: a usage error that shows what exists.
        throw new CommandLine.ParameterException(spec.commandLine(), "name a command, such as: pgfleet db list");
    }

    public static void main(String[] args) {
        Console console = new Console(
                new PrintStream(System.out, true, StandardCharsets.UTF_8),
                new PrintStream(System.err, true, StandardCharsets.UTF_8),
                System.getenv(),
                System.console() != null);
        System.exit(execute(console, args));
    }

    /** Runs one command line and returns its exit code; the tests call this in-process. */
    public static int execute(Console console, String... args) {
        CommandLine cli = commandLine(console, args);
        return execute(cli, args);
    }

    /** Runs {@code args} on a tree built already (the tests compare a verb's path with the whole tree). */
    static int execute(CommandLine cli, String... args) {
        try {
            return cli.execute(args);
        } finally {
            // A JVM waits up to 300 ms at exit for a thread blocked in native code, such as an HTTP
            // client's selector in epoll_wait: closed first, a command exits as soon as it is done.
            Pgfleet root = cli.getCommand();
            root.opened.forEach(ApiClient::close);
        }
    }

    /** The full command tree, as help and completion show it. */
    static CommandLine commandLine(Console console) {
        return commandLine(console, new String[0]);
    }

    /** The tree {@code args} need (see {@link CommandTree}): one verb's path, or the whole tree. */
    static CommandLine commandLine(Console console, String[] args) {
        CommandLine cli = new CommandLine(new Pgfleet(console));
        CommandTree.addTo(cli, args);
        // Set after the verbs are added: picocli applies these to the subcommands present at the call.
        cli.setOut(new PrintWriter(console.out(), true));
        cli.setErr(new PrintWriter(console.err(), true));
        cli.setColorScheme(Help.defaultColorScheme(console.interactive() ? Help.Ansi.AUTO : Help.Ansi.OFF));
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        cli.setParameterExceptionHandler(Errors::usage);
        cli.setExecutionExceptionHandler(Errors::failure);
        return cli;
    }

    /** The version of the jar, from its manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Pgfleet.class.getPackage().getImplementationVersion();
            return new String[] {"pgfleet " + (v == null ? "(development build)" : v)};
        }
    }

    static Pgfleet root(CommandSpec spec) {
        return (Pgfleet) spec.root().userObject();
    }
}
