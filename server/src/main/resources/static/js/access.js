// Tenants (admins), API keys (admins: all; operators: their tenant's) and the audit trail.
import {api, enc, isAdmin} from './api.js';
import {fill, h, section, table, time} from './dom.js';
import {confirmAction, field} from './dialog.js';

export function accessView(main) {
  const tenantsBox = h('div');
  const keysBox = h('div');
  const auditBox = h('div');
  const newKey = h('div', {'aria-live': 'polite'});
  let tenants = [];

  fill(main, h('h1', null, 'Access'),
    isAdmin() ? section('Tenants', tenantForm(), tenantsBox) : null,
    section('API keys', keyForm(), newKey, keysBox),
    section('Audit', auditBox));

  function tenantForm() {
    const name = h('input', {type: 'text', id: 'tenant-name', required: true, autocomplete: 'off'});
    const msg = h('div');
    return h('form', {class: 'filters', onsubmit: async (e) => {
      e.preventDefault();
      try {
        await api.post('/v1/tenants', {name: name.value.trim()});
        name.value = '';
        fill(msg);
        load();
      } catch (err) {
        fill(msg, h('p', {class: 'error', role: 'alert'}, err.message));
      }
    }}, field('New tenant', name), h('button', {type: 'submit'}, 'Create tenant'), msg);
  }

  function keyForm() {
    const name = h('input', {type: 'text', id: 'key-name', required: true, autocomplete: 'off'});
    const role = h('select', {id: 'key-role'}, ['viewer', 'operator', 'admin'].map((r) => h('option', {value: r}, r)));
    const tenant = h('input', {type: 'text', id: 'key-tenant', autocomplete: 'off', placeholder: 'your own'});
    const msg = h('div');
    return h('form', {class: 'filters', onsubmit: async (e) => {
      e.preventDefault();
      try {
        const body = {name: name.value.trim(), role: role.value};
        if (tenant.value.trim()) body.tenant = tenant.value.trim();
        const created = await api.post('/v1/api-keys', body);
        name.value = '';
        fill(msg);
        fill(newKey, h('div', {class: 'ok', role: 'status'},
          h('p', null, `Key ${created.api_key.id} (${created.api_key.role}) created. It is shown only now:`),
          h('code', {class: 'secret'}, created.key)));
        load();
      } catch (err) {
        fill(msg, h('p', {class: 'error', role: 'alert'}, err.message));
      }
    }}, field('Key name', name), field('Role', role), isAdmin() ? field('Tenant', tenant) : null,
    h('button', {type: 'submit'}, 'Create key'), msg);
  }

  const tenantName = (id) => tenants.find((t) => t.id === id)?.name || id;

  async function load() {
    try {
      if (isAdmin()) {
        tenants = (await api.get('/v1/tenants')).tenants || [];
        fill(tenantsBox, table('Tenants', ['Name', 'Id', 'Created'],
          tenants.map((t) => [t.name, h('code', null, t.id), time(t.created_at)])));
      }
      const keys = (await api.get('/v1/api-keys')).api_keys || [];
      fill(keysBox, table('API keys', ['Key', 'Name', 'Role', 'Tenant', 'Created', 'Last used', 'Revoked', ''],
        keys.map((k) => [h('code', null, k.id), k.name, k.role, tenantName(k.tenant_id), time(k.created_at),
          time(k.last_used_at), time(k.revoked_at),
          k.revoked_at ? '' : h('button', {type: 'button', class: 'small danger', onclick: () => revoke(k)}, 'Revoke')])));
      const audit = await api.get('/v1/audit?limit=100');
      fill(auditBox, table('Audit, newest first', ['When', 'Key', 'Action', 'Outcome', 'Status', 'Detail'],
        (audit.audit || []).map((a) => [time(a.at), a.key_id || '—', a.action, a.outcome, a.status, a.detail || ''])));
    } catch (e) {
      fill(auditBox, h('p', {class: 'error', role: 'alert'}, e.message));
    }
  }

  async function revoke(k) {
    const done = await confirmAction({
      title: `Revoke key ${k.id} (${k.name})?`,
      body: h('p', null, 'Its next call, and every console session opened with it, is refused at once.'),
      okLabel: 'Revoke',
      run: () => api.del('/v1/api-keys/' + enc(k.id)),
    });
    if (done) load();
  }

  load();
  return () => {};
}
