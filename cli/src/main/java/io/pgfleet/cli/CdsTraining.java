package io.pgfleet.cli;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.Map;

/**
 * The run {@code bin/pgfleet} records a class-data-sharing archive (Java 17-24) or an ahead-of-time
 * cache (Java 25+) from after each build: it loads what a typical call loads (the whole command tree, a
 * request and its answer from a throwaway server on loopback, JSON, a table, an error), so every later
 * call maps those classes, already linked, instead of loading them. Prints nothing; its exit code is 0.
 */
public final class CdsTraining {
    private CdsTraining() {}

    public static void main(String[] args) {
        run();
    }

    /** The calls of the training run; returns their exit codes (0 for help, 5 for the unreachable server). */
    static java.util.List<Integer> run() {
        PrintStream nowhere = new PrintStream(OutputStream.nullOutputStream());
        Console console = new Console(nowhere, nowhere, Map.of(), false);
        // Port 1 on loopback refuses at once: a whole request and its error, no server needed.
        String unreachable = "http://127.0.0.1:1";
        java.util.List<Integer> exits = java.util.List.of(
                Pgfleet.execute(console, "--help"),
                Pgfleet.execute(console, "--server", unreachable, "db", "list"),
                Pgfleet.execute(console, "--server", unreachable, "db", "get", "x", "-o", "json"),
                Pgfleet.execute(console, "--server", unreachable, "instance", "stop", "x", "n1", "--wait"),
                Pgfleet.execute(console, "--server", unreachable, "task", "list"));
        answered(console);
        String sample = "{\"databases\": [{\"id\": \"x\", \"state\": \"available\", \"labels\": {\"a\": \"b\"},"
                + " \"instances\": [{\"node_name\": \"n1\", \"port\": 5433, \"pending_restart\": false}]}],"
                + " \"next_cursor\": null, \"total\": 1}";
        nowhere.println(Json.pretty(JsonReader.toNode(JsonReader.read(sample))));
        new Table("ID", "STATE").row("x", console.state("available")).print(nowhere);
        Errors.sentence(new ProblemException(409, "invalid_state", "x", java.util.List.of(), "POST /v1/x"));
        return exits;
    }

    /** Calls that get answers: a list of databases, one database as JSON, a 404 problem. */
    private static void answered(Console console) {
        String list = "{\"databases\": [{\"id\": \"x\", \"state\": \"available\", \"labels\": {\"a\": \"b\"},"
                + " \"created_at\": \"2026-01-01T00:00:00Z\", \"instances\": [{\"node_name\": \"n1\","
                + " \"port\": 5433}]}], \"next_cursor\": null, \"total\": 1}";
        String problem = "{\"status\": 404, \"code\": \"not_found\", \"detail\": \"database y not found\"}";
        // A plain socket that answers each connection once, not com.sun.net.httpserver: whatever the training
        // loads enters the cache, and a JVM started with the cache loads all of it, server classes included.
        java.net.ServerSocket server;
        try {
            server = new java.net.ServerSocket(0, 8, java.net.InetAddress.getLoopbackAddress());
        } catch (java.io.IOException e) {
            return; // no loopback socket: the cache then lacks the answer's classes, nothing worse
        }
        Thread answering = new Thread(() -> answerEach(server, list, problem), "training-server");
        answering.setDaemon(true);
        answering.start();
        try (server) {
            String url = "http://127.0.0.1:" + server.getLocalPort();
            Map<String, String> env = Map.of("PGFLEET_API_KEY", "pgf_aaaaaaaaaaaa_" + "a".repeat(43));
            Console withKey = new Console(console.out(), console.err(), env, false);
            Pgfleet.execute(withKey, "--server", url, "db", "list");
            Pgfleet.execute(withKey, "--server", url, "db", "list", "-o", "json");
            Pgfleet.execute(withKey, "--server", url, "db", "get", "y");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("closing the training server failed", e);
        }
    }

    /** Answers every request: {@code list} with 200, a path ending in /y with the 404 {@code problem}. */
    private static void answerEach(java.net.ServerSocket server, String list, String problem) {
        while (!server.isClosed()) {
            try (java.net.Socket socket = server.accept()) {
                var in = new java.io.BufferedReader(new java.io.InputStreamReader(
                        socket.getInputStream(), java.nio.charset.StandardCharsets.UTF_8));
                String requestLine = in.readLine();
                for (String line = in.readLine(); line != null && !line.isEmpty(); line = in.readLine()) {
                    // headers: nothing to read from them
                }
                boolean found = requestLine != null && !requestLine.split(" ")[1].endsWith("/y");
                byte[] body = (found ? list : problem).getBytes(java.nio.charset.StandardCharsets.UTF_8);
                String head = "HTTP/1.1 " + (found ? "200 OK" : "404 Not Found") + "\r\nContent-Type: "
                        + (found ? "application/json" : "application/problem+json") + "\r\nContent-Length: "
                        + body.length + "\r\nConnection: close\r\n\r\n";
                var out = socket.getOutputStream();
                out.write(head.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                out.write(body);
                out.flush();
            } catch (java.io.IOException e) {
                return; // closed when the training is done
            }
        }
    }
}
