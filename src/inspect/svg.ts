/**
 * The chart as a standalone SVG: every state is a `<g class="state" id="state-<id>" data-state="<id>">`, so a page
 * can highlight the active states by id; every edge is a `<g class="edge" data-source data-target>`.
 */
import { chartModel, transitionLabel, type ChartModel } from './chartModel.js';
import { ANY_STATE_ID, CHART_FONT, layoutChart, type ChartLayout, type LaidOutEdge, type LaidOutState } from './chartLayout.js';

/** The element id of a state's group in the SVG (`state-member.following.secondary.watching`). */
export function stateElementId(stateId: string): string {
  return `state-${stateId}`;
}

const STYLE = `
.chart-title{font:bold 13px sans-serif;fill:#1f2933}
text{font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:${CHART_FONT.size}px;fill:#1f2933;white-space:pre}
.state>rect{fill:#fff;stroke:#52606d;stroke-width:1.2}
.state.compound>rect,.state.parallel>rect{fill:#f5f7fa}
.state.region>rect{fill:none;stroke-dasharray:5 4}
.state .title{font-weight:bold;font-size:${CHART_FONT.titleSize}px}
.state .listed{fill:#3e4c59}
.state.active>rect{fill:#d9f2e6;stroke:#0b7a4b;stroke-width:2.5}
.state.region.active>rect{fill:none}
.edge path{fill:none;stroke:#7b8794;stroke-width:1.1}
.edge .label{fill:#3e4c59}
.edge .label-bg{fill:#fff;fill-opacity:.85}
.edge.initial path{stroke:#1f2933}
.edge.taken path{stroke:#d64545;stroke-width:2.5}
.edge.taken .label,.edge.taken.listed text{fill:#d64545;font-weight:bold}
.pseudo.initial{fill:#1f2933}
.pseudo.any>rect{fill:#fffbea;stroke:#b7950b;stroke-dasharray:3 3}
.pseudo.any .title{font-weight:bold;font-size:${CHART_FONT.titleSize}px}
`.trim();

/**
 * Renders `model` (default: the node machine's chart) as SVG text. Deterministic: the same model gives the same
 * bytes, which is how `docs/statechart.svg` is checked for staleness.
 *
 * @example
 * const svg = await renderChartSvg();
 * svg.includes('id="state-member.following.secondary.watching"') // true
 */
export async function renderChartSvg(model: ChartModel = chartModel()): Promise<string> {
  const layout = await layoutChart(model);
  return svgFromLayout(model, layout);
}

/** Renders an already laid-out chart. */
export function svgFromLayout(model: ChartModel, layout: ChartLayout): string {
  const margin = 6;
  const titleHeight = 18;
  const width = layout.width + margin * 2;
  const height = layout.height + margin * 2 + titleHeight;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="ag-chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" data-machine="${escapeXml(model.machineId)}">`,
    `<style>${STYLE}</style>`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#7b8794"/></marker></defs>',
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text class="chart-title" x="${margin}" y="${margin + 11}">${escapeXml(model.machineId)} statechart (generated from the machine definition; […] marks a guarded trigger, ✓ and ✗ an invoked actor's done and error; hover a state or edge for its actions and guards)</text>`,
    `<g transform="translate(${margin},${margin + titleHeight})">`,
  ];
  // Parents come before children in layout order, so nested boxes are drawn on top of their containers.
  for (const state of layout.states) out.push(stateSvg(state));
  for (const pseudo of layout.pseudo) {
    if (pseudo.kind === 'initial') {
      out.push(`<circle class="pseudo initial" cx="${num(pseudo.x + pseudo.width / 2)}" cy="${num(pseudo.y + pseudo.height / 2)}" r="${num(pseudo.width / 2)}"/>`);
    } else {
      out.push(`<g class="pseudo any" id="state-any"><rect x="${num(pseudo.x)}" y="${num(pseudo.y)}" width="${num(pseudo.width)}" height="${num(pseudo.height)}" rx="4"/>`);
      out.push(`<text class="title" x="${num(pseudo.x + 5)}" y="${num(pseudo.y + 5 + CHART_FONT.titleSize - 1)}">${escapeXml(ANY_STATE_ID)}</text>`);
      pseudo.lines.forEach((line, index) => {
        out.push(`<text x="${num(pseudo.x + 5)}" y="${num(pseudo.y + 5 + CHART_FONT.titleLineHeight + CHART_FONT.size - 1 + index * CHART_FONT.lineHeight)}">${escapeXml(line)}</text>`);
      });
      out.push('</g>');
    }
  }
  // Edges first, then their labels on top of every edge line.
  for (const edge of layout.edges) out.push(edgeSvg(edge));
  out.push('</g>', '</svg>');
  return `${out.join('\n')}\n`;
}

function stateSvg(laid: LaidOutState): string {
  const { state } = laid;
  const classes = ['state', state.type, ...(laid.region ? ['region'] : [])].join(' ');
  const title = laid.region ? `${state.key} (region)` : state.type === 'parallel' ? `${state.key} (parallel)` : state.key;
  const tooltip = [state.id, ...laid.details].join('\n');
  const lines = [`<title>${escapeXml(tooltip)}</title>`, `<text class="title" x="${num(laid.x + 5)}" y="${num(laid.y + 5 + CHART_FONT.titleSize - 1)}">${escapeXml(title)}</text>`];
  let row = 0;
  for (const listed of laid.listed) {
    const ids = listed.transitions.map((transition) => transition.id).join(' ');
    const texts = listed.lines.map((line) => {
      const y = num(laid.y + 5 + CHART_FONT.titleLineHeight + CHART_FONT.size - 1 + CHART_FONT.lineHeight * row++);
      return `<text class="listed" x="${num(laid.x + 5)}" y="${y}">${escapeXml(line)}</text>`;
    });
    const tooltip = `<title>${escapeXml(listed.transitions.map((transition) => `${transitionLabel(transition)} → ${listed.target}`).join('\n'))}</title>`;
    lines.push(`<g class="edge listed" data-source="${escapeXml(state.id)}" data-target="${escapeXml(listed.target)}" data-transitions="${ids}">${tooltip}${texts.join('')}</g>`);
  }
  return [
    `<g class="${classes}" id="${escapeXml(stateElementId(state.id))}" data-state="${escapeXml(state.id)}">`,
    `<rect x="${num(laid.x)}" y="${num(laid.y)}" width="${num(laid.width)}" height="${num(laid.height)}" rx="5"/>`,
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
  if (edge.transitions.length > 0) parts.push(`<title>${escapeXml(edge.transitions.map(transitionLabel).join('\n'))}</title>`);
  if (edge.label !== null) {
    const { x, y, width, height, lines } = edge.label;
    parts.push(`<rect class="label-bg" x="${num(x)}" y="${num(y)}" width="${num(width)}" height="${num(height)}"/>`);
    lines.forEach((line, index) => {
      parts.push(`<text class="label" x="${num(x)}" y="${num(y + CHART_FONT.size - 1 + index * CHART_FONT.lineHeight)}">${escapeXml(line)}</text>`);
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
