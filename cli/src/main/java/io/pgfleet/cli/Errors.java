package io.pgfleet.cli;

import io.pgfleet.core.ErrorCode;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Help;

/**
 * The edge where failures become one sentence on stderr and an exit code (0 ok, 1 failed, 2 usage,
 * 3 not found, 4 conflict, 5 cannot reach the server).
 */
final class Errors {
    private Errors() {}

    /** Bad flags or arguments: the reason, the verb's usage line, and where to read more. Exit 2. */
    static int usage(CommandLine.ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        PrintWriter err = cmd.getErr();
        err.println("pgfleet: " + e.getMessage());
        Help help = cmd.getHelp();
        err.print(help.synopsisHeading() + help.synopsis(help.synopsisHeadingLength()));
        err.println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for more information.");
        err.flush();
        return CliFailure.USAGE;
    }

    static int failure(Exception e, CommandLine cmd, CommandLine.ParseResult parsed) {
        PrintWriter err = cmd.getErr();
        int exit;
        if (e instanceof ProblemException p) {
            err.println("pgfleet: " + sentence(p));
            // A lone field error is the detail itself; several get a line each.
            if (p.fieldErrors().size() > 1 || !p.fieldErrors().contains(p.getMessage())) {
                for (String field : p.fieldErrors()) {
                    err.println("  " + field);
                }
            }
            exit = exitCode(p);
        } else if (e instanceof CliFailure f) {
            err.println("pgfleet: " + f.getMessage());
            exit = f.exitCode();
        } else {
            // A bug of the CLI: say so plainly and keep the trace for the report.
            err.println("pgfleet: unexpected error: " + e);
            e.printStackTrace(err);
            exit = CliFailure.FAILED;
        }
        err.flush();
        return exit;
    }

    /** The server's detail, its code, and a hint where one helps. */
    static String sentence(ProblemException p) {
        String base = p.getMessage() + " (" + p.code() + ", HTTP " + p.status() + ")";
        return switch (p.code()) {
            case "unauthorized" ->
                base
                        + "; pass a key with --api-key or PGFLEET_API_KEY (a local server's admin key is in"
                        + " <home>/" + ApiKey.ADMIN_KEY_FILE + ")";
            case "forbidden" -> base + "; this key's role does not allow it";
            case "operation_in_progress" -> base + "; wait for it (pgfleet task list DATABASE) and try again";
            case "method_not_allowed" -> "this server does not support " + p.request() + " yet: " + base;
            default -> base;
        };
    }

    /** The exit code the server's problem code maps to; a code this CLI does not know maps by status. */
    static int exitCode(ProblemException p) {
        for (ErrorCode code : ErrorCode.values()) {
            if (code.code().equals(p.code())) {
                return code.exitCode();
            }
        }
        return switch (p.status()) {
            case 400, 422 -> CliFailure.USAGE;
            case 404 -> CliFailure.NOT_FOUND;
            case 409 -> CliFailure.CONFLICT;
            default -> CliFailure.FAILED;
        };
    }
}
