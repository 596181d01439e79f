// The timeline page: draws a run's record (the JSON in #record-data) on a canvas.
//
//   lanes      the tester's lane on top (checks, violations, the test's begin and end),
//              then one lane per peer: its role and term as a coloured band, its axis
//   RPCs       an arrow from sender (at sent) to receiver (at handled), a faint line back
//              (at done); a lost one stops where it was lost, at a red cross
//   shades     a cut-off peer's lane hatched, a crashed one greyed; unreliable and
//              long-reordering periods tinted on the tester's lane
//   marks      applies and commits as ticks, Start() as a diamond, checks and violations,
//              departures from a calm run (labsim --sim-shrink) as a line under a ▼
//
// Only what lies in the visible time range is drawn, on a canvas: a whole 2-minute run of
// 20,000 RPCs redraws in about 150 ms, a few seconds of it in a few ms, and hovering
// redraws only the highlight over a kept copy of the scene. After each draw, <body data-*>
// holds what was drawn (lanes, arrows, lost, marks, drawms): the project's browser test
// reads it, and window.timeline offers the view to the browser's console.
'use strict';

(function () {
  const D = JSON.parse(document.getElementById('record-data').textContent);
  const R = D.rpc;
  const N = R.id.length;
  const ROLE_COLOURS = ['#dfe3e8', '#f0a830', '#2e9d4a', '#555b63'];
  const ROLE_NAMES = ['follower', 'candidate', 'leader', 'down'];
  const KIND_COLOURS = {
    RequestVote: '#e06c00', AppendEntries: '#1f5fbf', heartbeat: '#8fb3e8',
    InstallSnapshot: '#8e44ad'
  };
  const OTHER_COLOUR = '#7a7f87';
  const LOST = '#d0312d';
  const MARK_TYPES = {
    apply: ['applies', '#2e9d4a'], commit: ['commits', '#14632c'],
    start: ['Start()', '#1f5fbf'], 'start-refused': ['Start()', '#9aa3ad'],
    'check-ok': ['checks', '#2e9d4a'], 'check-fail': ['checks', '#d0312d'],
    violation: ['violations', '#d0312d'], test: ['test', '#1d232b'],
    network: ['network', '#7a7f87'], departure: ['departures', '#c2185b'],
    other: ['other', '#7a7f87']
  };
  const LEFT = 96, RIGHT = 18, AXIS_H = 26, TESTER_H = 40, LANE_H = 70;
  const BAND_Y = 6, BAND_H = 15, AXIS_Y = 46;

  // ---- derived per-RPC columns ----
  const methodShort = D.methods.map(m => m.slice(m.lastIndexOf('.') + 1));
  const kindOf = new Array(N);
  const kinds = [];
  for (let i = 0; i < N; i++) {
    let k = methodShort[R.m[i]];
    if (k === 'AppendEntries' && R.hb[i]) k = 'heartbeat';
    kindOf[i] = k;
    if (!kinds.includes(k)) kinds.push(k);
  }
  const KIND_ORDER = ['RequestVote', 'AppendEntries', 'heartbeat', 'InstallSnapshot'];
  kinds.sort((a, b) => {
    const ia = KIND_ORDER.indexOf(a), ib = KIND_ORDER.indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || (a < b ? -1 : a > b ? 1 : 0);
  });
  // Packed dicts ([schema, values...], see timeline_model.Packer) back to objects.
  const unpack = x => {
    if (!Array.isArray(x)) return x.v;
    const o = {}, keys = D.schemas[x[0]];
    for (let j = 0; j < keys.length; j++) o[keys[j]] = x[j + 1];
    return o;
  };
  const kindColour = k => KIND_COLOURS[k] || OTHER_COLOUR;
  const sent = Float64Array.from(R.sent);
  const handled = new Float64Array(N), done = new Float64Array(N);
  let longest = 0;
  for (let i = 0; i < N; i++) {
    handled[i] = R.handled[i] < 0 ? -1 : sent[i] + R.handled[i];
    done[i] = sent[i] + R.done[i];
    longest = Math.max(longest, R.done[i]);
  }

  // ---- filters ----
  const show = { peer: {}, kind: {}, outcome: {}, mark: {} };
  for (let p = 0; p < D.peers; p++) show.peer[p] = true;
  kinds.forEach(k => { show.kind[k] = true; });
  D.outcomes.forEach((o, i) => { show.outcome[i] = true; });
  Object.values(MARK_TYPES).forEach(([name]) => { show.mark[name] = true; });

  // ---- view (microseconds) ----
  const END = Math.max(D.t_end, 1);
  const PAD = END * 0.01;
  let v0 = -PAD, v1 = END + PAD;
  let selected = null;       // {type: 'rpc'|'mark', i}
  let hover = null;
  let cursorX = null;        // the mouse's x over the chart, for the time cursor

  const canvas = document.getElementById('chart');
  const ctx = canvas.getContext('2d');
  const tip = document.getElementById('tip');
  let width = 0, height = 0, plotW = 0;
  let hits = [];             // [x1, y1, x2, y2, type, index] of what was last drawn

  const X = t => LEFT + (t - v0) / (v1 - v0) * plotW;
  const T = x => v0 + (x - LEFT) / plotW * (v1 - v0);
  const laneTop = p => AXIS_H + TESTER_H + p * LANE_H;
  const laneY = p => laneTop(p) + AXIS_Y;
  // seconds to the microsecond, without trailing zeros past the millisecond: 1.000 s, 0.289412 s
  const fmt = us => (us / 1e6).toFixed(6).replace(/(\.\d{3}\d*?)0+$/, '$1') + ' s';
  const secs = us => (us / 1e6).toFixed(3);

  function size() {
    const dpr = window.devicePixelRatio || 1;
    width = Math.max(canvas.parentElement.clientWidth, 480);
    height = AXIS_H + TESTER_H + D.peers * LANE_H + 8;
    plotW = width - LEFT - RIGHT;
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
    canvas.style.height = height + 'px';
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  }

  function niceStep(span, pixels) {
    const raw = span / Math.max(1, pixels / 110);
    const p = Math.pow(10, Math.floor(Math.log10(raw)));
    for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
    return 10 * p;
  }

  function hatch(colour) {
    const c = document.createElement('canvas');
    c.width = c.height = 8;
    const g = c.getContext('2d');
    g.strokeStyle = colour;
    g.lineWidth = 2;
    g.beginPath(); g.moveTo(0, 8); g.lineTo(8, 0); g.stroke();
    return ctx.createPattern(c, 'repeat');
  }
  const CUT_PATTERN = hatch('rgba(208, 49, 45, 0.28)');

  function cross(x, y, r) {
    ctx.moveTo(x - r, y - r); ctx.lineTo(x + r, y + r);
    ctx.moveTo(x - r, y + r); ctx.lineTo(x + r, y - r);
  }

  function arrowHead(x1, y1, x2, y2) {
    const a = Math.atan2(y2 - y1, x2 - x1);
    ctx.moveTo(x2, y2);
    ctx.lineTo(x2 - 7 * Math.cos(a - 0.4), y2 - 7 * Math.sin(a - 0.4));
    ctx.moveTo(x2, y2);
    ctx.lineTo(x2 - 7 * Math.cos(a + 0.4), y2 - 7 * Math.sin(a + 0.4));
  }

  function rpcShown(i) {
    const s = R.src[i], d = R.dst[i];
    const peerOk = (s < 0 || show.peer[s]) && (d < 0 || show.peer[d]);
    return peerOk && show.kind[kindOf[i]] && show.outcome[R.o[i]];
  }

  // Where an RPC's lines go: [request from, request to, reply to (or null), lost at (or null)].
  function geometry(i) {
    const s = R.src[i], d = R.dst[i], o = D.outcomes[R.o[i]];
    const ys = s >= 0 ? laneY(s) : laneY(d) - 30;
    const yd = d >= 0 ? laneY(d) : ys + 30;
    const xs = X(sent[i]), xd = X(done[i]);
    const xh = handled[i] >= 0 ? X(handled[i]) : null;
    const mid = (ys + yd) / 2;
    if (o === 'ok') return [xs, ys, xh, yd, xd, ys, null];
    if (o === 'reply_dropped') return [xs, ys, xh, yd, xd, mid, [xd, mid]];
    if (o === 'request_dropped') return [xs, ys, xd, mid, null, null, [xd, mid]];
    if (o === 'dead_server') return [xs, ys, xd, yd, null, null, [xd, yd]];
    // disconnected, cleanup: the request never left the sender's side
    const stub = ys + (yd - ys) * 0.2;
    return [xs, ys, Math.max(xd, xs + 3), stub, null, null, [Math.max(xd, xs + 3), stub]];
  }

  // The scene without the selection is kept, so hovering redraws only the highlight.
  const scene = document.createElement('canvas');
  function overlay() {
    ctx.save();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(scene, 0, 0);
    ctx.restore();
    ctx.save();
    ctx.beginPath(); ctx.rect(LEFT, 0, plotW, height); ctx.clip();
    if (cursorX !== null && cursorX >= LEFT) {
      // the time under the mouse, read on the axis
      ctx.fillStyle = 'rgba(29, 35, 43, 0.35)';
      ctx.fillRect(Math.round(cursorX), AXIS_H, 1, height - AXIS_H);
      const label = fmt(T(cursorX));
      const w = ctx.measureText(label).width + 8;
      const lx = Math.min(cursorX + 1, width - RIGHT - w);
      ctx.fillStyle = '#1d232b'; ctx.fillRect(lx, 2, w, 16);
      ctx.fillStyle = '#fff'; ctx.textBaseline = 'middle'; ctx.fillText(label, lx + 4, 10);
    }
    const sel = selected || hover;
    if (!sel) { ctx.restore(); return; }
    ctx.lineWidth = 3; ctx.strokeStyle = '#ffb000'; ctx.globalAlpha = 0.9;
    ctx.beginPath();
    if (sel.type === 'rpc') {
      const g = geometry(sel.i);
      ctx.moveTo(g[0], g[1]); ctx.lineTo(g[2], g[3]);
      if (g[4] !== null) { ctx.moveTo(g[2], g[3]); ctx.lineTo(g[4], g[5]); }
    } else {
      const [t, lane] = D.marks[sel.i];
      const y = lane < 0 ? AXIS_H + TESTER_H / 2 + 4 : laneY(lane);
      ctx.moveTo(X(t) + 9, y);
      ctx.arc(X(t), y, 9, 0, 2 * Math.PI);
    }
    ctx.stroke();
    ctx.restore();
  }

  function draw() {
    const t0 = performance.now();
    hits = [];
    ctx.clearRect(0, 0, width, height);
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';

    // time-wide tints on the tester's lane and behind all lanes
    const tint = (spans, colour, label) => {
      for (const [a, b] of spans) {
        const xa = Math.max(LEFT, X(a)), xb = Math.min(width - RIGHT, X(b));
        if (xb <= xa) continue;
        ctx.fillStyle = colour;
        ctx.fillRect(xa, AXIS_H, xb - xa, height - AXIS_H);
        ctx.fillStyle = '#6b5a00';
        if (xb - xa > 70) ctx.fillText(label, xa + 4, AXIS_H + 9);
      }
    };
    tint(D.unreliable, 'rgba(255, 214, 0, 0.10)', 'unreliable network');
    tint(D.reordering, 'rgba(142, 68, 173, 0.07)', 'long reordering');

    // axis
    const step = niceStep(v1 - v0, plotW);
    ctx.strokeStyle = '#e8eaee'; ctx.fillStyle = '#555'; ctx.lineWidth = 1;
    ctx.beginPath();
    for (let t = Math.ceil(v0 / step) * step; t <= v1; t += step) {
      const x = Math.round(X(t)) + 0.5;
      ctx.moveTo(x, AXIS_H - 4); ctx.lineTo(x, height);
      ctx.fillText((t / 1e6).toFixed(Math.max(0, -Math.floor(Math.log10(step / 1e6)))) + ' s',
        x + 3, AXIS_H - 12);
    }
    ctx.stroke();

    // lane labels and separators
    let lanes = 0;
    ctx.fillStyle = '#1d232b';
    ctx.fillText('tester', 8, AXIS_H + TESTER_H / 2);
    for (let p = 0; p < D.peers; p++) {
      const top = laneTop(p);
      ctx.fillStyle = show.peer[p] ? '#1d232b' : '#aab';
      ctx.font = 'bold 13px system-ui, sans-serif';
      ctx.fillText('S' + p, 8, laneY(p));
      ctx.font = '11px system-ui, sans-serif';
      ctx.strokeStyle = '#c5cad1';
      ctx.beginPath(); ctx.moveTo(LEFT, top + 0.5); ctx.lineTo(width - RIGHT, top + 0.5); ctx.stroke();
      lanes++;
    }
    ctx.save();
    ctx.beginPath(); ctx.rect(LEFT, 0, plotW, height); ctx.clip();

    // shades: cut off (hatched), crashed (grey), under everything else in the lane
    const shade = (spans, fill, label, labelColour, dy) => {
      for (const [p, a, b] of spans) {
        if (b < v0 || a > v1 || p === null || p < 0) continue;
        const xa = X(a), xb = X(b);
        ctx.fillStyle = fill;
        ctx.fillRect(xa, laneTop(p) + BAND_Y + BAND_H + 2, Math.max(1, xb - xa),
          LANE_H - BAND_Y - BAND_H - 4);
        ctx.fillStyle = labelColour;
        if (xb - xa > 80) ctx.fillText(label, Math.max(xa, LEFT) + 4, laneY(p) + dy);
      }
    };
    shade(D.cut, CUT_PATTERN, 'cut off', '#a52a22', -12);
    shade(D.crashed, 'rgba(60, 64, 72, 0.22)', 'crashed', '#333', 12);
    ctx.strokeStyle = '#8a9099';
    ctx.beginPath();
    for (let p = 0; p < D.peers; p++) {
      ctx.moveTo(LEFT, laneY(p) + 0.5); ctx.lineTo(width - RIGHT, laneY(p) + 0.5);
    }
    ctx.stroke();

    // RPCs, one path per kind (colour); lost ones' crosses in one red path
    const lo = v0 - longest, hi = v1;
    let first = 0, last = N;
    { let a = 0, b = N; while (a < b) { const m = (a + b) >> 1; if (sent[m] < lo) a = m + 1; else b = m; } first = a; }
    { let a = first, b = N; while (a < b) { const m = (a + b) >> 1; if (sent[m] <= hi) a = m + 1; else b = m; } last = a; }
    const visible = [];
    for (let i = first; i < last; i++) if (done[i] >= v0 && rpcShown(i)) visible.push(i);
    const detailed = visible.length < 3000;   // arrowheads only where they can be seen
    // Dense views get fainter lines, so that bands of traffic still show their gaps.
    const alpha = Math.max(0.15, Math.min(0.9, 1500 / Math.max(1, visible.length)));
    let arrows = 0;
    const lostAt = [];
    ctx.lineWidth = 1;
    for (const k of kinds) {
      ctx.strokeStyle = kindColour(k);
      ctx.globalAlpha = alpha;
      ctx.beginPath();
      const replies = [];
      // Zoomed out, many arrows fall on the same pixels: stroke each line once.
      const drawn = detailed ? null : new Set();
      for (const i of visible) {
        if (kindOf[i] !== k) continue;
        const g = geometry(i);
        const key = drawn && ((g[0] | 0) + ',' + (g[1] | 0) + ',' + (g[2] | 0) + ',' + (g[3] | 0));
        if (!drawn || !drawn.has(key)) {
          if (drawn) drawn.add(key);
          ctx.moveTo(g[0], g[1]); ctx.lineTo(g[2], g[3]);
        }
        if (detailed && g[6] === null) arrowHead(g[0], g[1], g[2], g[3]);
        if (g[4] !== null) replies.push(g, i);
        if (g[6] !== null) lostAt.push(g[6]);
        hits.push([g[0], g[1], g[2], g[3], 'rpc', i]);
        arrows++;
      }
      ctx.stroke();
      ctx.globalAlpha = alpha * 0.4;
      for (const dashed of [0, 1]) {
        ctx.setLineDash(dashed ? [4, 3] : []);
        ctx.beginPath();
        for (let j = 0; j < replies.length; j += 2) {
          const g = replies[j], i = replies[j + 1];
          if (R.r[i] !== dashed) continue;
          ctx.moveTo(g[2], g[3]); ctx.lineTo(g[4], g[5]);
        }
        ctx.stroke();
      }
      ctx.setLineDash([]);
    }
    ctx.globalAlpha = Math.max(0.5, alpha);
    ctx.strokeStyle = LOST; ctx.lineWidth = 1.6;
    ctx.beginPath();
    for (const [x, y] of lostAt) cross(x, y, 3.5);
    const lost = lostAt.length;
    ctx.stroke();
    ctx.globalAlpha = 1;
    ctx.lineWidth = 1;

    // role and term bands, over the traffic: who led, who ran, when
    for (const [p, a, b, role, term] of D.bands) {
      if (b < v0 || a > v1) continue;
      const xa = X(a), xb = X(b), y = laneTop(p) + BAND_Y;
      ctx.fillStyle = ROLE_COLOURS[role];
      ctx.fillRect(xa, y, Math.max(role === 0 ? 1 : 3, xb - xa), BAND_H);
      const text = role === 3 ? 'down' : (role === 0 ? 'T' + term : ROLE_NAMES[role] + ' T' + term);
      if (xb - xa > ctx.measureText(text).width + 6) {
        ctx.fillStyle = role === 0 ? '#555' : '#fff';
        ctx.fillText(text, Math.max(xa, LEFT) + 3, y + BAND_H / 2 + 0.5);
      }
    }

    // marks: one path per type (a canvas draws 30,000 ticks fast that way)
    let marks = 0;
    const paths = {};
    const labels = [];
    const placed = new Set();      // type, lane, pixel: a tick drawn once a pixel
    for (let j = 0; j < D.marks.length; j++) {
      const [t, lane, type, label] = D.marks[j];
      if (t < v0 || t > v1) continue;
      const group = (MARK_TYPES[type] || MARK_TYPES.other)[0];
      if (!show.mark[group] || (lane >= 0 && !show.peer[lane])) continue;
      const x = X(t);
      const spot = type + lane + ',' + (x | 0);
      if (placed.has(spot) && type !== 'test' && type !== 'network') { marks++; continue; }
      placed.add(spot);
      const path = paths[type] || (paths[type] = new Path2D());
      let y;
      if (lane < 0) {
        y = AXIS_H + TESTER_H / 2 + 4;
        if (type === 'violation') {
          path.moveTo(x, y - 8); path.lineTo(x + 7, y + 5); path.lineTo(x - 7, y + 5); path.closePath();
        } else if (type === 'departure') {
          path.moveTo(x - 6, y - 6); path.lineTo(x + 6, y - 6); path.lineTo(x, y + 5); path.closePath();
        } else if (type === 'test' || type === 'network') {
          path.rect(x - 0.5, AXIS_H + 14, 1, TESTER_H - 16);
          labels.push([label, x + 3, y + 6, type]);
        } else {
          path.moveTo(x + 5, y); path.arc(x, y, 5, 0, 2 * Math.PI);
          if (type === 'check-fail') labels.push([label + ' failed', x + 8, y, type]);
        }
      } else {
        const base = laneY(lane);
        if (type === 'apply') { y = base + 9; path.rect(x - 0.5, base + 4, 1.5, 10); }
        else if (type === 'commit') { y = base - 9; path.rect(x - 0.5, base - 14, 1.5, 10); }
        else if (type === 'departure') {
          // a line across the lane, under a downward triangle at its top
          y = base - 24;
          path.rect(x - 0.5, base - 24, 1, 48);
          path.moveTo(x - 6, y - 6); path.lineTo(x + 6, y - 6); path.lineTo(x, y + 4); path.closePath();
        }
        else if (type === 'start' || type === 'start-refused' || type === 'violation') {
          y = base - 20;
          if (type === 'violation') {
            path.moveTo(x, y - 7); path.lineTo(x + 6, y + 4); path.lineTo(x - 6, y + 4);
          } else {
            path.moveTo(x, y - 4); path.lineTo(x + 4, y); path.lineTo(x, y + 4); path.lineTo(x - 4, y);
          }
          path.closePath();
        } else { y = base + 20; path.rect(x - 0.5, base - 16, 1.5, 32); }
      }
      hits.push([x, y, x, y, 'mark', j]);
      marks++;
    }
    for (const type of Object.keys(paths).sort()) {
      ctx.fillStyle = (MARK_TYPES[type] || MARK_TYPES.other)[1];
      ctx.fill(paths[type]);
    }
    let free = -Infinity;          // where the last label ended: labels never overlap
    for (const [text, x, y, type] of labels) {
      const w = ctx.measureText(text).width;
      const lx = x + w > width - RIGHT ? x - w - 16 : x;    // at the right edge: to the left
      if (lx < free) continue;
      ctx.fillStyle = (MARK_TYPES[type] || MARK_TYPES.other)[1];
      ctx.fillText(text, lx, y);
      free = lx + w + 6;
    }

    ctx.restore();
    scene.width = canvas.width; scene.height = canvas.height;
    scene.getContext('2d').drawImage(canvas, 0, 0);
    overlay();

    const ms = performance.now() - t0;
    const b = document.body.dataset;
    b.lanes = lanes; b.arrows = arrows; b.lost = lost; b.marks = marks;
    b.drawms = ms.toFixed(1);
    document.getElementById('view').textContent =
      secs(v0) + ' – ' + secs(v1) + ' s · ' + arrows + ' RPCs shown (' + lost + ' lost)';
  }

  // ---- details ----
  // JSON, indented, with short lists and small objects inside it kept on one line.
  function pretty(v, indent) {
    indent = indent || '';
    const flat = JSON.stringify(v);
    if (v === null || typeof v !== 'object' || (indent && flat.length <= 60)) {
      return flat === undefined ? String(v) : flat;
    }
    const inner = indent + '  ';
    if (Array.isArray(v)) return '[\n' + v.map(x => inner + pretty(x, inner)).join(',\n') + '\n' + indent + ']';
    return '{\n' + Object.keys(v).map(k => inner + JSON.stringify(k) + ': ' + pretty(v[k], inner))
      .join(',\n') + '\n' + indent + '}';
  }

  function describeRpc(i) {
    const o = D.outcomes[R.o[i]];
    const who = (R.src[i] < 0 ? '?' : 'S' + R.src[i]) + ' → ' + (R.dst[i] < 0 ? '?' : 'S' + R.dst[i]);
    return methodShort[R.m[i]] + (R.hb[i] ? ' (heartbeat)' : '') + ' ' + who + ' · ' + o.replace('_', ' ') +
      (R.term[i] >= 0 ? ' · term ' + R.term[i] : '');
  }

  function showDetails(sel) {
    const head = document.getElementById('details-head');
    const body = document.getElementById('details-body');
    if (!sel) { head.textContent = 'Details'; body.textContent = 'Click an arrow or a mark.'; return; }
    let t, peers;
    if (sel.type === 'rpc') {
      const i = sel.i;
      t = sent[i];
      peers = [R.src[i], R.dst[i]];
      head.textContent = 'RPC ' + R.id[i] + ': ' + describeRpc(i);
      body.textContent = [
        'method    ' + D.methods[R.m[i]],
        'seq       ' + R.seq[i],
        'sent      ' + fmt(sent[i]),
        'handled   ' + (handled[i] < 0 ? '(never: the handler did not run)' : fmt(handled[i])),
        'returned  ' + fmt(done[i]) + ' (' + ((done[i] - sent[i]) / 1000).toFixed(1) + ' ms after sending)',
        'outcome   ' + D.outcomes[R.o[i]] + (R.r[i] ? ', reply held back (long reordering)' : ''),
        'bytes     ' + R.bytes[i],
        'args      ' + pretty(unpack(R.args[i])),
        'reply     ' + (unpack(R.reply[i]) === null ? '(none: no handler answered)'
          : pretty(unpack(R.reply[i])))
      ].join('\n');
    } else {
      const [tm, lane, , label, d] = D.marks[sel.i];
      t = tm;
      peers = [lane];
      head.textContent = label + (lane >= 0 ? ' · S' + lane : '') + ' · ' + fmt(tm);
      body.textContent = pretty(unpack(D.details[d]));
    }
    showNearby(t, peers);
  }

  // The DPrintf lines nearest in time to t (the involved peers' in black).
  function showNearby(t, peers) {
    const box = document.getElementById('nearby-body');
    const L = D.logs;
    box.textContent = '';
    if (!L.t.length) { box.textContent = 'No DPrintf lines in this record (run with RAFT_DEBUG=1).'; return; }
    let a = 0, b = L.t.length;
    while (a < b) { const m = (a + b) >> 1; if (L.t[m] < t) a = m + 1; else b = m; }
    const from = Math.max(0, a - 12), to = Math.min(L.t.length, a + 12);
    for (let j = from; j < to; j++) {
      const div = document.createElement('div');
      div.className = 'line' + (peers.includes(L.p[j]) ? ' peer' : '') + (j === a ? ' here' : '');
      div.textContent = secs(L.t[j]) + '  ' + (L.p[j] < 0 ? '   ' : 'S' + L.p[j] + ' ') + ' ' + L.x[j];
      box.appendChild(div);
    }
  }

  function nearest(mx, my) {
    let best = null, bestD = 36;   // within 6 px
    for (const [x1, y1, x2, y2, type, i] of hits) {
      const dx = x2 - x1, dy = y2 - y1;
      const len = dx * dx + dy * dy;
      let u = len ? ((mx - x1) * dx + (my - y1) * dy) / len : 0;
      u = Math.max(0, Math.min(1, u));
      const ex = x1 + u * dx - mx, ey = y1 + u * dy - my;
      const d = ex * ex + ey * ey - (type === 'mark' ? 12 : 0);
      if (d < bestD) { bestD = d; best = { type, i }; }
    }
    return best;
  }

  function tipText(h) {
    if (h.type === 'rpc') return 'RPC ' + R.id[h.i] + ' ' + describeRpc(h.i) + '\nsent ' + fmt(sent[h.i]);
    const [t, lane, , label] = D.marks[h.i];
    return label + (lane >= 0 ? ' · S' + lane : '') + '\n' + fmt(t);
  }

  // ---- zoom and pan ----
  function setView(a, b) {
    const span = Math.max(b - a, 50);      // 50 us is as close as it zooms
    v0 = a; v1 = a + span;
    draw();
  }
  function zoom(f, at) {
    const t = at === undefined ? (v0 + v1) / 2 : at;
    setView(t - (t - v0) * f, t + (v1 - t) * f);
  }
  function fit() { setView(-PAD, END + PAD); }
  // Dragging asks for many draws a frame; one is enough.
  let drawPending = false;
  function drawSoon() {
    if (drawPending) return;
    drawPending = true;
    requestAnimationFrame(() => { drawPending = false; draw(); });
  }
  // For the browser's console (and the project's browser test): the view and its scale.
  window.timeline = {
    view: () => [v0, v1], setView, fit,
    x: X, laneY, zoomTo: (us, span) => setView(us - span / 2, us + span / 2),
    select: (type, i) => { selected = { type, i }; showDetails(selected); overlay(); }
  };

  let drag = null;
  canvas.addEventListener('mousedown', e => { drag = { x: e.clientX, a: v0, b: v1, moved: false }; });
  window.addEventListener('mouseup', e => {
    if (drag && !drag.moved) {
      const r = canvas.getBoundingClientRect();
      selected = nearest(e.clientX - r.left, e.clientY - r.top);
      showDetails(selected);
      overlay();
    }
    drag = null; canvas.classList.remove('dragging');
  });
  canvas.addEventListener('mousemove', e => {
    const r = canvas.getBoundingClientRect();
    const mx = e.clientX - r.left, my = e.clientY - r.top;
    if (drag && e.buttons) {
      const dt = (e.clientX - drag.x) / plotW * (drag.b - drag.a);
      if (Math.abs(e.clientX - drag.x) > 2) { drag.moved = true; canvas.classList.add('dragging'); }
      if (drag.moved) { v0 = drag.a - dt; v1 = drag.b - dt; drawSoon(); }
      return;
    }
    const h = nearest(mx, my);
    hover = h;
    cursorX = mx;
    if (h) {
      tip.style.display = 'block';
      tip.textContent = tipText(h);
      tip.style.left = Math.min(mx + 14, width - 260) + 'px';
      tip.style.top = (my + 14) + 'px';
    } else tip.style.display = 'none';
    overlay();
  });
  canvas.addEventListener('mouseleave', () => {
    tip.style.display = 'none'; hover = null; cursorX = null; overlay();
  });
  canvas.addEventListener('wheel', e => {
    e.preventDefault();
    const r = canvas.getBoundingClientRect();
    const at = T(e.clientX - r.left);
    if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) {
      const d = (e.deltaX || e.deltaY) / plotW * (v1 - v0);
      setView(v0 + d, v1 + d);
    } else zoom(e.deltaY > 0 ? 1.25 : 0.8, at);
  }, { passive: false });
  canvas.addEventListener('dblclick', e => {
    const r = canvas.getBoundingClientRect();
    zoom(e.shiftKey ? 2 : 0.5, T(e.clientX - r.left));
  });
  window.addEventListener('keydown', e => {
    if (e.target.tagName === 'INPUT') return;
    const span = v1 - v0;
    if (e.key === '+' || e.key === '=') zoom(0.5);
    else if (e.key === '-') zoom(2);
    else if (e.key === '0') fit();
    else if (e.key === 'ArrowLeft') setView(v0 - span / 5, v1 - span / 5);
    else if (e.key === 'ArrowRight') setView(v0 + span / 5, v1 + span / 5);
  });
  document.getElementById('zoom-in').onclick = () => zoom(0.5);
  document.getElementById('zoom-out').onclick = () => zoom(2);
  document.getElementById('zoom-fit').onclick = fit;
  for (const a of document.querySelectorAll('[data-zoom]')) {
    a.onclick = () => window.timeline.zoomTo(Number(a.dataset.zoom), Math.max(END / 20, 400000));
  }

  // ---- filter checkboxes ----
  function addBoxes(id, entries, table) {
    const box = document.getElementById(id);
    for (const [key, label, colour] of entries) {
      const l = document.createElement('label');
      const c = document.createElement('input');
      c.type = 'checkbox'; c.checked = true;
      c.onchange = () => { table[key] = c.checked; draw(); };
      l.appendChild(c);
      if (colour) {
        const s = document.createElement('span');
        s.className = 'swatch'; s.style.background = colour;
        l.appendChild(s);
      }
      l.appendChild(document.createTextNode(label));
      box.appendChild(l);
    }
  }
  const counts = {};
  for (let i = 0; i < N; i++) counts[kindOf[i]] = (counts[kindOf[i]] || 0) + 1;
  const outcomeCounts = D.outcomes.map(() => 0);
  for (let i = 0; i < N; i++) outcomeCounts[R.o[i]]++;
  addBoxes('f-peers', Array.from({ length: D.peers }, (_, p) => [p, 'S' + p, null]), show.peer);
  addBoxes('f-kinds', kinds.map(k => [k, k + ' (' + counts[k] + ')', kindColour(k)]), show.kind);
  addBoxes('f-outcomes', D.outcomes.map((o, i) => [i, o.replace('_', ' ') + ' (' + outcomeCounts[i] + ')',
    i ? LOST : null]).filter(e => outcomeCounts[e[0]] > 0), show.outcome);
  const groups = [];
  for (const [group, colour] of Object.values(MARK_TYPES)) {
    if (!groups.some(g => g[0] === group)) groups.push([group, group, colour]);
  }
  const present = new Set(D.marks.map(m => (MARK_TYPES[m[2]] || MARK_TYPES.other)[0]));
  addBoxes('f-marks', groups.filter(g => present.has(g[0])), show.mark);

  window.addEventListener('resize', () => { size(); draw(); });
  size();
  showDetails(null);
  draw();
  document.body.dataset.loadms = performance.now().toFixed(1);
  document.body.dataset.ready = '1';
})();
