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

  function live() {
    var entries = [];
    var lastIds = null;
    function renderFields(nodeState) {
      if (!nodeState) { fieldsTable($('fields'), [['node', 'not started']]); return; }
      fieldsTable($('fields'), Object.keys(nodeState).map(function (k) { return [k, nodeState[k]]; }));
    }
    function renderEntries() {
      var body = $('entries'); body.textContent = '';
      var onlyTop = $('only-top').checked;
      var shown = entries.filter(function (e) { return !onlyTop || e.from === null || topOf(e.from) !== topOf(e.state); }).slice(-150).reverse();
      shown.forEach(function (e) {
        var tr = el('tr');
        tr.appendChild(el('td', seconds(e.t), 'num'));
        tr.appendChild(el('td', e.at.slice(11, 23)));
        tr.appendChild(el('td', e.eventLabel, 'event'));
        tr.appendChild(el('td', (e.from || '—') + ' → ' + e.state, 'states'));
        tr.appendChild(el('td', e.role || '—'));
        tr.appendChild(el('td', e.epoch, 'num'));
        body.appendChild(tr);
      });
      $('entry-count').textContent = shown.length + ' of ' + entries.length;
    }
    $('only-top').addEventListener('change', renderEntries);
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
      apply(view.activeIds, view.state, view.nodeState);
      renderEntries();
      setStatus('live', 'ok');
    });
    source.addEventListener('transition', function (message) {
      var data = JSON.parse(message.data);
      entries.push(data.entry);
      if (entries.length > 500) entries.shift();
      apply(activeIdsOf(data.entry.value, ''), data.entry.state, data.nodeState);
      renderEntries();
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
    document.addEventListener('keydown', function (e) {
      if (e.target && e.target.tagName === 'SELECT') return;
      if (e.key === 'ArrowRight') go(index + 1);
      if (e.key === 'ArrowLeft') go(index - 1);
    });
    var body = $('entries');
    steps.forEach(function (s, i) {
      var tr = el('tr'); tr.setAttribute('data-index', String(i));
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
    $('entry-count').textContent = steps.length + ' steps';
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
