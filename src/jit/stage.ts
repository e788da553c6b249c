/**
 * The compiler's stages as an API, as JAX's `make_jaxpr` and `jit(f).lower(...)`: `trace`
 * records what a function computes for some example arguments without compiling or caching
 * anything, and `optimize` runs the graph passes on that recording. Each stage prints.
 * exportOnnx and the explain pages start from here.
 */
import { renderJs } from '../../compiler/codegen/js.js';
import type { Graph } from '../../compiler/ir/graph.js';
import { contiguousStrides } from '../../compiler/ir/shape.js';
import { planFusion, type FusionPlan } from '../../compiler/passes/fuse.js';
import { isView } from '../../compiler/passes/pass.js';
import { printGraphExact } from '../../compiler/ir/text.js';
import { defaultPasses, runPasses, type NamedPass, type PassReport } from '../../compiler/passes/pipeline.js';
import { JitError } from '../../runtime/errors.js';
import type { Tensor } from '../tensor.js';
import { runTraced } from './context.js';
import { verifyPasses } from './log.js';
import { walkArgs } from './signature.js';
import { Trace, type Guard } from './trace.js';
import { makeVariant, type OutputSpec } from './variant.js';
import { graphLayouts } from './plan.js';

/** One recording of a function: its graph and what the graph's inputs and outputs stand for. */
export interface TracedGraph {
  /** The recorded graph, unoptimized. */
  graph: Graph;
  /** The argument tensors, by input slot (`input {source: {kind: "arg", slot}}`). */
  args: readonly Tensor[];
  /** Tensors the function read without receiving them (parameters), by capture slot. */
  captures: readonly Tensor[];
  /** The function's result with each tensor replaced by the node that defines it. */
  output: OutputSpec;
  /** The output nodes, in the order the result lists its tensors. */
  outputs: number[];
  /** Values the function read in JS: a compiled graph checks each on replay. */
  guards: readonly Guard[];
  /** What each loop with a tensor condition and each possible select became. */
  controlFlow: string[];
  /** The value the traced call returned (it ran eagerly while recording). */
  result: unknown;
  /** Runs `passes` (default: jit's) on the graph; outputs keep their meaning. */
  optimize(passes?: readonly NamedPass[]): OptimizedGraph;
  /** The graph as text, exact (parses back with `parseGraph`). */
  toString(): string;
}

/** A recording after the graph passes. */
export interface OptimizedGraph {
  graph: Graph;
  outputs: number[];
  reports: PassReport[];
  /** The kernels jit's CPU backend would run for it: fusion groups and their generated JS. */
  lower(): LoweredGraph;
  toString(): string;
}

/** A graph's kernels: each fused group with the nodes it computes and its source. */
export interface LoweredGraph {
  plan: FusionPlan;
  kernels: { nodes: number[]; stores: number[]; source: string }[];
  /** The kernels one after the other, each headed by its nodes. */
  toString(): string;
}

/** The fusion plan of `graph` with its arguments laid out as `args` are (contiguous captures). */
function lowerGraph(graph: Graph, outputs: readonly number[], args: readonly Tensor[]): LoweredGraph {
  const roots: number[] = [];
  graph.nodes.forEach(
    (n, i) => (roots[i] = n.op !== 'input' && n.op !== 'constant' && isView(n) ? roots[n.inputs[0]!]! : i),
  );
  const layouts = graphLayouts(graph, (n) => {
    if (n.op === 'input' && n.params.source.kind === 'arg') return args[n.params.source.slot]!.strides;
    return contiguousStrides(n.shape);
  });
  const plan = planFusion(graph, layouts, new Set(outputs), roots);
  const kernels = plan.steps.flatMap((st) =>
    st.kind === 'fused' ? [{ nodes: st.nodes, stores: st.outputs, source: renderJs(st.spec) }] : [],
  );
  return {
    plan,
    kernels,
    toString: () =>
      kernels
        .map((k, i) => `// kernel ${i + 1} computes ${k.nodes.map((n) => `%${n}`).join(' ')}\n${k.source}`)
        .join('\n'),
  };
}

/** The output nodes of a result description, in order. */
export function outputList(spec: OutputSpec, out: number[] = []): number[] {
  switch (spec.kind) {
    case 'tensor':
      out.push(spec.node);
      break;
    case 'array':
      spec.items.forEach((s) => outputList(s, out));
      break;
    case 'object':
      spec.entries.forEach(([, s]) => outputList(s, out));
      break;
    case 'value':
      break;
    default: {
      const never: never = spec;
      throw new JitError(`trace: unknown output ${String(never)}`);
    }
  }
  return out;
}

/**
 * Records `fn(...args)` (run once, eagerly) as a graph without compiling it. Number
 * arguments are recorded as the constants they were. A jit'd function is recorded inline,
 * as its source transform left it (`jit(fn, { rewrite: true })` lifts its tensor loops).
 */
export function trace<A extends unknown[]>(fn: (...args: A) => unknown, ...args: A): TracedGraph {
  if (typeof fn !== 'function') throw new JitError(`trace: expects a function (got ${typeof fn})`);
  const walked = walkArgs(args);
  const recording = new Trace(
    walked.tensors,
    walked.numbers.map(() => undefined),
  );
  const result = runTraced(recording, () => fn(...args));
  if (result instanceof Promise)
    throw new JitError('trace: the function returned a promise; trace a synchronous function');
  if (recording.invalid !== undefined) throw new JitError(`trace: ${recording.invalid}`);
  const variant = makeVariant(recording, result);
  const outputs = outputList(variant.output);
  const graph = recording.graph;
  return {
    graph,
    args: walked.tensors,
    captures: recording.captures,
    output: variant.output,
    outputs,
    guards: recording.guards,
    controlFlow: [...recording.controlNotes.values()],
    result,
    optimize(passes = defaultPasses) {
      const r = runPasses(graph, passes, { outputs: new Set(outputs) }, { verify: verifyPasses });
      const out = outputs.map((o) => r.remap[o]!);
      return {
        graph: r.graph,
        outputs: out,
        reports: r.reports,
        lower: () => lowerGraph(r.graph, out, walked.tensors),
        toString: () => printGraphExact(r.graph),
      };
    },
    toString: () => printGraphExact(graph),
  };
}
