// The pgfleet console: log in with an API key (exchanged for a session cookie), then hash routes.
import {canAct, login, logout, onUnauthorized, restore, session} from './api.js';
import {endLive, startLive} from './live.js';
import {fill, h} from './dom.js';
import {fleetView} from './fleet.js';
import {databaseView} from './database.js';
import {createView, editView} from './form.js';
import {accessView} from './access.js';
import {field} from './dialog.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');
const liveEl = document.getElementById('live');
let dispose = () => {};

function loginView(reason) {
  dispose();
  dispose = () => {};
  nav.hidden = true;
  who.hidden = true;
  endLive();
  const key = h('input', {type: 'password', id: 'api-key', required: true, autocomplete: 'off',
    spellcheck: 'false', placeholder: 'pgf_…'});
  const msg = h('div');
  const form = h('form', {class: 'login', onsubmit: async (e) => {
    e.preventDefault();
    fill(msg);
    try {
      await login(key.value);
      key.value = ''; // the key leaves the page: only the HttpOnly session cookie remains
      started();
    } catch (err) {
      key.value = '';
      fill(msg, h('p', {class: 'error', role: 'alert'}, err.message));
      key.focus();
    }
  }},
  h('h1', null, 'Log in to pgfleet'),
  reason ? h('p', {class: 'warn', role: 'status'}, reason) : null,
  field('API key', key, 'An admin, operator or viewer key; it is exchanged for a session and not kept.'),
  h('button', {type: 'submit', class: 'primary'}, 'Log in'), msg);
  fill(main, form);
  key.focus();
}

function started() {
  const s = session.current;
  nav.hidden = false;
  who.hidden = false;
  for (const a of nav.querySelectorAll('[data-needs]')) a.hidden = !canAct();
  fill(document.getElementById('who-text'), `${s.role} · tenant ${s.tenant}`);
  startLive(liveEl, async () => {
    try {
      if (await restore()) return true;
    } catch (e) {
      return true; // pgfleet is not answering yet: keep trying
    }
    session.current = null;
    loginView('Your session has ended; log in again.');
    return false;
  });
  route();
}

async function route() {
  if (!session.current) return;
  dispose();
  dispose = () => {};
  const path = decodeURIComponent((location.hash || '#/').slice(1));
  for (const a of nav.querySelectorAll('a')) {
    a.toggleAttribute('aria-current', a.getAttribute('href') === (location.hash || '#/'));
    if (a.hasAttribute('aria-current')) a.setAttribute('aria-current', 'page');
  }
  let m;
  let result;
  if (path === '/' || path === '') result = fleetView(main);
  else if (path === '/create' && canAct()) result = createView(main);
  else if (path === '/access' && canAct()) result = accessView(main);
  else if ((m = path.match(/^\/databases\/([^/]+)\/edit$/)) && canAct()) result = editView(main, m[1]);
  else if ((m = path.match(/^\/databases\/([^/]+)$/))) result = databaseView(main, m[1]);
  else {
    fill(main, h('h1', null, 'Not found'), h('p', null, h('a', {href: '#/'}, 'Back to the fleet')));
    return;
  }
  const d = await result;
  dispose = typeof d === 'function' ? d : () => {};
  main.focus({preventScroll: true});
}

document.getElementById('logout').addEventListener('click', async () => {
  try {
    await logout();
  } finally {
    loginView('You are logged out.');
  }
});

onUnauthorized((e) => {
  session.current = null;
  loginView(e.message);
});
window.addEventListener('hashchange', route);

restore().then((s) => (s ? started() : loginView()), (e) => fill(main, h('p', {class: 'error', role: 'alert'}, e.message)));
