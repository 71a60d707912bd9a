package io.pgfleet.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;

/** {@code pgfleet audit}: who did what, refused calls included; newest first. */
@Command(
        name = "audit",
        mixinStandardHelpOptions = true,
        description = {
            "Show the audit trail: every mutating call and every refused one, newest first.",
            "Admins see every tenant's; operators their own tenant's; viewers none."
        },
        footer = {
            "%nExample:",
            "  pgfleet audit --limit 20",
            "  pgfleet audit -o json | jq '.audit[] | select(.status >= 400)'"
        })
final class AuditCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--limit", paramLabel = "N", description = "At most N records (1-500, default 50).")
    Integer limit;

    @Option(names = "--cursor", paramLabel = "CURSOR", description = "The page after this one (its next_cursor).")
    String cursor;

    @Override
    public Integer call() {
        Session session = Session.of(spec);
        JsonNode page = session.api().get("v1/audit" + ApiClient.query("cursor", cursor, "limit", limit));
        if (session.json()) {
            session.printJson(page);
            return 0;
        }
        Table table = new Table("AT", "KEY", "CALL", "STATUS", "OUTCOME", "DETAIL");
        for (JsonNode a : page.path("audit")) {
            table.row(
                    Json.time(Json.text(a, "at")),
                    Json.text(a, "key_id"),
                    Json.text(a, "method") + " " + Json.text(a, "path"),
                    Json.text(a, "status"),
                    Json.text(a, "outcome"),
                    Json.text(a, "detail"));
        }
        if (table.isEmpty()) {
            session.console().out().println("no audit records");
        } else {
            table.print(session.console().out());
        }
        String next = Json.text(page, "next_cursor");
        if (next != null) {
            session.console().out().println("more: pgfleet audit --cursor " + next);
        }
        return 0;
    }
}
