// A database: its instances (with their actions and activity), connection strings, tasks with live
// logs, recent events and an instance's server log. Kept current by the event stream.
import {api, canAct, enc} from './api.js';
import {onEvent} from './live.js';
import {debounce, fill, h, section, state, table} from './dom.js';
import {confirmAction, field} from './dialog.js';
import {activityChart} from './chart.js';
import {connectionPanel, eventsPanel, serverLogPanel, tasksPanel} from './panels.js';

const CAN = {
  stop: ['available', 'failed', 'error', 'unknown'],
  start: ['stopped', 'failed', 'error'],
  restart: ['available', 'failed', 'error'],
};

export function databaseView(main, id) {
  const base = '/v1/databases/' + enc(id);
  const head = h('div', {class: 'db-head'});
  const notice = h('div', {'aria-live': 'polite'});
  const instancesBox = h('div');
  const charts = new Map();
  let db = null;

  const tasks = tasksPanel(base, () => db);
  const events = eventsPanel(id);
  const conn = connectionPanel(base, () => db);
  const logs = serverLogPanel(base, () => db);

  fill(main, head, notice,
    section('Instances', instancesBox),
    section('Connection', conn.el),
    section('Tasks', tasks.el),
    section('Recent events', events.el),
    section('Server log', logs.el));

  async function load() {
    try {
      db = await api.get(base);
    } catch (e) {
      if (e.status === 404) {
        fill(main, h('h1', null, id), h('p', {class: 'error', role: 'alert'}, e.message),
          h('p', null, h('a', {href: '#/'}, 'Back to the fleet')));
        dispose();
        return;
      }
      fill(notice, h('p', {class: 'error', role: 'alert'}, e.message));
      return;
    }
    renderHead();
    renderInstances();
    conn.update();
    logs.update();
  }

  function renderHead() {
    const acts = canAct() ? h('div', {class: 'buttons'},
      h('a', {class: 'button', href: '#/databases/' + enc(id) + '/edit'}, 'Edit spec'),
      db.state === 'suspended'
        ? h('button', {type: 'button', onclick: unsuspend}, 'Unsuspend')
        : h('button', {type: 'button', onclick: suspend}, 'Suspend'),
      h('button', {type: 'button', class: 'danger', onclick: remove}, 'Delete'))
      : h('p', {class: 'muted'}, 'Read only: your key is a viewer key.');
    fill(head,
      h('p', {class: 'crumbs'}, h('a', {href: '#/'}, 'Fleet'), ' / ', id),
      h('h1', null, id, ' ', state(db.state)),
      h('p', null,
        Object.entries(db.labels || {}).map(([k, v]) => h('span', {class: 'label'}, k + '=' + v)),
        ' PostgreSQL ', db.spec?.postgres_version || '', ' · database ', db.spec?.database_name || ''),
      acts);
  }

  function renderInstances() {
    const headers = ['Node', 'Host', 'Role', 'Port', 'Pooler port', 'State', 'Pending restart', 'Activity'];
    if (canAct()) headers.push('Actions');
    const rows = (db.instances || []).map((i) => {
      const cells = [
        h('th', {scope: 'row'}, i.node_name),
        h('td', null, i.host_id || ''),
        h('td', null, i.role || 'primary'),
        h('td', null, i.port ?? ''),
        h('td', null, i.pooler_port ?? '—'),
        h('td', null, state(i.state), i.error ? h('div', {class: 'error small'}, i.error) : null,
          (i.drift || []).length ? h('div', {class: 'warn small'}, 'drift: ' + i.drift.join('; ')) : null,
          i.storage && i.storage.writable === false
            ? h('div', {class: 'error small'}, 'storage: ' + i.storage.message + ' (' + i.storage.directory + ')') : null),
        h('td', null, i.pending_restart ? 'yes' : 'no'),
        h('td', null, charts.get(i.id) || activityChart([], i.node_name)),
      ];
      if (canAct()) {
        cells.push(h('td', {class: 'actions'},
          h('button', {type: 'button', disabled: !CAN.stop.includes(i.state), onclick: () => act(i, 'stop')}, 'Stop'),
          h('button', {type: 'button', disabled: !CAN.start.includes(i.state), onclick: () => act(i, 'start')}, 'Start'),
          h('button', {type: 'button', disabled: !CAN.restart.includes(i.state), onclick: () => restart(i)},
            'Restart')));
      }
      return h('tr', {'data-node': i.node_name}, cells);
    });
    fill(instancesBox, table('Instances of ' + id, headers, rows, 'No instances.'));
  }

  async function sampleCharts() {
    if (!db) return;
    for (const i of db.instances || []) {
      try {
        const a = await api.get(base + '/instances/' + enc(i.id) + '/activity');
        const chart = activityChart(a.samples || [], i.node_name);
        charts.set(i.id, chart);
        const cell = instancesBox.querySelector(`tr[data-node="${CSS.escape(i.node_name)}"] td:nth-of-type(7)`);
        if (cell) fill(cell, chart);
      } catch (e) {
        charts.delete(i.id); // the instance went away; the next load drops its row
      }
    }
  }

  async function act(instance, verb) {
    const task = await confirmAction({
      title: `${verb[0].toUpperCase() + verb.slice(1)} ${instance.node_name} of ${id}?`,
      body: h('p', null, verb === 'stop'
        ? 'Its port stays reserved and its data is kept; clients are disconnected.'
        : 'PostgreSQL starts on its reserved port.'),
      okLabel: verb[0].toUpperCase() + verb.slice(1),
      run: () => api.post(base + '/instances/' + enc(instance.id) + '/' + verb, {}),
    });
    if (task) accepted(task.task);
  }

  async function restart(instance) {
    const now = h('input', {type: 'radio', name: 'when', value: 'now', checked: true, id: 'when-now'});
    const later = h('input', {type: 'radio', name: 'when', value: 'at', id: 'when-at'});
    const at = h('input', {type: 'datetime-local', id: 'restart-at'});
    at.addEventListener('focus', () => { later.checked = true; });
    const task = await confirmAction({
      title: `Restart ${instance.node_name} of ${id}?`,
      body: h('fieldset', null, h('legend', null, 'When'),
        h('div', {class: 'radio'}, now, h('label', {for: 'when-now'}, 'Now')),
        h('div', {class: 'radio'}, later, h('label', {for: 'when-at'}, 'At')),
        field('Restart at (your local time)', at)),
      okLabel: 'Restart',
      run: () => {
        const body = {};
        if (later.checked) {
          if (!at.value) throw new Error('Choose the time of the restart, or restart now.');
          body.scheduled_at = new Date(at.value).toISOString();
        }
        return api.post(base + '/instances/' + enc(instance.id) + '/restart', body);
      },
    });
    if (task) accepted(task.task);
  }

  async function suspend() {
    const reason = h('input', {type: 'text', id: 'suspend-reason', maxlength: 500});
    const task = await confirmAction({
      title: `Suspend ${id}?`,
      body: [h('p', null, 'Every instance stops; start and restart are refused until it is unsuspended.'),
        field('Reason', reason)],
      okLabel: 'Suspend',
      run: () => api.post(base + '/suspend', {reason: reason.value || null}),
    });
    if (task) accepted(task.task);
  }

  async function unsuspend() {
    const task = await confirmAction({
      title: `Unsuspend ${id}?`, body: h('p', null, 'Its instances start again.'), okLabel: 'Unsuspend',
      run: () => api.post(base + '/unsuspend', {}),
    });
    if (task) accepted(task.task);
  }

  async function remove() {
    const typed = h('input', {type: 'text', id: 'delete-confirm', autocomplete: 'off', spellcheck: 'false'});
    const task = await confirmAction({
      title: `Delete ${id}?`,
      body: [h('p', null, 'Its instances are stopped, their data directories removed and their ports freed. ',
        'This cannot be undone.'), field(`Type ${id} to confirm`, typed)],
      okLabel: 'Delete',
      run: () => {
        if (typed.value !== id) throw new Error(`Type ${id} exactly to delete it.`);
        return api.del(base);
      },
    });
    if (task) {
      accepted(task.task);
    }
  }

  function accepted(task) {
    const line = h('p', {class: 'ok', role: 'status'});
    const when = task.scheduled_at ? ' for ' + new Date(task.scheduled_at).toLocaleString() : '';
    const say = (status) => fill(line, `${task.type} task ${status}${status === 'scheduled' ? when : ''}`);
    say(task.status);
    fill(notice, line);
    tasks.follow(task.task_id, say);
    load();
  }

  const refresh = debounce(() => { load(); tasks.update(); }, 200);
  const off = onEvent((e) => {
    if (e.type === 'console.resumed' || e.database_id === id) {
      events.add(e);
      refresh();
    }
  });
  const chartTimer = setInterval(sampleCharts, 5000);
  load().then(() => { tasks.update(); events.update(); sampleCharts(); });

  function dispose() {
    off();
    clearInterval(chartTimer);
    tasks.dispose();
  }
  return dispose;
}
