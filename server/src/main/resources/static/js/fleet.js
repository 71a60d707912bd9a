// The fleet: hosts with their state and load, databases with their state, nodes and labels; filters
// by text, state and label. Refreshed from the event stream, never by reloading the page.
import {api, enc} from './api.js';
import {onEvent} from './live.js';
import {debounce, fill, h, section, state, table, time} from './dom.js';

const PAGE = 100;
const STATES = ['', 'available', 'degraded', 'creating', 'modifying', 'stopped', 'suspended', 'failed', 'deleting'];

export function fleetView(main) {
  const filters = {text: '', state: '', label: ''};
  let limit = PAGE;
  const hostsBox = h('div', {'aria-live': 'polite'});
  const dbBox = h('div');
  const status = h('p', {class: 'muted', role: 'status'});
  const text = h('input', {type: 'search', id: 'filter-text', placeholder: 'id or node', autocomplete: 'off'});
  const stateSel = h('select', {id: 'filter-state'}, STATES.map((s) => h('option', {value: s}, s || 'any')));
  const label = h('input', {type: 'text', id: 'filter-label', placeholder: 'team=billing', autocomplete: 'off'});
  const more = h('button', {type: 'button', hidden: true, onclick: () => { limit += PAGE; load(); }}, 'Show more');

  fill(main,
    h('h1', null, 'Fleet'),
    section('Hosts', hostsBox),
    section('Databases',
      h('form', {class: 'filters', role: 'search', onsubmit: (e) => e.preventDefault()},
        h('div', {class: 'field'}, h('label', {for: 'filter-text'}, 'Filter'), text),
        h('div', {class: 'field'}, h('label', {for: 'filter-state'}, 'State'), stateSel),
        h('div', {class: 'field'}, h('label', {for: 'filter-label'}, 'Label'), label)),
      status, dbBox, more));

  let hosts = [];
  let databases = [];
  let total = 0;

  async function load() {
    try {
      const params = new URLSearchParams({limit: String(Math.min(limit, 500))});
      if (filters.state) params.set('state', filters.state);
      if (/^[^=]+=.*$/.test(filters.label)) params.set('label', filters.label);
      const [h1, d1] = await Promise.all([api.get('/v1/hosts'), api.get('/v1/databases?' + params)]);
      hosts = Array.isArray(h1.hosts) ? h1.hosts : [];
      databases = d1.databases || [];
      total = d1.total ?? databases.length;
      renderHosts();
      renderDatabases();
    } catch (e) {
      fill(status, h('span', {class: 'error', role: 'alert'}, e.message));
    }
  }

  function renderHosts() {
    const count = {};
    for (const db of databases) for (const i of db.instances || []) count[i.host_id] = (count[i.host_id] || 0) + 1;
    fill(hostsBox, table('Hosts', ['Host', 'State', 'Load', 'Instances', 'Port range', 'PostgreSQL', 'Last seen'],
      hosts.map((x) => [
        x.host_id || x.id,
        state(x.state),
        hostLoad(x),
        x.instance_count ?? x.instances ?? count[x.host_id || x.id] ?? 0,
        x.port_range || '',
        (x.postgres_versions || []).join(', '),
        time(x.last_seen_at),
      ]), 'No hosts have registered.'));
  }

  function renderDatabases() {
    const q = filters.text.trim().toLowerCase();
    const shown = databases.filter((db) => !q || db.id.toLowerCase().includes(q)
      || (db.instances || []).some((i) => i.node_name.toLowerCase().includes(q)));
    fill(status, `${shown.length} shown of ${total} database${total === 1 ? '' : 's'}`);
    fill(dbBox, table('Databases', ['Database', 'State', 'Nodes', 'Ports', 'Labels', 'Created'],
      shown.map((db) => [
        h('a', {href: '#/databases/' + enc(db.id)}, db.id),
        state(db.state),
        (db.instances || []).map((i) => h('span', {class: 'node'}, i.node_name, ' ', state(i.state))),
        (db.instances || []).map((i) => i.port).join(', '),
        Object.entries(db.labels || {}).map(([k, v]) => h('span', {class: 'label'}, k + '=' + v)),
        time(db.created_at),
      ]), 'No databases match.'));
    more.hidden = databases.length >= total || limit >= 500;
  }

  text.addEventListener('input', () => { filters.text = text.value; renderDatabases(); });
  stateSel.addEventListener('change', () => { filters.state = stateSel.value; load(); });
  label.addEventListener('input', debounce(() => { filters.label = label.value.trim(); load(); }, 300));

  const refresh = debounce(load, 250);
  const off = onEvent((e) => {
    if (!e.type || e.type.startsWith('database.') || e.type.startsWith('instance.') || e.type.startsWith('host.')
        || e.type === 'console.resumed') refresh();
  });
  const timer = setInterval(load, 15000); // host heartbeats and load have no events
  load();
  return () => { off(); clearInterval(timer); };
}

function hostLoad(host) {
  const l = host.load ?? host.load_average ?? host.capacity?.load;
  if (l === undefined || l === null) return '';
  if (typeof l === 'number') return l.toFixed(2);
  if (Array.isArray(l)) return l.map((x) => Number(x).toFixed(2)).join(' ');
  if (typeof l === 'object') return Object.entries(l).map(([k, v]) => `${k} ${v}`).join(', ');
  return String(l);
}
