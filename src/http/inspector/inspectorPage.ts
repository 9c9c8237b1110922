/**
 * The inspector page: one HTML document with the chart SVG inline (so states can be highlighted by element id),
 * its style and script inline too. Nothing is loaded from anywhere but the node, so it works offline.
 */
import { INSPECTOR_SCRIPT } from './inspectorScript.js';

/** What the page shows: a live node or a recorded trace. */
export interface InspectorPageOptions {
  readonly mode: 'live' | 'replay';
  /** Shown in the title bar: the node id or the trace's description. */
  readonly title: string;
  /** The chart SVG (renderChartSvg). */
  readonly svg: string;
  /** The URL path the page's data lives under (`/ag/inspect`). */
  readonly base: string;
}

const STYLE = `
*{box-sizing:border-box}
body{margin:0;font:13px/1.4 system-ui,sans-serif;color:#1f2933;background:#f5f7fa}
header{display:flex;gap:16px;align-items:center;padding:8px 14px;background:#1f2933;color:#fff;flex-wrap:wrap}
header h1{font-size:15px;margin:0}
.status{padding:2px 8px;border-radius:10px;background:#52606d;font-size:12px}
.status.ok{background:#0b7a4b}.status.warn{background:#b44d12}
.badge.maintenance{padding:2px 8px;border-radius:10px;background:#f0b429;color:#1f2933;font-weight:600;font-size:12px}
.badge[hidden]{display:none}
.badge.app-health{padding:2px 8px;border-radius:10px;font-weight:600;font-size:12px;background:#52606d}
.badge.app-health.healthy{background:#0b7a4b}.badge.app-health.unhealthy{background:#b44d12}
#current-state{font-family:monospace;font-size:13px;background:#323f4b;padding:2px 8px;border-radius:4px}
.controls{display:flex;gap:6px;align-items:center;padding:6px 14px;background:#e4e7eb;flex-wrap:wrap}
.controls button{font:inherit;padding:2px 8px}
.screen{display:flex;flex-direction:column;height:100vh;min-height:420px}
.screen>*{flex:none}
#chart{flex:1 1 auto;min-height:0;overflow:auto;background:#fff;border-bottom:1px solid #cbd2d9}
#chart[data-zoom="fit"]{overflow:hidden}
#chart[data-zoom="fit"] svg{width:100%;height:100%;display:block}
#chart[data-zoom="half"] svg{width:50%;height:auto}
#lanes{padding:4px 14px;background:#fff;border-bottom:1px solid #cbd2d9}
.lane{display:flex;align-items:center;gap:8px;height:22px}
.lane-name{width:60px;font-weight:600;font-family:monospace;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.lane-track{position:relative;flex:1;height:18px;background:#f5f7fa;cursor:pointer}
.seg{position:absolute;top:0;height:18px;font-size:11px;line-height:18px;padding-left:3px;overflow:hidden;white-space:nowrap;color:#fff;border-right:1px solid #fff}
.seg.role-primary{background:#0b7a4b}.seg.role-secondary{background:#2f6fb0}.seg.role-none{background:#9aa5b1}
.cursor{position:absolute;top:-2px;bottom:-2px;width:2px;background:#d64545;pointer-events:none}
.mark{position:absolute;top:0;width:2px;height:18px;background:#f0b429;pointer-events:none}
#countdown{font-family:monospace;font-size:12px;padding:2px 8px;border-radius:4px;background:#323f4b}
#countdown.near{background:#b44d12}
#countdown[hidden]{display:none}
body:not(.show-noise) tr.noise{display:none}
main{display:grid;grid-template-columns:minmax(340px,1fr) 2fr;gap:12px;padding:12px 14px}
section h2{font-size:13px;margin:0 0 6px}
table{border-collapse:collapse;width:100%;background:#fff}
td,th{border-bottom:1px solid #e4e7eb;padding:2px 6px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
table.fields th{width:40%;font-weight:600;color:#52606d}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap;overflow-wrap:normal}
.event,.states{font-family:monospace;font-size:12px}
.scroll{max-height:34vh;overflow:auto}
tr.current{background:#d9f2e6}
tr.role-change td{font-weight:600}
#entries tr[data-index]{cursor:pointer}
#notes{font-family:monospace;font-size:12px;padding-left:16px;margin:6px 0;max-height:30vh;overflow-y:auto;overflow-x:hidden}
.note{overflow-wrap:anywhere;word-break:break-word;max-width:100%}
section{min-width:0}
.note.violation{color:#c81e1e;font-weight:bold}.note.fault{color:#b44d12}
`.trim();

