package io.pgfleet.cli;

import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code pgfleet completion bash}: a completion script for every verb and option. */
@Command(
        name = "completion",
        mixinStandardHelpOptions = true,
        description = "Print a shell completion script (bash; zsh loads it with bashcompinit).",
        footer = {
            "%nExample:",
            "  source <(pgfleet completion bash)",
            "  pgfleet completion bash > /etc/bash_completion.d/pgfleet"
        })
final class CompletionCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "SHELL", description = "bash.")
    String shell;

    @Override
    public Integer call() {
        if (!shell.equals("bash")) {
            throw new picocli.CommandLine.ParameterException(
                    spec.commandLine(), "'" + shell + "' is not a shell this command knows; use bash");
        }
        Pgfleet.root(spec)
                .console()
                .out()
                .print(AutoComplete.bash("pgfleet", spec.root().commandLine()));
        return 0;
    }
}
