/** Builds graphs node by node for IR tests, with each primitive's metadata from inferMeta. */
import type { DType } from '../../runtime/dtype.js';
import { makeNode, type EffectParams, type Graph, type InputSource, type Node } from '../../compiler/ir/graph.js';
import { inferMeta } from '../../compiler/ir/infer.js';
import type { Params, Prim } from '../../compiler/ir/primitives.js';

/** A graph under construction; every method returns the new node's index. */
export class GraphBuilder {
  readonly nodes: Node[] = [];

  push(n: Node): number {
    this.nodes.push(n);
    return this.nodes.length - 1;
  }

  input(source: InputSource, dtype: DType, shape: number[]): number {
    return this.push({ op: 'input', inputs: [], params: { source }, shape, dtype });
  }

  constant(params: EffectParams['constant'], dtype: DType, shape: number[] = []): number {
    return this.push({ op: 'constant', inputs: [], params, shape, dtype });
  }

  /** A scalar constant broadcast to `shape` (how the tracer records `x * 2`). */
  scalar(value: number, dtype: DType, shape: number[]): number {
    const c = this.constant({ value }, dtype);
    return shape.length === 0 ? c : this.prim('expand', [c], { shape });
  }

  prim<P extends Prim>(op: P, inputs: number[], params: Params<P> | Record<string, unknown> = {}): number {
    const meta = inferMeta(op, inputs.map((x) => this.nodes[x]!), params as Params<P>);
    return this.push(makeNode(op, inputs, params, meta.shape.slice(), meta.dtype));
  }

  effect(op: 'write' | 'observe' | 'setGrad', inputs: number[], params: object = {}): number {
    return this.push(makeNode(op, inputs, params, [], this.nodes[inputs[0]!]!.dtype));
  }

  observe(x: number, guard: number, expected: number[], gradNull = false): number {
    return this.effect('observe', [x], { guard, expected, site: 'model.ts:12:3', how: 'item()', gradNull });
  }

  graph(): Graph {
    return { nodes: this.nodes };
  }
}

/** A graph with every primitive and every kind of effect node, all parameters short. */
export function everyKind(): Graph {
  const b = new GraphBuilder();
  const x = b.input({ kind: 'arg', slot: 0 }, 'float32', [2, 3]);
  const i = b.input({ kind: 'capture', slot: 0 }, 'int32', [2, 3]);
  b.input({ kind: 'grad', of: x }, 'float32', [2, 3]);
  const two = b.scalar(2.5, 'float32', [2, 3]);
  b.constant({ numberSlot: 1 }, 'float64');
  b.constant({ data: [1, 2, 3] }, 'int32', [3]);
  const unary: Prim[] = ['copy', 'neg', 'abs', 'sign', 'recip', 'exp', 'log', 'log1p', 'expm1', 'sqrt', 'rsqrt', 'sin', 'cos', 'tan', 'tanh', 'erf', 'erfc', 'sigmoid', 'floor', 'ceil', 'round', 'isnan'];
  for (const op of unary) b.prim(op, [x]);
  const binary: Prim[] = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'mod'];
  for (const op of binary) b.prim(op, [x, two]);
  const lt = b.prim('lt', [x, two]);
  for (const op of ['le', 'eq', 'ne'] as const) b.prim(op, [i, i]);
  const notLt = b.prim('not', [lt]);
  b.prim('and', [lt, notLt]);
  b.prim('or', [lt, notLt]);
  b.prim('where', [lt, x, two]);
  const f64 = b.prim('cast', [x], { dtype: 'float64' });
  b.prim('sum', [x], { axes: [0, 1] });
  b.prim('prod', [f64], { axes: [] });
  b.prim('max', [i], { axes: [1] });
  b.prim('min', [x], { axes: [0] });
  b.prim('argmax', [x], { axis: 1 });
  b.prim('argmin', [i], { axis: 0 });
  const r = b.prim('reshape', [x], { shape: [3, 2] });
  const t = b.prim('permute', [r], { perm: [1, 0] });
  b.prim('slice', [t], { starts: [0, 1], steps: [1, 1], sizes: [2, 1] });
  b.prim('pad', [x], { before: [0, 1], after: [1, 0], value: -1.5 });
  b.prim('concat', [x, x, two], { axis: 0 });
  b.prim('matmul', [x, r]);
  const idx = b.prim('argmax', [x], { axis: 1 });
  const idx2 = b.prim('reshape', [idx], { shape: [2, 1] });
  const g = b.prim('gather', [x, idx2], { axis: 1 });
  b.prim('scatterAdd', [x, idx2, g], { axis: 1 });
  b.prim('random', [], { shape: [2, 2], offset: 6 });
  b.prim('random', [], { shape: [], seed: 3, offset: 0 });
  b.prim('iota', [], { n: 4 });
  const s = b.prim('sum', [x], { axes: [0, 1] });
  b.observe(s, 0, [1.5]);
  b.observe(x, 1, [], true);
  b.effect('write', [x, two]);
  b.effect('setGrad', [x, two]);
  b.effect('setGrad', [x]);
  return b.graph();
}

/** `text` with each line's indentation and blank lines removed: expected printed graphs written inline. */
export function ir(text: string): string {
  return text.split('\n').map((l) => l.trim()).filter((l) => l !== '').join('\n');
}
