package io.pgfleet.cli;

/**
 * The question a destructive verb asks before it acts: on a terminal the person types the name of what
 * goes away; a script passes {@code --yes}. A picocli mixin: a destructive verb declares
 * {@code @Mixin Confirmation confirmation} and calls {@link #require} first. Without a terminal and without {@code --yes} nothing is
 * done and the exit code is 2, so a script that forgot the flag fails loudly instead of deleting.
 */
final class Confirmation {
    @picocli.CommandLine.Option(
            names = {"-y", "--yes"},
            description = "Do not ask for confirmation (needed when not on a terminal).")
    boolean yes;

    /**
     * Returns when the deletion is confirmed; otherwise throws a {@link CliFailure} that says nothing was
     * done. {@code what} names the object ("database example"), {@code consequence} what is lost.
     */
    void require(Console console, String verb, String name, String what, String consequence) {
        if (yes) {
            return;
        }
        if (!console.interactive()) {
            throw new CliFailure(
                    CliFailure.USAGE,
                    "pgfleet " + verb + " " + name + " " + consequence + "; not on a terminal, so it cannot ask:"
                            + " pass --yes to confirm (nothing was deleted)");
        }
        console.err()
                .print("pgfleet " + verb + " " + name + " " + consequence + ".\nType the " + what + " to confirm: ");
        console.err().flush();
        String answer = console.readLine();
        if (answer == null || !answer.strip().equals(name)) {
            throw new CliFailure(
                    CliFailure.FAILED,
                    (answer == null ? "no answer" : "the answer was not " + name) + "; nothing was deleted");
        }
    }
}
