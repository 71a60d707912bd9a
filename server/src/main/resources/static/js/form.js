// Create a database, or update its spec: nodes, users, settings and pooler. The API's field errors
// (spec.nodes[0].port …) are shown next to the field they name; the rest above the button.
import {api, enc} from './api.js';
import {fill, h} from './dom.js';

const csv = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);

export async function editView(main, id) {
  let db;
  try {
    db = await api.get('/v1/databases/' + enc(id));
  } catch (e) {
    fill(main, h('h1', null, 'Update ' + id), h('p', {class: 'error', role: 'alert'}, e.message));
    return () => {};
  }
  return formView(main, db);
}

export function createView(main) {
  return formView(main, null);
}

function formView(main, db) {
  const editing = !!db;
  const spec = db ? structuredClone(db.spec || {}) : {};
  const model = {
    nodes: (spec.nodes || [{name: 'n1'}]).map((n) => ({...n})),
    users: (spec.database_users || [{username: 'admin', db_owner: true}]).map((u) => ({...u})),
  };
  const summary = h('div', {class: 'summary'});
  const nodesBox = h('div');
  const usersBox = h('div');
  let seq = 0;

  function input(label, fieldPath, attrs = {}) {
    const id = 'in-' + ++seq;
    const el = h('input', {id, 'data-field': fieldPath, ...attrs});
    return {el, box: h('div', {class: 'field'}, h('label', {for: id}, label), el)};
  }

  const idIn = input('Database id', 'id', {type: 'text', required: true, value: db?.id || '', disabled: editing,
    autocomplete: 'off', spellcheck: 'false', pattern: '[a-z0-9-]+'});
  const nameIn = input('Database name', 'spec.database_name', {type: 'text', value: spec.database_name || '',
    placeholder: 'same as the id', autocomplete: 'off'});
  const versionIn = h('select', {id: 'in-version', 'data-field': 'spec.postgres_version', disabled: editing},
    ['18', '17', '16'].map((v) => h('option', {value: v}, v)));
  versionIn.value = spec.postgres_version || '17';
  // The versions the hosts can run (bundled and system ones), newest first.
  api.get('/v1/hosts').then((r) => {
    const versions = [...new Set((r.hosts || []).flatMap((x) => x.postgres_versions || []))]
      .map((v) => String(v).split('.')[0]).filter((v, i, all) => all.indexOf(v) === i)
      .sort((a, b) => Number(b) - Number(a));
    if (!versions.length) return;
    const chosen = versionIn.value;
    fill(versionIn, versions.map((v) => h('option', {value: v}, v)));
    versionIn.value = versions.includes(chosen) ? chosen : versions.includes('17') ? '17' : versions[0];
  }, () => {});
  const labelsIn = input('Labels', 'labels', {type: 'text', autocomplete: 'off', placeholder: 'team=billing, env=prod',
    value: Object.entries(db?.labels || {}).map(([k, v]) => k + '=' + v).join(', ')});
  const policyIn = h('select', {id: 'in-policy', 'data-field': 'spec.restart_policy'},
    h('option', {value: 'always'}, 'always'), h('option', {value: 'never'}, 'never'));
  policyIn.value = spec.restart_policy || 'always';
  const confIn = h('textarea', {id: 'in-conf', 'data-field': 'spec.postgresql_conf', rows: 4, spellcheck: 'false',
    placeholder: 'work_mem = 8MB\nmax_connections = 200'});
  confIn.value = Object.entries(spec.postgresql_conf || {}).map(([k, v]) => k + ' = ' + v).join('\n');
  const pooler = spec.pooler || {};
  const poolOn = h('input', {type: 'checkbox', id: 'in-pool', 'data-field': 'spec.pooler.enabled', checked: !!pooler.enabled});
  const poolMode = h('select', {id: 'in-pool-mode', 'data-field': 'spec.pooler.pool_mode'},
    ['transaction', 'session', 'statement'].map((m) => h('option', {value: m}, m)));
  poolMode.value = pooler.pool_mode || 'transaction';
  const poolSize = input('Default pool size', 'spec.pooler.default_pool_size',
    {type: 'number', min: 1, value: pooler.default_pool_size ?? ''});
  const maxConn = input('Max client connections', 'spec.pooler.max_client_conn',
    {type: 'number', min: 1, value: pooler.max_client_conn ?? ''});

  function renderNodes() {
    fill(nodesBox, model.nodes.map((n, i) => {
      const p = `spec.nodes[${i}]`;
      const name = input(`Name of node ${i + 1}`, p + '.name', {type: 'text', value: n.name || '', required: true});
      const port = input(`Port of node ${i + 1}`, p + '.port', {type: 'number', value: n.port ?? '', placeholder: 'auto'});
      const hosts = input(`Hosts of node ${i + 1}`, p + '.host_ids',
        {type: 'text', value: (n.host_ids || []).join(', '), placeholder: 'any'});
      onEdit(name.el, () => { n.name = name.el.value.trim(); });
      onEdit(port.el, () => { n.port = port.el.value ? Number(port.el.value) : null; });
      onEdit(hosts.el, () => { n.host_ids = csv(hosts.el.value); });
      return h('div', {class: 'row', 'data-field': p}, name.box, port.box, hosts.box,
        model.nodes.length > 1 ? h('button', {type: 'button', class: 'small',
          onclick: () => { model.nodes.splice(i, 1); renderNodes(); }}, `Remove node ${i + 1}`) : null);
    }));
  }

  function renderUsers() {
    fill(usersBox, model.users.map((u, i) => {
      const p = `spec.database_users[${i}]`;
      const name = input(`Username ${i + 1}`, p + '.username', {type: 'text', value: u.username || '', required: true});
      const pw = input(`Password of user ${i + 1}`, p + '.password', {type: 'password', autocomplete: 'new-password',
        placeholder: editing && u.username ? 'unchanged' : 'generated'});
      const attrs = input(`Attributes of user ${i + 1}`, p + '.attributes',
        {type: 'text', value: (u.attributes || []).join(', '), placeholder: 'LOGIN, CREATEDB'});
      const ownerId = 'owner-' + ++seq;
      const owner = h('input', {type: 'checkbox', id: ownerId, 'data-field': p + '.db_owner', checked: !!u.db_owner});
      onEdit(name.el, () => { u.username = name.el.value.trim(); });
      onEdit(pw.el, () => { u.password = pw.el.value || undefined; });
      onEdit(attrs.el, () => { u.attributes = csv(attrs.el.value); });
      onEdit(owner, () => { u.db_owner = owner.checked; });
      return h('div', {class: 'row', 'data-field': p}, name.box, pw.box, attrs.box,
        h('div', {class: 'field check'}, owner, h('label', {for: ownerId}, 'Database owner')),
        h('button', {type: 'button', class: 'small', onclick: () => { model.users.splice(i, 1); renderUsers(); }},
          `Remove user ${i + 1}`));
    }));
  }

  function request() {
    const labels = {};
    for (const pair of csv(labelsIn.el.value)) {
      const eq = pair.indexOf('=');
      labels[eq < 0 ? pair : pair.slice(0, eq).trim()] = eq < 0 ? '' : pair.slice(eq + 1).trim();
    }
    const conf = {};
    for (const line of confIn.value.split('\n')) {
      if (!line.trim() || line.trim().startsWith('#')) continue;
      const eq = line.indexOf('=');
      conf[(eq < 0 ? line : line.slice(0, eq)).trim()] = eq < 0 ? '' : line.slice(eq + 1).trim().replace(/^'(.*)'$/, '$1');
    }
    const out = spec; // fields this form does not show are sent back as they were
    out.database_name = nameIn.el.value.trim() || idIn.el.value.trim();
    out.postgres_version = versionIn.value;
    out.nodes = model.nodes.map((n) => clean({...n}));
    out.database_users = model.users.map((u) => clean({...u}));
    out.postgresql_conf = conf;
    out.restart_policy = policyIn.value;
    if (poolOn.checked || spec.pooler) {
      out.pooler = clean({...(spec.pooler || {}), enabled: poolOn.checked, pool_mode: poolMode.value,
        default_pool_size: poolSize.el.value ? Number(poolSize.el.value) : null,
        max_client_conn: maxConn.el.value ? Number(maxConn.el.value) : null});
    }
    return editing ? {labels, spec: out} : {id: idIn.el.value.trim(), labels, spec: out};
  }

  const submit = h('button', {type: 'submit', class: 'primary'}, editing ? 'Update spec' : 'Create database');
  const form = h('form', {novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    clearErrors(form, summary);
    submit.disabled = true;
    try {
      const body = request();
      const path = editing ? '/v1/databases/' + enc(db.id) : '/v1/databases';
      await api.post(path, body);
      location.hash = '#/databases/' + enc(editing ? db.id : body.id);
    } catch (err) {
      showErrors(form, summary, err);
    } finally {
      submit.disabled = false;
    }
  }},
  h('fieldset', null, h('legend', null, 'Database'), idIn.box, nameIn.box,
    h('div', {class: 'field'}, h('label', {for: 'in-version'}, 'PostgreSQL version'), versionIn),
    labelsIn.box, h('div', {class: 'field'}, h('label', {for: 'in-policy'}, 'Restart policy'), policyIn)),
  h('fieldset', null, h('legend', null, 'Nodes'), nodesBox,
    h('button', {type: 'button', onclick: () => { model.nodes.push({name: 'n' + (model.nodes.length + 1)}); renderNodes(); }},
      'Add node')),
  h('fieldset', null, h('legend', null, 'Users'), usersBox,
    h('button', {type: 'button', onclick: () => { model.users.push({username: ''}); renderUsers(); }}, 'Add user')),
  h('fieldset', null, h('legend', null, 'Settings'),
    h('div', {class: 'field'}, h('label', {for: 'in-conf'}, 'postgresql.conf (one name = value a line)'), confIn)),
  h('fieldset', null, h('legend', null, 'Pooler'),
    h('div', {class: 'field check'}, poolOn, h('label', {for: 'in-pool'}, 'PgBouncer in front of every instance')),
    h('div', {class: 'field'}, h('label', {for: 'in-pool-mode'}, 'Pool mode'), poolMode), poolSize.box, maxConn.box),
  summary, submit);

  renderNodes();
  renderUsers();
  fill(main, h('p', {class: 'crumbs'}, h('a', {href: '#/'}, 'Fleet'), editing ? [' / ', h('a',
    {href: '#/databases/' + enc(db.id)}, db.id)] : null),
  h('h1', null, editing ? 'Update ' + db.id : 'Create a database'), form);
  return () => {};
}

