// The database page's panels: connection strings, tasks with live logs, recent events, server log.
import {api, canAct, enc} from './api.js';
import {fill, h, state, table, time} from './dom.js';
import {confirmAction} from './dialog.js';

const ENDED = ['completed', 'failed', 'canceled'];

async function copy(text, status) {
  try {
    await navigator.clipboard.writeText(text);
    fill(status, 'Copied.');
  } catch (e) {
    fill(status, 'The browser refused the clipboard (' + e.message + '); select the text and copy it.');
  }
}

export function connectionPanel(base, getDb) {
  const user = h('select', {id: 'conn-user'});
  const reveal = h('button', {type: 'button'}, 'Reveal password');
  const box = h('div');
  const status = h('p', {class: 'muted', role: 'status'});
  const el = h('div', null,
    h('div', {class: 'filters'}, h('div', {class: 'field'}, h('label', {for: 'conn-user'}, 'User'), user), reveal),
    box, status);
  let shown = false;
  let signature = '';

  async function load() {
    try {
      const q = new URLSearchParams();
      if (user.value) q.set('user', user.value);
      if (shown) q.set('reveal', 'true');
      const c = await api.get(base + '/connection?' + q);
      reveal.textContent = shown ? 'Hide password' : 'Reveal password';
      fill(box, table('Connection strings', ['Node', 'Direct (migrations)', 'Pooled (applications)'],
        (c.instances || []).map((i) => [i.node_name, url(i.direct_url), url(i.pooled_url)]), 'No instances.'));
    } catch (e) {
      fill(status, h('span', {class: 'error', role: 'alert'}, e.message));
    }
  }

  function url(u) {
    if (!u) return h('span', {class: 'muted'}, 'no pooler');
    return h('span', {class: 'url'}, h('code', null, u),
      h('button', {type: 'button', class: 'small', onclick: () => copy(u, status)}, 'Copy'));
  }

  user.addEventListener('change', load);
  reveal.addEventListener('click', () => { shown = !shown; load(); });
  return {
    el,
    update() {
      const db = getDb();
      const users = (db.spec?.database_users || []).map((u) => u.username);
      const sig = users.join(',') + '|' + (db.instances || []).map((i) => i.port + ':' + i.pooler_port).join(',');
      if (sig === signature) return;
      signature = sig;
      const owner = (db.spec?.database_users || []).find((u) => u.db_owner)?.username;
      const chosen = user.value || owner || users[0] || '';
      fill(user, users.map((u) => h('option', {value: u}, u)));
      user.value = chosen;
      load();
    },
  };
}

export function tasksPanel(base, getDb) {
  const box = h('div');
  const logBox = h('div', {class: 'tasklog', 'aria-live': 'polite'});
  const el = h('div', null, box, logBox);
  let following = null;
  let timer = null;

  function nodeOf(instanceId) {
    const i = (getDb()?.instances || []).find((x) => x.id === instanceId);
    return i ? i.node_name : instanceId ? instanceId.slice(-11) : '';
  }

  async function update() {
    let list;
    try {
      list = await api.get(base + '/tasks?limit=20');
    } catch (e) {
      fill(box, h('p', {class: 'error', role: 'alert'}, e.message));
      return;
    }
    const headers = ['Task', 'Instance', 'Status', 'Created', 'Scheduled for', 'Error', ''];
    const rows = (list.tasks || []).map((t) => h('tr', {'data-task': t.task_id},
      h('td', null, t.type), h('td', null, nodeOf(t.instance_id)), h('td', null, state(t.status)),
      h('td', null, time(t.created_at)), h('td', null, time(t.scheduled_at)),
      h('td', {class: 'error small'}, t.error || ''),
      h('td', {class: 'actions'},
        h('button', {type: 'button', class: 'small', onclick: () => follow(t.task_id)}, 'Log'),
        t.status === 'scheduled' && canAct()
          ? h('button', {type: 'button', class: 'small', onclick: () => cancel(t)}, 'Cancel') : null)));
    fill(box, table('Tasks, newest first', headers, rows, 'No tasks yet.'));
  }

  async function cancel(t) {
    const done = await confirmAction({
      title: `Cancel the scheduled ${t.type}?`,
      body: h('p', null, 'It was scheduled for ', time(t.scheduled_at), '.'),
      okLabel: 'Cancel task',
      run: () => api.del(base + '/tasks/' + enc(t.task_id)),
    });
    if (done !== null) update();
  }

  function follow(taskId, onStatus) {
    clearTimeout(timer);
    following = {taskId, entries: [], after: 0, onStatus};
    poll();
  }

  async function poll() {
    const f = following;
    if (!f) return;
    let log;
    try {
      log = await api.get(base + '/tasks/' + enc(f.taskId) + '/log' + (f.after ? '?after_entry_id=' + f.after : ''));
    } catch (e) {
      fill(logBox, h('p', {class: 'error', role: 'alert'}, e.message));
      return;
    }
    if (f !== following) return;
    if (f.onStatus) f.onStatus(log.task_status);
    for (const entry of log.entries || []) {
      f.entries.push(entry);
      f.after = Math.max(f.after, entry.entry_id || 0);
    }
    fill(logBox,
      h('h3', null, 'Task ', h('code', null, f.taskId.slice(0, 8)), ' ', state(log.task_status)),
      h('ol', {class: 'log'}, f.entries.map((e) => h('li', null, time(e.timestamp), ' ', e.message))));
    if (!ENDED.includes(log.task_status)) {
      timer = setTimeout(poll, log.task_status === 'scheduled' ? 5000 : 500);
    } else {
      update();
    }
  }

  return {el, update, follow, dispose: () => { clearTimeout(timer); following = null; }};
}

