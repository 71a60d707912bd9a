// A small SVG line chart of an instance's recent activity: transactions per second and connections,
// each scaled to its own maximum. The numbers are also in its accessible name and beside it.
const NS = 'http://www.w3.org/2000/svg';
const W = 160;
const H = 36;

function path(values, max, count) {
  let d = '';
  values.forEach((v, i) => {
    if (v === null || v === undefined) return;
    const x = count <= 1 ? W : (i / (count - 1)) * W;
    const y = H - 2 - (max > 0 ? (v / max) * (H - 4) : 0);
    d += (d && values[i - 1] !== null && values[i - 1] !== undefined ? 'L' : 'M') + x.toFixed(1) + ' ' + y.toFixed(1);
  });
  return d;
}

export function activityChart(samples, node) {
  const tps = samples.map((s) => s.tps);
  const conns = samples.map((s) => s.connections);
  const last = samples[samples.length - 1];
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('width', W);
  svg.setAttribute('height', H);
  svg.setAttribute('class', 'chart');
  svg.setAttribute('role', 'img');
  const summary = last
    ? `Activity of ${node}: ${last.tps ?? 0} transactions per second, ${last.connections} connections`
    : `Activity of ${node}: sampling starts in a few seconds`;
  svg.setAttribute('aria-label', summary);
  const title = document.createElementNS(NS, 'title');
  title.textContent = summary;
  svg.append(title);
  for (const [values, cls] of [[tps, 'tps'], [conns, 'conns']]) {
    const max = Math.max(1, ...values.filter((v) => v !== null && v !== undefined));
    const p = document.createElementNS(NS, 'path');
    p.setAttribute('d', path(values, max, values.length));
    p.setAttribute('class', cls);
    svg.append(p);
  }
  const legend = document.createElement('span');
  legend.className = 'legend';
  legend.textContent = last ? `${last.tps ?? '–'} tps · ${last.connections} conn` : 'sampling…';
  const box = document.createElement('span');
  box.className = 'activity';
  box.append(svg, legend);
  return box;
}
