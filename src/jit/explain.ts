/**
 * What `fn.explain(...args)` tells: a summary a person reads top-down (state, calls,
 * variants and the guard that separates them, kernels before and after fusion, memory,
 * compile time, why it retraced), and the long parts (IR before and after the passes, the
 * passes' changes, every kernel with its source, rejected fusions, events) as named
 * sections, printed on request with `format({ ir: true, kernels: true })`.
 */
import { printGraph, type Graph, type Node } from '../../compiler/ir/graph.js';
import { formatParamsExact } from '../../compiler/ir/text.js';
import { renderJs } from '../../compiler/codegen/js.js';
import type { KernelSpec } from '../../compiler/kernel.js';
import { launchesKernel } from '../../compiler/passes/plan-memory.js';
import { runPasses, type NamedPass, type PassReport } from '../../compiler/passes/pipeline.js';
import { outputList } from './stage.js';
import { compileTime } from './compile-time.js';
import { DeviceLoop } from './loop-device.js';
import { HostLoop } from './loop-host.js';
import { webGpuKernelSource, webGpuLaunchCount } from './replay-webgpu.js';
import { resolveSite } from './site.js';
import type { JitStats } from './jit-options.js';
import type { Guard, Trace } from './trace.js';
import type { Variant } from './variant.js';
import { usesWebGpu } from './webgpu-check.js';
import { cpuEngine, cpuEngineInfo } from '../../runtime/wasm/engine.js';

/** A guard as explained to users. */
export interface ExplainedGuard {
  site: string;
  how: string;
  expected: number[];
}

/** A kernel of a compiled variant: the nodes it computes, the values it stores, its source. */
export interface ExplainedKernel {
  kind: string;
  nodes: number[];
  stores: number[];
  /** Generated code (JS or WGSL); an unfused op runs the eager kernel of its one node. */
  source: string;
}

/** One recorded path of a signature. */
export interface ExplainedVariant {
  device: 'cpu' | 'webgpu';
  /** The recorded IR, as people read it. */
  graph: string;
  /** The recorded graph itself. */
  recorded: Graph;
  controlFlow: string[];
  guards: ExplainedGuard[];
  captures: number;
  randomDraws: number;
  kernels: ExplainedKernel[];
  kernelCount: number | undefined;
  /** Kernels one call would launch with every op on its own (the optimized graph's ops that launch one). */
  kernelsBeforeFusion: number | undefined;
  peakBytes: number | undefined;
  rejectedFusions: string[];
  optimized: string | undefined;
  /** Nodes of the graph after the passes. */
  optimizedNodes: number | undefined;
  passes: PassReport[];
  /** Milliseconds spent in passes and fusion planning. */
  compileMs: number | undefined;
  /** The graph before the passes and after each one (computed when called: it reruns them). */
  stages(): PassStage[];
  /** The optimized graph and its kernels' node lists, for pictures; undefined before compiling. */
  optimizedGraph: Graph | undefined;
}

/** The graph after one pass (the first stage, pass "recorded", is the recording). */
export interface PassStage {
  pass: string;
  graph: Graph;
  changes: string[];
}

/** Sections `format` can add after the summary. */
export interface ExplainSections {
  /** The recorded IR and the IR after the passes. */
  ir?: boolean;
  /** What each pass changed. */
  passes?: boolean;
  /** Every kernel with the nodes it computes and its generated code. */
  kernels?: boolean;
  /** Every fusion that was not made, and why. */
  fusions?: boolean;
  /** Every guard (the summary shows the first few). */
  guards?: boolean;
  /** Every recorded event (the summary shows the last few). */
  events?: boolean;
  /** All of the above. */
  all?: boolean;
}

/** The sections by name, for a caller that wants one part as a string. */
export type SectionName = Exclude<keyof ExplainSections, 'all'>;

const SECTION_NAMES: readonly SectionName[] = ['ir', 'passes', 'kernels', 'fusions', 'guards', 'events'];

/**
 * A CPU kernel as text. The Wasm engine runs a binary module with no text worth reading, so
 * there it is the JavaScript engine's code for the same spec, headed by a line saying so.
 */
function cpuKernelSource(spec: KernelSpec): string {
  const js = renderJs(spec);
  if (cpuEngine() === 'js') return js;
  const head = '// the wasm CPU engine runs this spec as a WebAssembly module; the JavaScript engine runs:';
  return `${head}\n${js}`;
}

