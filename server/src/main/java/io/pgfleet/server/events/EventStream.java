package io.pgfleet.server.events;

import io.pgfleet.server.events.JdbcEventRepository.EventFilter;
import io.pgfleet.server.events.JdbcEventRepository.EventRow;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

/**
 * Server-sent events: each subscriber has its own cursor (the last event id it got), and one thread
 * reads the catalog after each cursor every 200 ms. A reconnect with {@code Last-Event-ID} starts from
 * that cursor, so nothing between two connections is lost; events arrive in id order.
 */
@Component
public class EventStream implements SmartLifecycle {
    private static final Logger log = LoggerFactory.getLogger(EventStream.class);
    private static final Duration POLL = Duration.ofMillis(200);

    private final JdbcEventRepository events;
    /**
     * The keep-alive interval ({@code pgfleet.events-keep-alive}, 15 s as pgEdge's clients expect). Also
     * how soon a subscriber whose client went away is dropped: the first write after the client left
     * draws a reset, the next one fails.
     */
    private final Duration keepAlive;

    private final List<Subscriber> subscribers = new CopyOnWriteArrayList<>();
    private ScheduledExecutorService poller;
    /** The poll's schedule while anyone subscribes; none without subscribers (an idle host does not wake). */
    private ScheduledFuture<?> polling;

    private volatile boolean running;

    public EventStream(
            JdbcEventRepository events,
            @org.springframework.beans.factory.annotation.Value("${pgfleet.events-keep-alive:15s}")
                    Duration keepAlive) {
        this.events = events;
        this.keepAlive = keepAlive;
    }

    private static final class Subscriber {
        final EventFilter filter;
        final SseEmitter emitter;
        long cursor;
        long lastWriteNanos = System.nanoTime();

        Subscriber(EventFilter filter, SseEmitter emitter, long cursor) {
            this.filter = filter;
            this.emitter = emitter;
            this.cursor = cursor;
        }
    }

    public SseEmitter subscribe(EventFilter filter, long afterId) {
        SseEmitter emitter = new SseEmitter(Duration.ofHours(1).toMillis());
        Subscriber subscriber = new Subscriber(filter, emitter, afterId);
        emitter.onCompletion(() -> subscribers.remove(subscriber));
        emitter.onTimeout(() -> subscribers.remove(subscriber));
        emitter.onError(e -> subscribers.remove(subscriber));
        try {
            // Sent before the handler returns, so the headers and this line leave at once: a client
            // (or a proxy) sees the stream open instead of waiting for the first event.
            emitter.send(SseEmitter.event().comment("stream open"));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("event stream: could not open", e);
        }
        subscribers.add(subscriber);
        pollWhileSubscribed();
        return emitter;
    }

    /**
     * One round over the subscribers. Nothing may escape it: an exception out of a scheduled task ends
     * the schedule for good, and every stream would then hang without events or keep-alives.
     */
    private void poll() {
        for (Subscriber s : subscribers) {
            try {
                pollOne(s);
            } catch (RuntimeException e) {
                log.error("event stream: a subscriber failed unexpectedly ({}); dropping it", e.getMessage(), e);
                drop(s, () -> s.emitter.completeWithError(e));
            }
        }
        synchronized (this) {
            // Under the lock that subscribe's pollWhileSubscribed takes after adding: no subscriber is missed.
            if (subscribers.isEmpty() && polling != null) {
                polling.cancel(false);
                polling = null;
            }
        }
    }

    private synchronized void pollWhileSubscribed() {
        if (polling == null && !subscribers.isEmpty() && poller != null && !poller.isShutdown()) {
            polling =
                    poller.scheduleWithFixedDelay(this::poll, POLL.toMillis(), POLL.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private void pollOne(Subscriber s) {
        try {
            List<EventRow> batch = events.list(s.filter, s.cursor, 500);
            for (EventRow e : batch) {
                s.emitter.send(SseEmitter.event()
                        .id(Long.toString(e.eventId()))
                        .name(e.type())
                        .data(e));
                s.cursor = e.eventId();
                s.lastWriteNanos = System.nanoTime();
            }
            if (System.nanoTime() - s.lastWriteNanos > keepAlive.toNanos()) {
                s.emitter.send(SseEmitter.event().comment("keep-alive"));
                s.lastWriteNanos = System.nanoTime();
            }
        } catch (IOException | IllegalStateException e) {
            // The client went away (or the emitter already ended): drop it; it can reconnect with Last-Event-ID.
            log.debug("event stream subscriber gone: {}", e.getMessage());
            drop(s, () -> s.emitter.completeWithError(e));
        } catch (org.springframework.dao.DataAccessException e) {
            // Its query failed: end the stream now rather than retry every poll. The client reconnects
            // with Last-Event-ID (the CLI does), so no event is lost.
            log.info("event stream: reading events failed: {}; ending that stream", e.getMessage());
            drop(s, s.emitter::complete);
        }
    }

    /** Removes the subscriber, then ends its emitter; an emitter that already ended is fine. */
    private void drop(Subscriber s, Runnable end) {
        subscribers.remove(s);
        try {
            end.run();
        } catch (IllegalStateException alreadyEnded) {
            log.debug("event stream: the emitter had already ended: {}", alreadyEnded.getMessage());
        }
    }

    /** How many streams are open. */
    public int subscriberCount() {
        return subscribers.size();
    }

    @Override
    public void start() {
        poller = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pgfleet-events");
            t.setDaemon(true);
            return t;
        });
        running = true;
        pollWhileSubscribed(); // a subscriber that came before start
    }

    @Override
    public void stop() {
        running = false;
        if (poller != null) {
            poller.shutdownNow();
        }
        for (Subscriber s : subscribers) {
            s.emitter.complete();
        }
        subscribers.clear();
    }

    @Override
    public boolean isRunning() {
        return running;
    }
}
