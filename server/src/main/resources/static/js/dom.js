// Elements are built with the DOM API, never from HTML strings, so no name or message can inject markup.

/** h('button', {type: 'button', onclick: f}, 'Stop') */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of [children].flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

/** Replaces the children of el. */
export function fill(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

export function state(s) {
  const name = s || 'unknown';
  return h('span', {class: 'state state-' + name.replace(/[^a-z_]/g, '')}, name);
}

export function time(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return h('time', {datetime: iso, title: iso}, d.toLocaleString());
}

/** A table with a caption (the accessible name) and a header row; rows are arrays of cells or <tr>s. */
export function table(caption, headers, rows, empty = 'None.') {
  const body = h('tbody');
  for (const row of rows) {
    body.append(row instanceof Node ? row : h('tr', null, row.map((c) => h('td', null, c))));
  }
  if (!rows.length) body.append(h('tr', null, h('td', {colspan: headers.length, class: 'muted'}, empty)));
  return h('div', {class: 'scroll'},
    h('table', null,
      h('caption', null, caption),
      h('thead', null, h('tr', null, headers.map((t) => h('th', {scope: 'col'}, t)))),
      body));
}

export function section(title, ...children) {
  const id = 'sec-' + title.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  return h('section', {'aria-labelledby': id}, h('h2', {id}, title), children);
}

/** Runs fn at most once per `ms`, the last call winning. */
export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

export function message(el, text, kind = 'error') {
  fill(el, text ? h('p', {class: kind, role: kind === 'error' ? 'alert' : 'status'}, text) : null);
}
