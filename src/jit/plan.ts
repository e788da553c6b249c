/**
 * Compiles a confirmed variant into a kernel plan: static layouts for every value (the
 * signature fixes argument strides; captured tensors never change layout), then fusion.
 */
import type { Graph, Node } from '../../compiler/ir/graph.js';
import { isViewNode, paramsOf } from '../../compiler/ir/node-params.js';
import { viewLayout } from '../../compiler/ir/infer.js';
import { contiguousStrides } from '../../compiler/ir/shape.js';
import { planFusion, type FusionOptions, type FusionPlan, type StaticLayout } from '../../compiler/passes/fuse.js';
import type { Walked } from './signature.js';
import type { OutputSpec, Program, Variant } from './variant.js';
import { runPasses, type NamedPass } from '../../compiler/passes/pipeline.js';
import { verifyPasses } from './log.js';
import { timed } from './compile-time.js';

function outputNodes(spec: OutputSpec, out: Set<number>): Set<number> {
  switch (spec.kind) {
    case 'tensor': out.add(spec.node); break;
    case 'array': spec.items.forEach((s) => outputNodes(s, out)); break;
    case 'object': spec.entries.forEach(([, s]) => outputNodes(s, out)); break;
    case 'value': break;
  }
  return out;
}

function remapSpec(spec: OutputSpec, remap: readonly number[]): OutputSpec {
  switch (spec.kind) {
    case 'tensor': return { kind: 'tensor', node: remap[spec.node]! };
    case 'array': return { kind: 'array', items: spec.items.map((s) => remapSpec(s, remap)) };
    case 'object': return { kind: 'object', entries: spec.entries.map(([k, s]) => [k, remapSpec(s, remap)]) };
    case 'value': return spec;
  }
}

/** Runs the optimizer's passes on `v`'s recording and renumbers everything that names a node. */
export function programOf(v: Variant, passes: readonly NamedPass[]): Program {
  if (v.program) return v.program;
  return timed(v, () => makeProgram(v, passes));
}

function makeProgram(v: Variant, passes: readonly NamedPass[]): Program {
  const t = v.trace;
  const r = runPasses(t.graph, passes, { outputs: outputNodes(v.output, new Set()) }, { verify: verifyPasses });
  const nodes = r.graph.nodes;
  const gradModes = nodes.map(() => false);
  const roots: number[] = [];
  r.remap.forEach((j, i) => {
    if (j < 0) return;
    // A node that replaces several recorded ones runs in grad mode if any of them did.
    gradModes[j] = gradModes[j]! || t.gradModes[i]!;
    const root = r.remap[t.roots[i] ?? i] ?? -1;
    if (roots[j] === undefined && root >= 0) roots[j] = root;
  });
  // Nodes the passes created (a folded constant) read their own storage, or their view base's.
  nodes.forEach((n, j) => {
    if (roots[j] === undefined) roots[j] = isViewNode(n) ? roots[n.inputs[0]!]! : j;
  });
  return (v.program = {
    graph: r.graph, gradModes, roots,
    captures: t.captures,
    guards: t.guards.map((g) => ({ ...g, node: r.remap[g.node]! })),
    writtenRoots: new Set([...t.writtenRoots].map((i) => r.remap[i]!).filter((j) => j >= 0)),
    randomCount: t.randomCount,
    output: remapSpec(v.output, r.remap),
    reports: r.reports,
  });
}

/**
 * The layout of every value of `graph` when its input nodes have the strides `inputStrides`
 * gives: views as eager lays them out over their base, every other value contiguous.
 */
export function graphLayouts(graph: Graph, inputStrides: (node: Node) => readonly number[]): (StaticLayout | undefined)[] {
  const layouts: (StaticLayout | undefined)[] = [];
  graph.nodes.forEach((n, i) => {
    if (n.op === 'write' || n.op === 'observe' || n.op === 'setGrad') return;
    if (n.op === 'input') {
      layouts[i] = { shape: n.shape, strides: inputStrides(n), dtype: n.dtype };
      return;
    }
    if (isViewNode(n)) {
      const base = layouts[n.inputs[0]!]!;
      const l = viewLayout(n.op, { shape: base.shape.slice(), strides: base.strides.slice(), offset: 0 }, n.params)!;
      layouts[i] = { shape: l.shape, strides: l.strides, dtype: n.dtype };
      return;
    }
    layouts[i] = { shape: n.shape, strides: contiguousStrides(n.shape), dtype: n.dtype };
  });
  return layouts;
}

/** The layout of every value of `v` for arguments shaped like `walked`. */
export function staticLayouts(v: Variant, walked: Walked): (StaticLayout | undefined)[] {
  const prog = v.program!;
  return graphLayouts(prog.graph, (n) => {
    const { source } = paramsOf(n, 'input', 'jit replay');
    const t = source.kind === 'arg' ? walked.tensors[source.slot] : source.kind === 'capture' ? prog.captures[source.slot] : undefined;
    // A gradient input is made contiguous at replay if it is not already.
    return t ? t.strides : contiguousStrides(n.shape);
  });
}

/**
 * The fusion plan of `v`'s program (computed once, on its first replay). A variant runs on
 * one set of devices (the signature fixes them), so `options` give that device's limits.
 */
export function planOf(v: Variant, walked: Walked, options: () => FusionOptions = () => ({})): FusionPlan {
  const prog = v.program!;
  return (v.plan ??= timed(v, () => planFusion(prog.graph, staticLayouts(v, walked), outputNodes(prog.output, new Set()), prog.roots, options())));
}