/** The kernels of `v`'s plan (and its lifted loops' plans), unfused ops that launch one included. */
function kernelsOf(v: Variant): ExplainedKernel[] {
  const graph = v.program?.graph;
  const own = (v.plan?.steps ?? []).flatMap((st): ExplainedKernel[] => {
    if (st.kind === 'fused')
      return [
        {
          kind: st.spec.kind,
          nodes: st.nodes,
          stores: st.outputs,
          source: webGpuKernelSource(v, st) ?? cpuKernelSource(st.spec),
        },
      ];
    const n = graph?.nodes[st.node];
    if (n === undefined || !launchesKernel(n)) return [];
    return [
      {
        kind: `${n.op}, unfused`,
        nodes: [st.node],
        stores: [st.node],
        source: `(the eager ${n.op} kernel for ${n.dtype}[${n.shape}])`,
      },
    ];
  });
  const loops = [...v.loops].flatMap(([node, runner]) => runner instanceof DeviceLoop
    ? [{ kind: `loop, the whole of loop %${node} on WebGPU`, nodes: [node], stores: [node], source: runner.source }]
    : Object.entries(runner.plans).flatMap(([part, plan]) =>
      plan.steps.flatMap((st) =>
        st.kind === 'fused'
          ? [
              {
                kind: `${st.spec.kind}, in the ${part} of loop %${node}`,
                nodes: st.nodes,
                stores: st.outputs,
                source: runner instanceof HostLoop ? runner.source(st) : cpuKernelSource(st.spec),
              },
            ]
          : [],
      ),
    ),
  );
  return [...own, ...loops];
}

/** Distinct entries with how often each occurs ("… (×3)"), in first-seen order. */
function counted(items: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const s of items) counts.set(s, (counts.get(s) ?? 0) + 1);
  return [...counts].map(([s, n]) => (n > 1 ? `${s} (×${n})` : s));
}

/** The recording, then the graph after each of `passes` in turn. */
function passStages(v: Variant, passes: readonly NamedPass[]): PassStage[] {
  const stages: PassStage[] = [{ pass: 'recorded', graph: v.trace.graph, changes: [] }];
  let outputs = new Set(outputList(v.output));
  for (const p of passes) {
    const r = runPasses(stages.at(-1)!.graph, [p], { outputs });
    outputs = r.outputs;
    stages.push({ pass: p.name, graph: r.graph, changes: r.reports[0]!.changes });
  }
  return stages;
}

/** What explain says about one variant, compiled with `passes`. */
export function explainVariant(v: Variant, passes: readonly NamedPass[]): ExplainedVariant {
  const graph = v.program?.graph;
  return {
    device: usesWebGpu(v) ? 'webgpu' : 'cpu',
    graph: printGraph(v.trace.graph),
    recorded: v.trace.graph,
    controlFlow: [...v.trace.controlNotes.values()],
    guards: v.trace.guards.map((g) => ({ site: g.site, how: g.how, expected: g.expected })),
    captures: v.trace.captures.length,
    randomDraws: v.trace.randomCount,
    kernels: kernelsOf(v),
    kernelCount: webGpuLaunchCount(v) ?? v.plan?.kernelCount,
    kernelsBeforeFusion: graph?.nodes.filter(launchesKernel).length,
    peakBytes: v.plan?.peakBytes,
    rejectedFusions: counted(v.plan?.rejected ?? []),
    optimized: graph ? printGraph(graph) : undefined,
    optimizedNodes: graph?.nodes.length,
    passes: v.program?.reports ?? [],
    compileMs: compileTime(v),
    stages: () => passStages(v, passes),
    optimizedGraph: graph,
  };
}

/** Values as a short list. */
export function fmtValues(v: readonly number[] | string): string {
  if (typeof v === 'string') return v;
  return v.length > 6 ? `[${v.slice(0, 6).join(', ')}, … ${v.length} values]` : `[${v.join(', ')}]`;
}

/** One node as its line of the exact text form, numbered as in its graph. */
function nodeText(n: Node, i: number): string {
  return `%${i} = ${n.op}(${n.inputs.map((x) => `%${x}`).join(', ')})${formatParamsExact(n.params)} : ${n.dtype}[${n.shape}]`;
}

/**
 * Where recording `b` first differs from recording `a` of the same signature: the first
 * node that differs, with the user's line that made it in `b` when `b` recorded lines, or
 * the part of the recording (captured tensors, grad modes, constants, result) that differs.
 */