/** Typing, pasting, clearing and autofill all end in an input or a change event. */
function onEdit(el, fn) {
  el.addEventListener('input', fn);
  el.addEventListener('change', fn);
}

function clean(o) {
  for (const k of Object.keys(o)) if (o[k] === null || o[k] === undefined || o[k] === '') delete o[k];
  return o;
}

function clearErrors(form, summary) {
  form.querySelectorAll('.field-error').forEach((e) => e.remove());
  form.querySelectorAll('[aria-invalid]').forEach((e) => { e.removeAttribute('aria-invalid'); e.removeAttribute('aria-describedby'); });
  fill(summary);
}

/** Each field error goes after the input whose data-field is the longest prefix of its path. */
function showErrors(form, summary, err) {
  const targets = [...form.querySelectorAll('[data-field]')];
  const unplaced = [];
  let n = 0;
  for (const fe of err.fieldErrors) {
    const path = fe.field || '';
    let best = null;
    for (const t of targets) {
      const f = t.dataset.field;
      if ((path === f || path.startsWith(f + '.') || path.startsWith(f + '[')) && (!best || f.length > best.dataset.field.length)) best = t;
    }
    if (!best) {
      unplaced.push(`${path}: ${fe.message}`);
      continue;
    }
    const id = 'err-' + ++n;
    const p = h('p', {class: 'field-error', id}, path === best.dataset.field ? fe.message : `${path}: ${fe.message}`);
    const input = best.matches('input, select, textarea') ? best : null;
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      input.setAttribute('aria-describedby', ((input.getAttribute('aria-describedby') || '') + ' ' + id).trim());
      input.closest('.field').append(p);
    } else {
      best.append(p);
    }
  }
  fill(summary, h('div', {class: 'error', role: 'alert'}, h('p', null, err.message),
    unplaced.length ? h('ul', null, unplaced.map((u) => h('li', null, u))) : null));
  const first = form.querySelector('[aria-invalid]');
  if (first) first.focus();
}