/**
 * The page's HTML. The SVG is trusted (generated from the machine); every other value is escaped.
 *
 * @example
 * reply.type('text/html').send(inspectorPageHtml({ mode: 'live', title: 'node b', svg, base: '/ag/inspect' }));
 */
export function inspectorPageHtml(options: InspectorPageOptions): string {
  const config = JSON.stringify({ mode: options.mode, base: options.base }).replace(/</g, '\\u003c');
  const replayControls = `
<div class="controls" id="replay-controls">
  <button id="first" title="first step">first</button><button id="prev" title="previous step (←)">◀</button>
  <button id="next" title="next step (→)">▶</button><button id="last" title="last step">last</button>
  <input id="scrub" type="range" min="0" max="0" value="0" style="flex:1;min-width:160px">
  <label>chart of node <select id="node"></select></label>
  <button id="prev-node" title="previous step of this node">◀ node</button><button id="next-node" title="next step of this node">node ▶</button>
  <button id="next-role" title="the next step at which a node's role or epoch changes">next role change</button>
  <button id="next-fault" title="the next fault or property violation">next fault</button>
  <span id="position"></span>
</div>`;
  const liveControls = `
<div class="controls"><label><input type="checkbox" id="show-noise"> show heartbeat and standby-check steps</label></div>`;
  const entriesHead =
    options.mode === 'live'
      ? '<tr><th>t</th><th>wall (UTC)</th><th>event</th><th>from → to</th><th>role</th><th>epoch</th></tr>'
      : '<tr><th>#</th><th>t</th><th>node</th><th>event</th><th>state</th><th>role</th><th>epoch</th></tr>';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${escapeHtml(`Inspector: ${options.title}`)}</title>
<style>${STYLE}</style>
</head>
<body data-mode="${options.mode}">
<div class="screen">
<header>
  <h1>${escapeHtml(options.title)}</h1>
  <span class="status" id="status">connecting</span>
  <span id="current-state"></span>
  <span id="countdown" hidden title="On a Secondary: how long the Primary has been silent, against allowed_absence_interval; at the end the standby check may take over (rule 1)"></span>
  <span class="badge app-health" id="application-health-badge" hidden title="This node's application health check (health_command or health_url): a Secondary whose application is not healthy never takes over; an unhealthy Primary hands over to a healthy Secondary">application: unknown</span>
  <span class="badge maintenance" id="maintenance-badge" hidden title="Maintenance mode: the group's automatic takeover is paused (agctl resume ends it)">maintenance: takeover paused</span>
  <span style="margin-left:auto">zoom <button data-zoom="fit">fit</button> <button data-zoom="half">50%</button> <button data-zoom="full">100%</button>
  <label><input type="checkbox" id="follow" checked> follow</label></span>
</header>
${options.mode === 'replay' ? replayControls : ''}
<div id="lanes" title="Each node's role and epoch over time; the red line is the current step"></div>
<div id="chart" data-zoom="fit">
${options.svg}
</div>
</div>
<main>
  <section><h2>${options.mode === 'live' ? 'Node state (getNodeState)' : 'Nodes at this step'}</h2><div id="fields"></div>
  ${options.mode === 'replay' ? '<h2>Notes (faults, events, violations) up to this step</h2><ul id="notes"></ul>' : ''}</section>
  <section><h2>${options.mode === 'live' ? 'Recent transitions' : 'Transitions'} <small id="entry-count"></small></h2>
  ${options.mode === 'live' ? liveControls : '<div class="controls"><label><input type="checkbox" id="show-noise"> show heartbeat and standby-check steps</label></div>'}
  <div class="scroll"><table><thead>${entriesHead}</thead><tbody id="entries"></tbody></table></div></section>
</main>
<script type="application/json" id="ag-config">${config}</script>
<script>${INSPECTOR_SCRIPT}</script>
</body>
</html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