export function traceDifference(a: Variant, b: Variant, sites: readonly (string | Error)[]): string {
  const na = a.trace.graph.nodes,
    nb = b.trace.graph.nodes;
  for (let i = 0; i < Math.max(na.length, nb.length); i++) {
    const x = na[i] ? nodeText(na[i]!, i) : undefined,
      y = nb[i] ? nodeText(nb[i]!, i) : undefined;
    if (x === y) continue;
    const at = sites[i] !== undefined ? ` (made at ${resolveSite(sites[i]!)})` : '';
    if (x === undefined) return `it records more nodes, from %${i}${at}: \`${clip(y!)}\``;
    if (y === undefined) return `it records fewer nodes: it ends before %${i} (\`${clip(x)}\`)`;
    return `first at %${i}${at}: the previous trace recorded \`${clip(x)}\`, this one \`${clip(y)}\``;
  }
  const fa = a.fingerprint.split('\n'),
    fb = b.fingerprint.split('\n');
  const part = fb.find((line, k) => line !== fa[k]);
  return part === undefined
    ? 'the recordings are equal'
    : `the graphs are equal; they differ in ${part.split(' ')[0]} ${part.split(' ')[1] ?? ''}`.trim();
}

function clip(s: string): string {
  return s.length > 140 ? `${s.slice(0, 140)}…` : s;
}

/** The guard that separates two variants: read at the same place with different values. */
export function separatingGuard(
  a: readonly Guard[] | readonly ExplainedGuard[],
  b: readonly Guard[] | readonly ExplainedGuard[],
): string | undefined {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const g = a[i]!,
      h = b[i]!;
    if (g.site !== h.site || g.how !== h.how)
      return `they read different values (guard ${i + 1}: ${g.how} at ${g.site} vs ${h.how} at ${h.site})`;
    if (g.expected.length !== h.expected.length || g.expected.some((x, k) => !Object.is(x, h.expected[k]))) {
      return `${g.how} at ${g.site}: ${fmtValues(g.expected)} vs ${fmtValues(h.expected)}`;
    }
  }
  return undefined;
}

/** What an Explanation holds, before formatting. */
export interface ExplanationData {
  name: string;
  signature: string;
  state: string;
  variants: ExplainedVariant[];
  events: string[];
  stats: JitStats;
}

const indent = (text: string, by = '    ') =>
  text
    .split('\n')
    .map((l) => by + l)
    .join('\n');
const SHOWN_GUARDS = 4;
const SHOWN_EVENTS = 6;

/** The summary: what a person needs to see first, a few dozen lines at most. */
export function formatSummary(d: ExplanationData): string {
  const signature =
    d.signature.length > 200 ? `${d.signature.slice(0, 200)}… (explanation.signature has all of it)` : d.signature;
  const s = d.stats;
  const lines = [
    `jit(${d.name}) for signature ${signature}: ${d.state}`,
    `  ${s.calls} calls: ${s.traces} traced, ${s.replays} replayed, ${s.fallbacks} fell back; ${d.variants.length} variant${d.variants.length === 1 ? '' : 's'} here`,
  ];
  if (d.variants.some((v) => v.device === 'cpu')) {
    const cpu = cpuEngineInfo();
    lines.push(`  CPU kernels run on the ${cpu.engine} engine (${cpu.reason})`);
  }
  if (s.untraced > 0) {
    lines.push(`  recompile limit reached after ${s.recompiles} recompiles: ${s.untraced} calls ran eagerly untraced`);
  }
  d.variants.forEach((v, i) => {
    const nodes = `${v.recorded.nodes.length} nodes recorded${v.optimizedNodes !== undefined ? `, ${v.optimizedNodes} after passes` : ''}`;
    lines.push(
      `variant ${i + 1} (${v.device}): ${nodes}; ${v.captures} captured tensors, ${v.randomDraws} random draws, ${v.guards.length} guards`,
    );
    if (v.kernelCount !== undefined) {
      const compile = v.compileMs !== undefined ? `, compiled in ${v.compileMs.toFixed(1)} ms` : '';
      lines.push(
        `  ${v.kernelCount} kernels per call (${v.kernelsBeforeFusion} ops before fusion), peak ${v.peakBytes} bytes of intermediates${compile}`,
      );
    } else {
      lines.push('  not compiled yet: the next call with this signature compiles it');
    }
    for (const c of v.controlFlow) lines.push(`  ${c}`);
    for (const g of v.guards.slice(0, SHOWN_GUARDS))
      lines.push(`  guard ${g.how} at ${g.site}: ${fmtValues(g.expected)}`);
    if (v.guards.length > SHOWN_GUARDS)
      lines.push(`  … ${v.guards.length - SHOWN_GUARDS} more guards (format({ guards: true }))`);
    if (v.rejectedFusions.length > 0)
      lines.push(`  ${v.rejectedFusions.length} fusions not made (format({ fusions: true }))`);
    if (i > 0) {
      const why = separatingGuard(d.variants[i - 1]!.guards, v.guards);
      if (why !== undefined) lines.push(`  differs from variant ${i}: ${why}`);
    }
  });
  const recent = d.events.slice(-SHOWN_EVENTS);
  if (recent.length > 0) {
    lines.push(d.events.length > recent.length ? `last ${recent.length} of ${d.events.length} events:` : 'events:');
    // The signature is on the first line: events name it "this signature".
    for (const e of recent) lines.push(`  ${clip(e.split(d.signature).join('this signature')).replace(/\n/g, ' ')}`);
  }
  lines.push(
    'more: format({ ir, passes, kernels, fusions, guards, events }) or format({ all: true }); sections.<name> as strings',
  );
  return lines.join('\n');
}

