/**
 * Lowering of the groups fusion chose: the nodes of a group become one kernel spec (map,
 * reduction with its prologue, matmul with its epilogue), an expression DAG over loads of
 * the values the group reads from outside.
 */
import type { Node } from '../ir/graph.js';
import type { Prim, ReducePrim } from '../ir/primitives.js';
import { contiguousStrides } from '../ir/shape.js';
import { reduceAxes } from '../ir/node-params.js';
import { collapseDims, layoutKey, specKey, type Expr, type MapSpec, type MatmulSpec, type ReduceSpec, type Store } from '../kernel.js';
import type { FusedStep, StaticLayout } from './fuse.js';

/** The expression DAG of `ms`, with loads of the values they read from outside. */
function buildBody(nodes: readonly Node[], ms: readonly number[], argOf: (value: number) => number, literalOf: (value: number) => number | undefined, given?: ReadonlyMap<number, Expr>): { body: Expr[]; exprOf: Map<number, number>; inputs: number[] } {
  const body: Expr[] = [];
  const exprOf = new Map<number, number>();
  const inputs: number[] = [];
  // Values the kernel already has in hand (a matmul's product) instead of loading them.
  for (const [x, e] of given ?? []) {
    body.push(e);
    exprOf.set(x, body.length - 1);
  }
  const inGroup = new Set(ms);
  const operand = (x: number): number => {
    const known = exprOf.get(x);
    if (known !== undefined) return known;
    const value = literalOf(x);
    if (value !== undefined) body.push({ op: 'literal', value, dtype: nodes[x]!.dtype });
    else {
      if (!inputs.includes(x)) inputs.push(x);
      body.push({ op: 'load', arg: argOf(x) });
    }
    exprOf.set(x, body.length - 1);
    return body.length - 1;
  };
  for (const m of ms) {
    const n = nodes[m]!;
    const args = n.inputs.map((x) => (inGroup.has(x) ? exprOf.get(x)! : operand(x)));
    if (n.op === 'cast') body.push({ op: 'cast', arg: args[0]!, from: nodes[n.inputs[0]!]!.dtype, to: n.dtype });
    else body.push({ op: 'prim', prim: n.op as Prim, args, dtype: nodes[n.inputs[n.inputs.length - 1]!]!.dtype });
    exprOf.set(m, body.length - 1);
  }
  return { body, exprOf, inputs };
}

export function mapStep(nodes: readonly Node[], layouts: readonly (StaticLayout | undefined)[], literalOf: (x: number) => number | undefined, ms: number[], outputs: number[], into?: { value: number; target: number }): FusedStep {
  const shape = nodes[ms[0]!]!.shape;
  const targetOf = (o: number) => (into !== undefined && into.value === o ? into.target : undefined);
  // Args: outputs first, then inputs in first-use order (numbered as they appear).
  const inputOrder: number[] = [];
  const argOf = (x: number) => {
    let k = inputOrder.indexOf(x);
    if (k < 0) k = inputOrder.push(x) - 1;
    return outputs.length + k;
  };
  const { body, exprOf, inputs } = buildBody(nodes, ms, argOf, literalOf);
  const stores: Store[] = outputs.map((o, k) => {
    const t = targetOf(o);
    let node = exprOf.get(o)!;
    // Writing converts to the target's dtype, as an in-place write does.
    if (t !== undefined && nodes[t]!.dtype !== nodes[o]!.dtype) {
      body.push({ op: 'cast', arg: node, from: nodes[o]!.dtype, to: nodes[t]!.dtype });
      node = body.length - 1;
    }
    return { arg: k, node };
  });
  const outLayout = (o: number) => layouts[targetOf(o) ?? -1] ?? { strides: contiguousStrides(shape), dtype: nodes[o]!.dtype };
  const strides = [...outputs.map((o) => outLayout(o).strides.slice()), ...inputs.map((x) => layouts[x]!.strides.slice())];
  const dtypes = [...outputs.map((o) => (targetOf(o) !== undefined ? nodes[targetOf(o)!]!.dtype : nodes[o]!.dtype)), ...inputs.map((x) => nodes[x]!.dtype)];
  const c = collapseDims(shape, strides);
  const spec: MapSpec = { kind: 'map', shape: c.shape, dtypes, strides: c.strides, body, stores };
  return { kind: 'fused', nodes: ms, inputs, outputs, targets: outputs.map(targetOf), spec, key: `fused-map|${specText(spec)}` };
}

