// The live event stream (GET /v1/events/stream, server-sent events). The browser reconnects by itself
// with Last-Event-ID after a drop; when the stream is closed for good (a 401, a restart of pgfleet) it
// is reopened from the last event seen, so nothing in between is lost. The header shows which it is.

const TYPES = [
  'database.created', 'database.updated', 'database.deleted', 'database.state_changed',
  'database.suspended', 'database.unsuspended', 'database.switchover', 'database.failover',
  'instance.state_changed', 'instance.deleted', 'instance.drift_detected', 'instance.drift_repaired',
  'instance.postmaster_died', 'instance.not_answering', 'instance.restart_gave_up', 'instance.role_changed',
  'instance.promoted', 'instance.storage_unwritable', 'instance.storage_writable', 'pooler.restarted', 'host.state_changed',
  'task.created', 'task.scheduled', 'task.started', 'task.completed', 'task.failed', 'task.resumed',
  'task.canceled',
];

const listeners = new Set();
let source = null;
let lastId = null;
let retryTimer = null;
let statusEl = null;

export function onEvent(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function show(text, lost) {
  if (!statusEl) return;
  statusEl.hidden = false;
  statusEl.textContent = text;
  statusEl.classList.toggle('lost', lost);
}

function dispatch(e) {
  lastId = e.lastEventId || lastId;
  let event;
  try {
    event = JSON.parse(e.data);
  } catch (err) {
    return; // not one of pgfleet's events
  }
  for (const fn of listeners) fn(event);
}

let stillLoggedIn = async () => true;

export function startLive(el, sessionCheck) {
  statusEl = el;
  if (sessionCheck) stillLoggedIn = sessionCheck;
  stopLive();
  const url = '/v1/events/stream' + (lastId ? '?after_id=' + encodeURIComponent(lastId) : '');
  source = new EventSource(url);
  source.onopen = () => {
    const resumed = statusEl && statusEl.classList.contains('lost');
    show(resumed ? 'Live again' : 'Live', false);
    if (resumed) for (const fn of listeners) fn({type: 'console.resumed'});
  };
  source.onerror = () => {
    show('Connection lost; reconnecting…', true);
    if (source.readyState === EventSource.CLOSED) {
      // Refused for good (pgfleet restarted and forgot the session, or the key was revoked): ask the
      // app whether the session still holds before trying again.
      retryTimer = setTimeout(async () => {
        if (await stillLoggedIn()) startLive(statusEl);
      }, 2000);
    }
  };
  for (const type of TYPES) source.addEventListener(type, dispatch);
  source.onmessage = dispatch;
}

export function stopLive() {
  clearTimeout(retryTimer);
  if (source) source.close();
  source = null;
}

export function endLive() {
  stopLive();
  lastId = null;
  if (statusEl) statusEl.hidden = true;
}
