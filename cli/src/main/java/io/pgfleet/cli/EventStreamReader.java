package io.pgfleet.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Follows a server-sent event stream ({@code GET /v1/events/stream}). Each connection's lines arrive on
 * a queue, so the reader can stop at a deadline without a thread blocked in a read. When the connection
 * drops it reconnects with {@code Last-Event-ID}: the server resumes after the last event handed over,
 * so none is lost or repeated. It gives up when the server stays unreachable for {@link #GIVE_UP_AFTER}.
 */
final class EventStreamReader {
    static final Duration RECONNECT_PAUSE = Duration.ofSeconds(1);
    static final Duration GIVE_UP_AFTER = Duration.ofSeconds(60);

    /** One event as the stream framed it; {@code data} is the API's JSON of the event. */
    record Event(String id, String type, String data) {}

    private final ApiClient api;
    private final String path;
    private final PrintStream err;
    private String lastEventId;

    EventStreamReader(ApiClient api, String path, PrintStream err) {
        this.api = api;
        this.path = path;
        this.err = err;
    }

    /** The id of the last event handed over, as a reconnect sends it; empty before the first. */
    Optional<String> lastEventId() {
        return Optional.ofNullable(lastEventId);
    }

    /**
     * Hands events to {@code handler} until it answers false or {@code within} has passed (null: no
     * limit). A first connection that fails, or any answer but 200, ends it with the usual failure.
     */
    void follow(Predicate<Event> handler, Duration within) {
        long deadline = within == null ? Long.MAX_VALUE : System.nanoTime() + within.toNanos();
        long unreachableSince = 0;
        boolean connectedOnce = false;
        while (true) {
            Connection connection = new Connection();
            try {
                Ending ending = connection.read(handler, deadline);
                if (ending == Ending.STOPPED) {
                    return;
                }
                connectedOnce = true;
                unreachableSince = 0;
                err.println("pgfleet: the event stream ended; reconnecting" + after());
            } catch (CliFailure f) {
                // A connection that was open and broke (the server restarted, a proxy cut it) is worth
                // another try; a server that never answered is not.
                connectedOnce |= connection.opened;
                if (f.exitCode() != CliFailure.UNREACHABLE || !connectedOnce) {
                    throw f;
                }
                long now = System.nanoTime();
                unreachableSince = connection.opened || unreachableSince == 0 ? now : unreachableSince;
                if (now - unreachableSince > GIVE_UP_AFTER.toNanos()) {
                    throw new CliFailure(
                            CliFailure.UNREACHABLE,
                            "lost the event stream of " + api.shown() + " and could not reconnect for "
                                    + GIVE_UP_AFTER.toSeconds() + " s" + after(),
                            f);
                }
                err.println("pgfleet: the event stream dropped (" + f.getMessage() + "); reconnecting" + after());
            } finally {
                connection.close();
            }
            if (System.nanoTime() >= deadline) {
                return;
            }
            TaskFollower.sleep(RECONNECT_PAUSE);
        }
    }

    private String after() {
        return lastEventId == null ? "" : " after event " + lastEventId;
    }

    private enum Ending {
        /** The handler or the deadline ended it: the caller is done. */
        STOPPED,
        /** The server closed the stream: reconnect. */
        CLOSED
    }

    /** What one connection puts on its queue: the status first, then lines, then its end. */
    private sealed interface Signal permits Status, Line, End {}

    private record Status(int code) implements Signal {}

    private record Line(String text) implements Signal {}

    /** The body ended; {@code error} is null when the server closed it cleanly. */
    private record End(Throwable error) implements Signal {}

    /** One HTTP connection to the stream and the parser of its lines. */
    private final class Connection implements Flow.Subscriber<String> {
        private final BlockingQueue<Signal> queue = new LinkedBlockingQueue<>();
        private final Parser parser = new Parser();
        private volatile Flow.Subscription subscription;
        private CompletableFuture<HttpResponse<Void>> response;
        /** The server answered 200: the stream was open, whatever ends it later. */
        boolean opened;

        Ending read(Predicate<Event> handler, long deadline) {
            HttpRequest.Builder request = api.request(path).header("Accept", "text/event-stream");
            if (lastEventId != null) {
                request.header("Last-Event-ID", lastEventId);
            }
            String call = "GET /" + path;
            response = api.http().sendAsync(request.GET().build(), info -> {
                queue.add(new Status(info.statusCode()));
                return HttpResponse.BodySubscribers.fromLineSubscriber(this);
            });
            response.whenComplete((r, e) -> {
                if (e != null) {
                    queue.add(new End(e));
                }
            });
            int status = 0;
            List<String> problem = new ArrayList<>();
            while (true) {
                Signal signal = next(deadline);
                if (signal == null) {
                    return Ending.STOPPED;
                }
                if (signal instanceof Status s) {
                    status = s.code();
                    opened = status == 200;
                } else if (signal instanceof Line l) {
                    if (status != 200) {
                        problem.add(l.text());
                        continue;
                    }
                    Optional<Event> event = parser.line(l.text());
                    if (event.isPresent()) {
                        if (event.get().id() != null) {
                            lastEventId = event.get().id();
                        }
                        if (!handler.test(event.get())) {
                            return Ending.STOPPED;
                        }
                    }
                } else if (signal instanceof End end) {
                    if (end.error() != null) {
                        throw failure(call, end.error());
                    }
                    if (status != 200) {
                        api.answer(call, status, String.join("\n", problem));
                        throw new CliFailure(
                                CliFailure.FAILED, call + " answered HTTP " + status + "; expected an event stream");
                    }
                    return Ending.CLOSED;
                } else {
                    throw new AssertionError("unknown signal " + signal);
                }
            }
        }

        /** The next signal, or null when the deadline passed first. */
        private Signal next(long deadline) {
            try {
                if (deadline == Long.MAX_VALUE) {
                    return queue.take();
                }
                return queue.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CliFailure(CliFailure.FAILED, "interrupted while following the event stream", e);
            }
        }

        private RuntimeException failure(String call, Throwable error) {
            Throwable cause =
                    error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
            if (cause instanceof IOException io) {
                return api.unreachable(io);
            }
            return new CliFailure(CliFailure.FAILED, call + " failed: " + cause, cause);
        }

        /** Ends the connection, so the server drops this subscriber too. */
        void close() {
            Flow.Subscription s = subscription;
            if (s != null) {
                s.cancel();
            }
            if (response != null) {
                response.cancel(true);
            }
        }

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            this.subscription = subscription;
            subscription.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(String line) {
            queue.add(new Line(line));
        }

        @Override
        public void onError(Throwable error) {
            queue.add(new End(error));
        }

        @Override
        public void onComplete() {
            queue.add(new End(null));
        }
    }

    /**
     * The text/event-stream format, line by line: {@code field: value}, a blank line ends an event, a
     * line starting with {@code :} is a comment (the server's keep-alive), {@code data} lines join with
     * a newline. Fields other than id, event and data are ignored, as the format requires.
     */
    static final class Parser {
        private String id;
        private String type;
        private StringBuilder data;

        Optional<Event> line(String line) {
            if (line.isEmpty()) {
                if (data == null) {
                    type = null;
                    return Optional.empty();
                }
                Event event = new Event(id, type, data.toString());
                id = null;
                type = null;
                data = null;
                return Optional.of(event);
            }
            if (line.startsWith(":")) {
                return Optional.empty();
            }
            int colon = line.indexOf(':');
            String field = colon < 0 ? line : line.substring(0, colon);
            String value = colon < 0 ? "" : line.substring(colon + 1);
            if (value.startsWith(" ")) {
                value = value.substring(1);
            }
            switch (field) {
                case "id" -> id = value;
                case "event" -> type = value;
                case "data" -> {
                    if (data == null) {
                        data = new StringBuilder(value);
                    } else {
                        data.append('\n').append(value);
                    }
                }
                default -> {
                    // retry: and unknown fields: nothing to do for a command-line reader.
                }
            }
            return Optional.empty();
        }
    }
}
