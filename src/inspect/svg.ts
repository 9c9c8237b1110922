/**
 * The chart as a standalone SVG: every state is a `<g class="state" id="state-<id>" data-state="<id>">`, so a page
 * can highlight the active states by id; every edge is a `<g class="edge" data-source data-target>`.
 */
import { chartModel, type ChartModel } from './chartModel.js';
import { CHART_FONT, layoutChart, type ChartLayout, type LaidOutEdge, type LaidOutState } from './chartLayout.js';

/** The element id of a state's group in the SVG (`state-secondary.watching`). */
export function stateElementId(stateId: string): string {
  return `state-${stateId}`;
}

const STYLE = `
.chart-title{font:bold 14px sans-serif;fill:#1f2933}
text{font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:${CHART_FONT.size}px;fill:#1f2933}
.state>rect{fill:#fff;stroke:#52606d;stroke-width:1.2}
.state.compound>rect,.state.parallel>rect{fill:#f5f7fa}
.state.region>rect{fill:none;stroke-dasharray:5 4}
.state .title{font-weight:bold;font-size:${CHART_FONT.titleSize}px}
.state .detail{fill:#52606d}
.state.active>rect{fill:#d9f2e6;stroke:#0b7a4b;stroke-width:2.5}
.state.region.active>rect{fill:none}
.edge path{fill:none;stroke:#7b8794;stroke-width:1.1}
.edge text{fill:#3e4c59;font-size:${CHART_FONT.size - 1}px}
.edge.initial path{stroke:#1f2933}
.edge.taken path{stroke:#d64545;stroke-width:2.5}
.pseudo.initial{fill:#1f2933}
.pseudo.any>rect{fill:#fff;stroke:#9aa5b1;stroke-dasharray:2 3}
`.trim();

/**
 * Renders `model` (default: the node machine's chart) as SVG text. Deterministic: the same model gives the same
 * bytes, which is how `docs/statechart.svg` is checked for staleness.
 *
 * @example
 * const svg = await renderChartSvg();
 * svg.includes('id="state-secondary.watching"') // true
 */
export async function renderChartSvg(model: ChartModel = chartModel()): Promise<string> {
  const layout = await layoutChart(model);
  return svgFromLayout(model, layout);
}

/** Renders an already laid-out chart. */
export function svgFromLayout(model: ChartModel, layout: ChartLayout): string {
  const margin = 12;
  const titleHeight = 24;
  const width = layout.width + margin * 2;
  const height = layout.height + margin * 2 + titleHeight;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="ag-chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" data-machine="${escapeXml(model.machineId)}">`,
    `<style>${STYLE}</style>`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#7b8794"/></marker></defs>',
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text class="chart-title" x="${margin}" y="${margin + 12}">${escapeXml(model.machineId)} statechart (generated from the machine definition)</text>`,
    `<g transform="translate(${margin},${margin + titleHeight})">`,
  ];
  // Parents come before children in layout order, so nested boxes are drawn on top of their containers.
  for (const state of layout.states) out.push(stateSvg(state));
  for (const pseudo of layout.pseudo) {
    if (pseudo.kind === 'initial') {
      out.push(`<circle class="pseudo initial" cx="${num(pseudo.x + pseudo.width / 2)}" cy="${num(pseudo.y + pseudo.height / 2)}" r="${num(pseudo.width / 2)}"/>`);
    } else {
      out.push(`<g class="pseudo any" id="state-any"><rect x="${num(pseudo.x)}" y="${num(pseudo.y)}" width="${num(pseudo.width)}" height="${num(pseudo.height)}" rx="6"/>`);
      out.push(`<text class="title" x="${num(pseudo.x + 8)}" y="${num(pseudo.y + 8 + CHART_FONT.size)}">(any state)</text></g>`);
    }
  }
  for (const edge of layout.edges) out.push(edgeSvg(edge));
  out.push('</g>', '</svg>');
  return `${out.join('\n')}\n`;
}

function stateSvg(laid: LaidOutState): string {
  const { state } = laid;
  const classes = ['state', state.type, ...(laid.region ? ['region'] : [])].join(' ');
  const title = laid.region ? `${state.key} (region)` : state.type === 'parallel' ? `${state.key} (parallel)` : state.key;
  const lines = [`<text class="title" x="${num(laid.x + 8)}" y="${num(laid.y + 8 + CHART_FONT.size)}">${escapeXml(title)}</text>`];
  laid.details.forEach((line, index) => {
    lines.push(`<text class="detail" x="${num(laid.x + 8)}" y="${num(laid.y + 8 + CHART_FONT.size + CHART_FONT.lineHeight * (index + 1))}">${escapeXml(line)}</text>`);
  });
  return [
    `<g class="${classes}" id="${escapeXml(stateElementId(state.id))}" data-state="${escapeXml(state.id)}">`,
    `<rect x="${num(laid.x)}" y="${num(laid.y)}" width="${num(laid.width)}" height="${num(laid.height)}" rx="8"/>`,
    ...lines,
    '</g>',
  ].join('\n');
}

function edgeSvg(edge: LaidOutEdge): string {
  const d = edge.points.map((point, index) => `${index === 0 ? 'M' : 'L'}${num(point.x)},${num(point.y)}`).join(' ');
  const ids = edge.transitions.map((transition) => transition.id).join(' ');
  const parts = [
    `<g class="edge${edge.initial ? ' initial' : ''}" data-source="${escapeXml(edge.source)}" data-target="${escapeXml(edge.target)}"${ids === '' ? '' : ` data-transitions="${ids}"`}>`,
    `<path d="${d}" marker-end="url(#arrow)"/>`,
  ];
  if (edge.label !== null) {
    const { x, y, lines } = edge.label;
    lines.forEach((line, index) => {
      parts.push(`<text x="${num(x)}" y="${num(y + CHART_FONT.size + index * CHART_FONT.lineHeight - 2)}">${escapeXml(line)}</text>`);
    });
  }
  parts.push('</g>');
  return parts.join('\n');
}

/** Coordinates rounded to 0.1 px: smaller files, and no float noise in the generated output. */
function num(value: number): string {
  return String(Math.round(value * 10) / 10);
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