/** One named section of every variant. */
export function formatSection(d: ExplanationData, name: SectionName): string {
  const lines: string[] = [];
  const per = (title: string, body: (v: ExplainedVariant) => string[]) => {
    d.variants.forEach((v, i) => {
      const b = body(v);
      if (b.length > 0) lines.push(`${title} of variant ${i + 1}:`, ...b);
    });
  };
  switch (name) {
    case 'ir':
      per('IR', (v) => [
        '  recorded IR:',
        indent(v.graph),
        ...(v.optimized !== undefined ? ['  optimized IR (kernels refer to it):', indent(v.optimized)] : []),
      ]);
      break;
    case 'passes':
      per('passes', (v) =>
        v.passes.map((r) => `  pass ${r.pass}: ${r.changes.length ? r.changes.join('; ') : 'no change'}`),
      );
      break;
    case 'kernels':
      per('kernels', (v) =>
        v.kernels.flatMap((k, j) => [
          `  kernel ${j + 1} (${k.kind}) computes ${k.nodes.map((n) => `%${n}`).join(' ')}; stores ${k.stores.map((n) => `%${n}`).join(' ')}`,
          indent(k.source),
        ]),
      );
      break;
    case 'fusions':
      per('fusions not made', (v) => v.rejectedFusions.map((r) => `  not fused: ${r}`));
      break;
    case 'guards':
      per('guards', (v) => v.guards.map((g) => `  guard ${g.how} at ${g.site}: ${fmtValues(g.expected)}`));
      break;
    case 'events':
      lines.push('events:', ...d.events.map((e) => `  ${e}`));
      break;
    default: {
      const never: never = name;
      throw new Error(`internal: unknown explain section ${String(never)}`);
    }
  }
  return lines.join('\n');
}

/** The summary followed by the sections asked for. */
export function formatExplanation(d: ExplanationData, sections: ExplainSections = {}): string {
  const parts = [formatSummary(d)];
  for (const name of SECTION_NAMES) {
    if (!(sections.all || sections[name])) continue;
    const text = formatSection(d, name);
    if (text !== '') parts.push(text);
  }
  return parts.join('\n');
}

/** Every section by name, computed when read. */
export function sectionsOf(d: ExplanationData): Record<SectionName, string> {
  const out = {} as Record<SectionName, string>;
  for (const name of SECTION_NAMES)
    Object.defineProperty(out, name, { enumerable: true, get: () => formatSection(d, name) });
  return out;
}

/** A guard as messages name it: what was read and where. */
export function guardName(g: Guard): string {
  return `${g.how} at ${g.site}`;
}

/** The first guard read at the same place in two traces with different values. */
export function changedGuard(a: Trace, b: Trace): Guard | undefined {
  for (let i = 0; i < Math.min(a.guards.length, b.guards.length); i++) {
    const g = a.guards[i]!, h = b.guards[i]!;
    if (g.site !== h.site || g.how !== h.how) return undefined;
    if (g.expected.length !== h.expected.length || g.expected.some((x, k) => !Object.is(x, h.expected[k]))) return h;
  }
  return undefined;
}
