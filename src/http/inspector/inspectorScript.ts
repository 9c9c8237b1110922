/**
 * The inspector page's browser script, served by the node itself (no CDN, no build step): plain ES2017 that runs in
 * any current browser. Live mode follows `/stream` (server-sent events); replay mode steps through `/trace.json`.
 * It reads its settings from the page's `#ag-config` JSON and the token from the page's own `?token=`.
 */
export const INSPECTOR_SCRIPT = String.raw`(function () {
  'use strict';
  var config = JSON.parse(document.getElementById('ag-config').textContent);
  var token = new URLSearchParams(location.search).get('token');
  function url(path) { return config.base + path + (token ? '?token=' + encodeURIComponent(token) : ''); }
  function $(id) { return document.getElementById(id); }
  function el(tag, text, cls) { var e = document.createElement(tag); if (text !== undefined && text !== null) e.textContent = String(text); if (cls) e.className = cls; return e; }
  function setStatus(text, kind) { var s = $('status'); s.textContent = text; s.className = 'status ' + (kind || ''); }
  function seconds(ms) { return (ms / 1000).toFixed(3) + ' s'; }
  function topOf(label) { return label ? label.split(/[.{]/)[0] : ''; }

  function highlight(ids, label, previousIds) {
    document.querySelectorAll('#chart .state.active').forEach(function (e) { e.classList.remove('active'); });
    document.querySelectorAll('#chart .edge.taken').forEach(function (e) { e.classList.remove('taken'); });
    ids.forEach(function (id) { var e = $('state-' + id); if (e) e.classList.add('active'); });
    if (previousIds) {
      document.querySelectorAll('#chart .edge[data-transitions]').forEach(function (e) {
        var source = e.getAttribute('data-source'), target = e.getAttribute('data-target');
        var entered = ids.indexOf(target) >= 0 && (previousIds.indexOf(target) < 0 || source === target);
        if (previousIds.indexOf(source) >= 0 && entered) e.classList.add('taken');
      });
    }
    $('current-state').textContent = label || '(unknown)';
    document.body.setAttribute('data-state', label || '');
    document.body.setAttribute('data-top-state', topOf(label));
    if ($('follow').checked && ids.length > 0) scrollWithin($('chart'), $('state-' + ids[0]));
  }

  // Scrolls only the given box (scrollIntoView would scroll the whole page too, hiding the controls).
  function scrollWithin(box, target) {
    if (!target) return;
    var b = box.getBoundingClientRect(), t = target.getBoundingClientRect();
    if (t.top < b.top || t.bottom > b.bottom) box.scrollTop += t.top - b.top - Math.max(0, (b.height - t.height) / 2);
    if (t.left < b.left || t.right > b.right) box.scrollLeft += t.left - b.left - Math.max(0, (b.width - t.width) / 2);
  }

  function fieldsTable(container, rows) {
    container.textContent = '';
    var table = el('table', null, 'fields');
    rows.forEach(function (r) {
      var tr = el('tr'); tr.appendChild(el('th', r[0]));
      var v = r[1]; tr.appendChild(el('td', v === null || v === undefined ? '—' : typeof v === 'object' ? JSON.stringify(v) : v));
      table.appendChild(tr);
    });
    container.appendChild(table);
  }

  function activeIdsOf(value, prefix) {
    if (typeof value === 'string') return [prefix ? prefix + '.' + value : value];
    var ids = [];
    Object.keys(value).forEach(function (key) {
      var id = prefix ? prefix + '.' + key : key;
      ids.push(id);
      ids = ids.concat(activeIdsOf(value[key], id));
    });
    return ids;
  }

  function zoomControls() {
    var chart = $('chart');
    document.querySelectorAll('[data-zoom]').forEach(function (b) {
      b.addEventListener('click', function () { chart.setAttribute('data-zoom', b.getAttribute('data-zoom')); });
    });
  }

  // A step is noise (a heartbeat round, a standby check) when its node's role, epoch and top-level state stay the same.
  function markNoise(list) {
    var last = {};
    return list.map(function (s) {
      var p = last[s.node];
      last[s.node] = s;
      return !!p && p.role === s.role && p.epoch === s.epoch && topOf(p.state) === topOf(s.state);
    });
  }
  function noiseToggle(render) {
    var box = $('show-noise');
    box.addEventListener('change', function () { document.body.classList.toggle('show-noise', box.checked); if (render) render(); });
  }

  // One swimlane per node: its role and epoch from each of its steps to the next; the cursor at time cursorT.
  function renderLanes(list, nodes, cursorT, onPick) {
    var box = $('lanes'); box.textContent = '';
    if (list.length === 0) return;
    var t0 = list[0].t, t1 = list[list.length - 1].t;
    var span = Math.max(1, t1 - t0) * 1.02;
    function pct(t) { return ((t - t0) / span * 100).toFixed(3) + '%'; }
    nodes.forEach(function (n) {
      var lane = el('div', null, 'lane'); lane.setAttribute('data-node', n);
      lane.appendChild(el('span', n, 'lane-name'));
      var track = el('div', null, 'lane-track');
      var own = list.filter(function (s) { return s.node === n; });
      var segs = [];
      own.forEach(function (s) {
        var prev = segs[segs.length - 1];
        if (prev && prev.role === s.role && prev.epoch === s.epoch) return;
        if (prev) prev.end = s.t;
        segs.push({ start: s.t, end: t0 + span, role: s.role, epoch: s.epoch });
      });
      segs.forEach(function (g, i) {
        var d = el('div', (g.role || 'no role') + ' · epoch ' + g.epoch, 'seg role-' + (g.role === 'primary' || g.role === 'secondary' ? g.role : 'none'));
        d.style.left = pct(g.start); d.style.width = 'calc(' + pct(g.end) + ' - ' + pct(g.start) + ')';
        d.title = n + ': ' + (g.role || 'no role') + ', epoch ' + g.epoch + ' from ' + seconds(g.start);
        d.setAttribute('data-role', g.role || ''); d.setAttribute('data-epoch', String(g.epoch));
        if (i > 0) { var m = el('div', null, 'mark'); m.style.left = pct(g.start); track.appendChild(m); }
        track.appendChild(d);
      });
      var cursor = el('div', null, 'cursor'); cursor.style.left = pct(cursorT); track.appendChild(cursor);
      if (onPick) track.addEventListener('click', function (e) {
        var r = track.getBoundingClientRect();
        onPick(t0 + (e.clientX - r.left) / r.width * span);
      });
      lane.appendChild(track);
      box.appendChild(lane);
    });
    box.setAttribute('data-cursor-t', String(cursorT));
  }

  function live() {
    var entries = [];
    var lastIds = null;
    function renderFields(nodeState) {
      if (!nodeState) { fieldsTable($('fields'), [['node', 'not started']]); return; }
      fieldsTable($('fields'), Object.keys(nodeState).map(function (k) { return [k, nodeState[k]]; }));
    }
    function renderEntries() {
      var body = $('entries'); body.textContent = '';
      var noise = markNoise(entries);
      var shown = entries.map(function (e, i) { return { e: e, noise: noise[i] }; }).slice(-150).reverse();
      var folded = 0;
      shown.forEach(function (item) {
        var e = item.e;
        var tr = el('tr');
        if (item.noise) { tr.className = 'noise'; folded += 1; }
        tr.appendChild(el('td', seconds(e.t), 'num'));
        tr.appendChild(el('td', e.at.slice(11, 23)));
        tr.appendChild(el('td', e.eventLabel, 'event'));
        tr.appendChild(el('td', (e.from || '—') + ' → ' + e.state, 'states'));
        tr.appendChild(el('td', e.role || '—'));
        tr.appendChild(el('td', e.epoch, 'num'));
        body.appendChild(tr);
      });
      $('entry-count').textContent = shown.length + ' of ' + entries.length + (folded > 0 && !$('show-noise').checked ? ', ' + folded + ' heartbeat/standby-check steps folded' : '');
      renderLanes(entries, [config.node || (entries[0] && entries[0].node) || ''], entries.length ? entries[entries.length - 1].t : 0, null);
    }
    noiseToggle(renderEntries);
    var watch = null;
    function renderCountdown() {
      var box = $('countdown');
      if (!watch) { box.hidden = true; return; }
      var silence = watch.silenceMs + (performance.now() - watch.receivedAt);
      var left = watch.allowedAbsenceMs - silence;
      box.hidden = false;
      box.className = left < watch.allowedAbsenceMs / 4 ? 'near' : '';
      box.textContent = 'Primary silent ' + (silence / 1000).toFixed(1) + ' s of ' + (watch.allowedAbsenceMs / 1000).toFixed(1) + ' s · ' +
        (watch.paused ? 'takeover paused (maintenance)' : left > 0 ? 'takeover check in ' + (left / 1000).toFixed(1) + ' s' : 'absent: takeover on the next standby check');
    }
    function setWatch(w, paused) { watch = w ? { silenceMs: w.silenceMs, allowedAbsenceMs: w.allowedAbsenceMs, receivedAt: performance.now(), paused: paused } : null; renderCountdown(); }
    setInterval(renderCountdown, 200);
    var lastNodeState = null;
    function apply(activeIds, label, nodeState) {
      highlight(activeIds, label, lastIds);
      lastIds = activeIds;
      renderFields(nodeState);
      $('maintenance-badge').hidden = !(nodeState && nodeState.maintenance === true);
      var health = nodeState ? nodeState.applicationHealth : null;
      var healthBadge = $('application-health-badge');
      healthBadge.hidden = health === null || health === undefined;
      if (!healthBadge.hidden) {
        healthBadge.textContent = 'application: ' + health;
        healthBadge.className = 'badge app-health ' + health;
      }
    }
    var source = new EventSource(url('/stream'));
    source.addEventListener('snapshot', function (message) {
      var view = JSON.parse(message.data);
      entries = view.entries;
      lastIds = null;
      lastNodeState = view.nodeState;
      setWatch(view.watch, !!(view.nodeState && view.nodeState.maintenance));
      apply(view.activeIds, view.state, view.nodeState);
      renderEntries();
      setStatus('live', 'ok');
    });
    source.addEventListener('transition', function (message) {
      var data = JSON.parse(message.data);
      entries.push(data.entry);
      if (entries.length > 500) entries.shift();
      lastNodeState = data.nodeState;
      apply(activeIdsOf(data.entry.value, ''), data.entry.state, data.nodeState);
      renderEntries();
    });
    source.addEventListener('watch', function (message) {
      setWatch(JSON.parse(message.data), !!(lastNodeState && lastNodeState.maintenance));
    });
    source.onerror = function () { setStatus('disconnected: retrying', 'warn'); };
  }

  function replay(trace) {
    var steps = trace.steps, notes = trace.notes, index = steps.length > 0 ? 0 : -1;
    var node = trace.nodes[0] || null;
    var select = $('node'), scrub = $('scrub');
    trace.nodes.forEach(function (n) { var o = el('option', n); o.value = n; select.appendChild(o); });
    select.addEventListener('change', function () { node = select.value; render(); });
    scrub.max = String(Math.max(0, steps.length - 1));
    scrub.addEventListener('input', function () { index = Number(scrub.value); render(); });
    function lastStepOf(n, upTo) { for (var i = upTo; i >= 0; i--) if (steps[i].node === n) return i; return -1; }
    function nextStepOf(n, from, direction) { for (var i = from + direction; i >= 0 && i < steps.length; i += direction) if (steps[i].node === n) return i; return from; }
    function go(i) { index = Math.max(0, Math.min(steps.length - 1, i)); render(); }
    $('first').onclick = function () { go(0); };
    $('prev').onclick = function () { go(index - 1); };
    $('next').onclick = function () { go(index + 1); };
    $('last').onclick = function () { go(steps.length - 1); };
    $('prev-node').onclick = function () { go(nextStepOf(node, index, -1)); };
    $('next-node').onclick = function () { go(nextStepOf(node, index, 1)); };
    var noise = markNoise(steps);
    // A role change: a step whose node had another role or epoch at its previous step.
    var roleChange = (function () {
      var last = {};
      return steps.map(function (s) { var p = last[s.node]; last[s.node] = s; return !!p && (p.role !== s.role || p.epoch !== s.epoch); });
    })();
    var faults = notes.filter(function (n) { return n.kind === 'fault' || n.kind === 'violation'; });
    $('next-role').onclick = function () { for (var i = index + 1; i < steps.length; i++) if (roleChange[i]) { go(i); return; } };
    $('next-fault').onclick = function () {
      var now = steps[index] ? steps[index].t : -Infinity;
      var f = faults.filter(function (n) { return n.t > now; })[0];
      if (!f) return;
      for (var i = index + 1; i < steps.length; i++) if (steps[i].t >= f.t) { go(i); return; }
      go(steps.length - 1);
    };
    $('next-fault').disabled = faults.length === 0;
    noiseToggle(null);
    document.addEventListener('keydown', function (e) {
      if (e.target && e.target.tagName === 'SELECT') return;
      if (e.key === 'ArrowRight') go(index + 1);
      if (e.key === 'ArrowLeft') go(index - 1);
    });
    var body = $('entries');
    steps.forEach(function (s, i) {
      var tr = el('tr', null, noise[i] ? 'noise' : roleChange[i] ? 'role-change' : ''); tr.setAttribute('data-index', String(i));
      tr.appendChild(el('td', i + 1, 'num'));
      tr.appendChild(el('td', seconds(s.t), 'num'));
      tr.appendChild(el('td', s.node));
      tr.appendChild(el('td', s.eventLabel, 'event'));
      tr.appendChild(el('td', s.state, 'states'));
      tr.appendChild(el('td', s.role || '—'));
      tr.appendChild(el('td', s.epoch, 'num'));
      tr.onclick = function () { go(i); };
      body.appendChild(tr);
    });
    var foldedCount = noise.filter(Boolean).length;
    $('entry-count').textContent = steps.length + ' steps' + (foldedCount > 0 ? ' (' + foldedCount + ' heartbeat/standby-check steps folded unless shown)' : '');
    function render() {
      if (index < 0) { setStatus('empty trace', 'warn'); return; }
      var step = steps[index];
      scrub.value = String(index);
      $('position').textContent = 'step ' + (index + 1) + ' of ' + steps.length + ' · t = ' + seconds(step.t) + ' · ' + step.node + ': ' + step.eventLabel;
      var own = lastStepOf(node, index);
      var previous = own >= 0 ? lastStepOf(node, own - 1) : -1;
      if (own >= 0) highlight(steps[own].activeIds, steps[own].state, own === index && previous >= 0 ? steps[previous].activeIds : null);
      else highlight([], '(' + node + ' has no transition yet)', null);
      document.body.setAttribute('data-step', String(index));
      renderLanes(steps, trace.nodes, step.t, function (t) {
        var best = 0;
        steps.forEach(function (s, i) { if (s.t <= t) best = i; });
        go(best);
      });
      var rows = [];
      trace.nodes.forEach(function (n) {
        var i = lastStepOf(n, index);
        var s = i >= 0 ? steps[i] : null;
        rows.push([n, s ? s.state + ' · role ' + (s.role || '—') + ' · epoch ' + s.epoch + ' · seq ' + (s.seq === null ? '—' : s.seq) + ' · DNS ' + s.dnsConnection : '—']);
      });
      fieldsTable($('fields'), rows);
      body.querySelectorAll('tr.current').forEach(function (r) { r.classList.remove('current'); });
      var row = body.querySelector('tr[data-index="' + index + '"]');
      if (row) { row.classList.add('current'); scrollWithin(body.closest('.scroll'), row); }
      var notesBox = $('notes'); notesBox.textContent = '';
      notes.filter(function (n) { return n.t <= step.t; }).slice(-30).reverse().forEach(function (n) {
        notesBox.appendChild(el('li', seconds(n.t) + (n.node ? ' ' + n.node : '') + ' · ' + n.text, 'note ' + n.kind));
      });
      setStatus('replay', 'ok');
    }
    render();
  }

  zoomControls();
  if (config.mode === 'live') live();
  else fetch(url('/trace.json')).then(function (r) {
    if (!r.ok) throw new Error('HTTP ' + r.status);
    return r.json();
  }).then(replay, function (error) { setStatus('could not load the trace: ' + error.message, 'warn'); });
})();
`;