export function matmulStep(nodes: readonly Node[], layouts: readonly (StaticLayout | undefined)[], literalOf: (x: number) => number | undefined, mm: number, ms: number[], output: number): FusedStep {
  const node = nodes[mm]!;
  const [a, b] = node.inputs as [number, number];
  const la = layouts[a]!, lb = layouts[b]!;
  const shape = node.shape, r = shape.length;
  const inputOrder: number[] = [];
  const argOf = (x: number) => {
    let k = inputOrder.indexOf(x);
    if (k < 0) k = inputOrder.push(x) - 1;
    return 3 + k;
  };
  const { body, exprOf, inputs: extras } = buildBody(nodes, ms, argOf, literalOf, new Map([[mm, { op: 'acc' }]]));
  const batchDims = shape.slice(0, r - 2);
  const extraStrides = extras.map((x) => layouts[x]!.strides);
  const batch = collapseDims(batchDims, [contiguousStrides(shape).slice(0, r - 2), la.strides.slice(0, r - 2), lb.strides.slice(0, r - 2), ...extraStrides.map((s) => s.slice(0, r - 2))]);
  const batched = batchDims.length > 0 && !(batch.shape.length === 1 && batch.shape[0] === 1);
  const spec: MatmulSpec = {
    kind: 'matmul', dtype: node.dtype, m: shape[r - 2]!, n: shape[r - 1]!, k: la.shape[r - 1]!,
    aStrides: [la.strides[r - 2]!, la.strides[r - 1]!], bStrides: [lb.strides[r - 2]!, lb.strides[r - 1]!],
    batch: batched ? batch.shape : [],
    batchStrides: batched ? [batch.strides[0]!, batch.strides[1]!, batch.strides[2]!] : [[], [], []],
    extras: extras.map((x, e) => ({ dtype: nodes[x]!.dtype, batchStrides: batched ? batch.strides[3 + e]! : [], strides: [extraStrides[e]![r - 2]!, extraStrides[e]![r - 1]!] })),
    epilogue: { body, value: exprOf.get(output)!, dtype: nodes[output]!.dtype },
  };
  return {
    kind: 'fused', nodes: [mm, ...ms], inputs: [a, b, ...extras], outputs: [output], targets: [undefined], spec,
    key: `fused-matmul|${specKey(spec)}`,
  };
}

export function reduceStep(nodes: readonly Node[], layouts: readonly (StaticLayout | undefined)[], literalOf: (x: number) => number | undefined, ms: number[], r: number): FusedStep {
  const red = nodes[r]!;
  const src = nodes[red.inputs[0]!]!;
  const axes = reduceAxes(red, 'fuse');
  const inputOrder: number[] = [];
  const argOf = (x: number) => {
    let k = inputOrder.indexOf(x);
    if (k < 0) k = inputOrder.push(x) - 1;
    return 1 + k;
  };
  const { body, exprOf, inputs } = buildBody(nodes, ms, argOf, literalOf);
  const outerDims = src.shape.map((_, d) => d).filter((d) => !axes.includes(d));
  const innerDims = axes.slice();
  const outerShape = outerDims.map((d) => src.shape[d]!);
  const innerShape = innerDims.map((d) => src.shape[d]!);
  const argStrides = inputs.map((x) => layouts[x]!.strides);
  const op = red.op as ReducePrim;
  const outer = collapseDims(outerShape, [contiguousStrides(outerShape), ...argStrides.map((s) => outerDims.map((d) => s[d]!))]);
  // argmax/argmin count positions along their one axis, so it is never merged or dropped.
  const inner = op === 'argmax' || op === 'argmin'
    ? { shape: innerShape, strides: [[0], ...argStrides.map((s) => innerDims.map((d) => s[d]!))] }
    : collapseDims(innerShape, [innerDims.map(() => 0), ...argStrides.map((s) => innerDims.map((d) => s[d]!))]);
  const spec: ReduceSpec = {
    kind: 'reduce', op, dtype: src.dtype, outDtype: red.dtype,
    outer: outer.shape, inner: inner.shape,
    dtypes: [red.dtype, ...inputs.map((x) => nodes[x]!.dtype)],
    outerStrides: outer.strides, innerStrides: inner.strides,
    body, value: exprOf.get(red.inputs[0]!)!,
  };
  return { kind: 'fused', nodes: [...ms, r], inputs, outputs: [r], targets: [undefined], spec, key: `fused-reduce|${specText(spec)}` };
}

/** A stable text of a spec (its fields are numbers, dtype and primitive names only). */
function specText(spec: MapSpec | ReduceSpec): string {
  const shapes = spec.kind === 'map' ? layoutKey(spec.shape, spec.strides) : `${layoutKey(spec.outer, spec.outerStrides)}|${layoutKey(spec.inner, spec.innerStrides)}|${spec.op}`;
  return `${shapes}|${spec.dtypes}|${specKey(spec.body)}|${spec.kind === 'map' ? specKey(spec.stores) : spec.value}`;
}
