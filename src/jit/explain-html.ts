/**
 * explain() as one self-contained HTML page (no network: styles and the one small script are
 * inline): the summary, then per variant its guards with their source lines, timings, the IR
 * before and after each pass side by side, the optimized IR coloured by kernel (a line opens
 * its kernel's generated code), the DOT text of the graph, and the fusions not made.
 */
import { printGraph, type Graph } from '../../compiler/ir/graph.js';
import { toDot } from '../../compiler/ir/dot.js';
import { fmtValues, formatSummary, type ExplainedVariant, type ExplanationData } from './explain.js';

/** Text made safe for HTML element content and attribute values. */
function esc(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A distinct light colour per kernel index (only numbers reach the style). */
function kernelColour(k: number): string {
  return `hsl(${(k * 67) % 360} 75% 86%)`;
}

/** The lines of a printed graph, each with the node it belongs to (a loop's nested lines belong to the loop). */
function irLines(g: Graph): { node: number; text: string }[] {
  let node = -1;
  return printGraph(g)
    .split('\n')
    .map((text) => {
      if (!text.startsWith(' ')) node++;
      return { node, text };
    });
}

/** `<ul>` of escaped items. */
function list(items: readonly string[]): string {
  return `<ul>${items.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>`;
}

/** A table row of escaped cells, the first a heading. */
function row(head: string, ...cells: string[]): string {
  return `<tr><th>${esc(head)}</th>${cells.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`;
}

/** A `<details>` element: `summary` and `body` are HTML already. */
function details(attrs: string, summary: string, body: string): string {
  return `<details ${attrs}><summary>${summary}</summary>\n${body}</details>`;
}

const nodeList = (nodes: readonly number[]) => nodes.map((n) => `%${n}`).join(' ');

function stagesHtml(v: ExplainedVariant, id: string): string {
  const stages = v.stages();
  return stages
    .slice(1)
    .map((st, k) => {
      const before = stages[k]!;
      const name = esc(st.pass);
      const summary = `pass ${name}: ${st.changes.length} changes, ${before.graph.nodes.length} → ${st.graph.nodes.length} nodes`;
      const pair =
        `<div class="pair"><div><h4>before ${name}</h4><pre class="ir">${esc(printGraph(before.graph))}</pre></div>` +
        `<div><h4>after ${name}</h4><pre class="ir">${esc(printGraph(st.graph))}</pre></div></div>`;
      return details(
        `class="pass" id="${id}-pass-${k + 1}"`,
        summary,
        (st.changes.length ? list(st.changes) : '<p>no change</p>') + pair,
      );
    })
    .join('\n');
}

function kernelsHtml(v: ExplainedVariant, id: string): string {
  const g = v.optimizedGraph;
  if (g === undefined) return '<p>Not compiled yet: kernels are planned on the first replay.</p>';
  const kernelOf = new Map<number, number>();
  v.kernels.forEach((kn, k) => {
    // Loop kernels number the nodes of the loop's own graphs; only the top level is coloured.
    if (!kn.kind.includes(' of loop %')) kn.nodes.forEach((n) => kernelOf.set(n, k));
  });
  const lines = irLines(g).map(({ node, text }) => {
    const k = kernelOf.get(node);
    if (k === undefined) return `<span class="line">${esc(text)}</span>`;
    return `<span class="line k" data-kernel="${id}-kernel-${k + 1}" style="background:${kernelColour(k)}">${esc(text)}</span>`;
  });
  const kernels = v.kernels.map((kn, k) => {
    const swatch = `<span class="swatch" style="background:${kernelColour(k)}"></span>`;
    const summary = `${swatch}kernel ${k + 1} (${esc(kn.kind)}) computes ${nodeList(kn.nodes)}; stores ${nodeList(kn.stores)}`;
    return details(
      `class="kernel" id="${id}-kernel-${k + 1}"`,
      summary,
      `<pre class="code"><code>${esc(kn.source)}</code></pre>`,
    );
  });
  const intro = '<p>Click a coloured line to open the kernel that computes it.</p>';
  return `${intro}<pre class="ir fused">${lines.join('')}</pre>\n${kernels.join('\n')}`;
}

function variantHtml(v: ExplainedVariant, i: number): string {
  const id = `v${i + 1}`;
  const guards =
    v.guards.length === 0
      ? '<p>None: a replay checks nothing before it runs.</p>'
      : `<table><tr><th>read</th><th>at</th><th>traced value</th></tr>${v.guards.map((g) => row(g.how, g.site, fmtValues(g.expected))).join('')}</table>`;
  const timing =
    v.kernelCount === undefined
      ? '<p>Not compiled yet.</p>'
      : `<table>${[
          row('kernels per call', `${v.kernelCount} (${v.kernelsBeforeFusion} ops before fusion)`),
          row('peak intermediates', `${v.peakBytes} bytes`),
          row('compile time', `${v.compileMs?.toFixed(1) ?? '?'} ms`),
          row('nodes', `${v.recorded.nodes.length} recorded, ${v.optimizedNodes} after passes`),
        ].join('')}</table>`;
  const fusions = v.rejectedFusions.length === 0 ? '<p>None.</p>' : list(v.rejectedFusions);
  const groups = v.kernels
    .filter((k) => !k.kind.includes(' of loop %'))
    .map((k, n) => ({ label: `kernel ${n + 1} (${k.kind})`, nodes: k.nodes }));
  const dot = v.optimizedGraph
    ? toDot(v.optimizedGraph, { title: `variant ${i + 1}`, groups })
    : toDot(v.recorded, { title: `variant ${i + 1} (recorded)` });
  const control = v.controlFlow.length ? `<h3>Control flow</h3>${list(v.controlFlow)}` : '';
  return `<section class="variant" id="${id}"><h2>Variant ${i + 1} (${v.device})</h2>
<h3>Guards</h3>${guards}${control}
<h3>Timings and memory</h3>${timing}
<h3>IR before and after each pass</h3>${stagesHtml(v, id)}
<h3>Kernels (fusion groups)</h3>${kernelsHtml(v, id)}
<h3>Fusions not made</h3>${fusions}
${details('', 'Graphviz DOT of the graph (<code>dot -Tsvg</code>)', `<pre class="dot">${esc(dot)}</pre>`)}</section>`;
}

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:1.5em auto;max-width:1200px;padding:0 1em;color:#111}
pre{background:#f8fafc;border:1px solid #e2e8f0;padding:.6em;overflow:auto;font:12px/1.4 ui-monospace,monospace}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:.8em}.pair pre{max-height:28em}
.line{display:block}.line.k{cursor:pointer}.swatch{display:inline-block;width:.9em;height:.9em;margin-right:.4em;border:1px solid #999}
table{border-collapse:collapse}td,th{border:1px solid #e2e8f0;padding:.2em .6em;text-align:left;vertical-align:top}
details{margin:.3em 0}summary{cursor:pointer}section.variant{border-top:2px solid #cbd5e1;margin-top:1.5em}`;

// Opens the kernel of a clicked IR line and scrolls to it; written out here, never built from data.
const SCRIPT = `document.addEventListener('click',function(e){var l=e.target.closest('.line.k');if(!l)return;
var d=document.getElementById(l.getAttribute('data-kernel'));if(d){d.open=true;d.scrollIntoView({block:'nearest'});}});`;

/** The page for one signature's explanation. */
export function explanationHtml(d: ExplanationData): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>kiln explain: jit(${esc(d.name)})</title><style>${STYLE}</style></head>
<body><h1>jit(${esc(d.name)})</h1>
<section id="summary"><h2>Summary</h2><pre>${esc(formatSummary(d))}</pre></section>
${d.variants.map(variantHtml).join('\n')}
<section id="events"><h2>Events</h2>${list(d.events)}</section>
<script>${SCRIPT}</script></body></html>
`;
}

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};

/** KILN_EXPLAIN_HTML: a folder that receives one page per compiled variant, on its first replay. */
export const explainHtmlDir = env.KILN_EXPLAIN_HTML || undefined;

interface NodeFs {
  mkdirSync(path: string, options: { recursive: boolean }): unknown;
  writeFileSync(path: string, data: string): void;
}

/** FNV-1a of a signature, so each signature's pages get a short stable name. */
function hash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

/**
 * Writes the page of `d` as `<dir>/<function>-<signature hash>-v<variants>.html` (Node only:
 * the file system comes from process.getBuiltinModule, so browsers never load it).
 */
export function writeExplainPage(dir: string, d: ExplanationData): string | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const fs = proc?.getBuiltinModule?.('node:fs') as NodeFs | undefined;
  if (fs === undefined) return undefined;
  const file = `${dir.replace(/\/+$/, '')}/${d.name.replace(/[^\w-]/g, '_')}-${hash(d.signature)}-v${d.variants.length}.html`;
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(file, explanationHtml(d));
  return file;
}

/** `fn.explain(...args)` as a self-contained HTML page. */
export function explainHtml<A extends unknown[]>(fn: { explain(...args: A): { html(): string } }, ...args: A): string {
  return fn.explain(...args).html();
}