export function eventsPanel(databaseId) {
  const list = h('ol', {class: 'events', reversed: true});
  const el = h('div', null, list);
  let events = [];
  const render = () => fill(list, events.map((e) => h('li', null, time(e.at), ' ', h('code', null, e.type), ' ',
    e.message)), events.length ? null : h('li', {class: 'muted'}, 'No events yet.'));
  return {
    el,
    async update() {
      try {
        const r = await api.get('/v1/events?limit=500&database_id=' + enc(databaseId));
        events = (r.events || []).slice(-20).reverse();
        render();
      } catch (e) {
        fill(list, h('li', {class: 'error', role: 'alert'}, e.message));
      }
    },
    add(e) {
      if (!e.event_id || events.some((x) => x.event_id === e.event_id)) return;
      events = [e, ...events].slice(0, 20);
      render();
    },
  };
}

export function serverLogPanel(base, getDb) {
  const node = h('select', {id: 'log-node'});
  const level = h('select', {id: 'log-level'},
    ['', 'debug', 'info', 'notice', 'log', 'warning', 'error', 'fatal', 'panic'].map((l) => h('option', {value: l}, l || 'all')));
  const source = h('select', {id: 'log-source'}, h('option', {value: 'postgres'}, 'PostgreSQL'),
    h('option', {value: 'pooler'}, 'PgBouncer'));
  const out = h('pre', {class: 'serverlog', tabindex: '0', 'aria-label': 'Server log lines'});
  const form = h('form', {class: 'filters', onsubmit: (e) => { e.preventDefault(); load(); }},
    h('div', {class: 'field'}, h('label', {for: 'log-node'}, 'Instance'), node),
    h('div', {class: 'field'}, h('label', {for: 'log-source'}, 'Source'), source),
    h('div', {class: 'field'}, h('label', {for: 'log-level'}, 'Level'), level),
    h('button', {type: 'submit'}, 'Show log'));
  let nodes = '';

  async function load() {
    if (!node.value) return;
    const q = new URLSearchParams({tail: '200', source: source.value});
    if (level.value) q.set('level', level.value);
    try {
      const r = await api.get(base + '/instances/' + enc(node.value) + '/logs?' + q);
      out.textContent = (r.lines || []).join('\n') || '(empty)';
    } catch (e) {
      out.textContent = e.message;
    }
  }

  return {
    el: h('div', null, form, out),
    update() {
      const names = (getDb().instances || []).map((i) => i.node_name);
      if (names.join(',') === nodes) return;
      nodes = names.join(',');
      const was = node.value;
      fill(node, names.map((n) => h('option', {value: n}, n)));
      if (names.includes(was)) node.value = was;
    },
  };
}
