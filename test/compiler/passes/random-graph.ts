/**
 * Random small graphs for pass property tests: elementwise math over inputs and constants
 * (special values included), biased toward the patterns the passes rewrite (x * 1, x ± 0,
 * double negation, cast chains, view round trips, repeated nodes, all-constant operands),
 * with in-place writes into inputs and intermediates, guards, and inputs that sometimes share
 * memory. Each pass must leave everything a caller can see unchanged, bit for bit.
 */
import { expect } from 'vitest';
import type { DType } from '../../../runtime/dtype.js';
import type { Graph } from '../../../compiler/ir/graph.js';
import { sameShape } from '../../../compiler/ir/shape.js';
import { isElementwise, primitiveRules, type Params, type Prim } from '../../../compiler/ir/primitives.js';
import { printGraphExact } from '../../../compiler/ir/text.js';
import { verifyGraph } from '../../../compiler/ir/verify.js';
import type { Pass } from '../../../compiler/passes/pass.js';
import { GraphBuilder } from '../graph-builder.js';
import { dense, runGraph, type Inputs } from './run-graph.js';

const SPECIALS: Record<DType, readonly number[]> = {
  float16: [0, -0, 1, -1, 0.5, 2, 3, NaN, Infinity, -Infinity, 65504, 2 ** -24, 0.1, 2049, -7.25],
  float32: [0, -0, 1, -1, 0.5, 2, 3, NaN, Infinity, -Infinity, 3.4e38, 1e-45, 0.1, 16777217, -7.25],
  float64: [0, -0, 1, -1, 0.5, 2, 3, NaN, Infinity, -Infinity, 1.7976931348623157e308, 5e-324, 0.1, 16777217, -7.25],
  int32: [0, 1, -1, 2, 3, 7, 2147483647, -2147483648, 16777217, -5, 65536],
  uint8: [0, 1, 2, 3, 127, 128, 255],
  bool: [0, 1],
};

const NUMERIC: readonly DType[] = ['float32', 'float64', 'int32', 'uint8'];
const ALL: readonly DType[] = ['float32', 'float64', 'int32', 'uint8', 'bool'];

/** A random graph with the means to run it. */
export interface RandomCase {
  graph: Graph;
  outputs: number[];
  /** Fresh input memory for one run. */
  inputs: () => Inputs;
  numbers: number[];
}

/** Draws a random case from `next` (uniform in [0, 1)). */
export function randomCase(next: () => number): RandomCase {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const chance = (p: number): boolean => next() < p;
  const shape = pick([[], [3], [2, 3]]);
  const b = new GraphBuilder();
  /** Value nodes of `shape` by dtype, for operands. */
  const pool: Record<DType, number[]> = { float16: [], float32: [], float64: [], int32: [], uint8: [], bool: [] };
  /** Nodes that may be written in place (inputs and fresh computed values, never broadcast views). */
  const writable: number[] = [];
  let guards = 0;
  const add = (x: number): number => {
    pool[b.nodes[x]!.dtype].push(x);
    // Guards read every bit (-0, NaN) without making the value escape, so rewrites of it stay possible.
    if (chance(0.35)) b.observe(x, guards++, []);
    // Writing into a rewritten node would reach whatever replaced it.
    if (chance(0.25) && b.nodes[x]!.op !== 'expand' && b.nodes[x]!.op !== 'input') writable.push(x);
    return x;
  };
  const prim = <P extends Prim>(op: P, inputs: number[], params: Params<P> | Record<string, unknown> = {}): number => b.prim(op, inputs, params);
  const numbers = [2.5, -0, 1, NaN];

  const inputDtypes: DType[] = [pick(NUMERIC)];
  inputDtypes.push(inputDtypes[0]!, pick(ALL));
  const inputData = inputDtypes.map((dt) => Array.from({ length: shape.reduce((a, c) => a * c, 1) }, () => (chance(0.5) ? pick(SPECIALS[dt]) : dt === 'int32' ? Math.floor(next() * 200 - 100) : dt === 'uint8' ? Math.floor(next() * 256) : dt === 'bool' ? (chance(0.5) ? 1 : 0) : next() * 20 - 10)));
  // Inputs 0 and 1 have one dtype, so they can be one tensor's memory passed twice.
  const aliased = chance(0.3);
  inputDtypes.forEach((dt, slot) => {
    const x = b.input({ kind: 'arg', slot }, dt, shape);
    pool[dt].push(x);
    writable.push(x);
  });

  const constant = (dt: DType): number => {
    const c = chance(0.1) && dt !== 'bool' ? b.constant({ numberSlot: Math.floor(next() * numbers.length) }, dt) : b.constant({ value: pick(SPECIALS[dt]) }, dt);
    return shape.length === 0 ? c : prim('expand', [c], { shape });
  };
  const splat = (value: number, dt: DType): number => b.scalar(value, dt, shape);
  const operand = (dt: DType): number => (pool[dt].length > 0 && chance(0.7) ? pick(pool[dt]) : constant(dt));
  const numericDtype = (): DType => pick(NUMERIC.filter((d) => pool[d].length > 0).concat(pick(NUMERIC)));
  const accepting = (arity: 'unary' | 'binary', dt: DType): Prim[] =>
    (Object.keys(primitiveRules) as Prim[]).filter((p) => {
      const r = primitiveRules[p];
      return isElementwise(r) && r.kind === arity && r.accepts.includes(dt);
    });

  const steps = 6 + Math.floor(next() * 14);
  for (let s = 0; s < steps; s++) {
    const dt = numericDtype();
    const x = operand(dt);
    const float = dt === 'float32' || dt === 'float64';
    switch (Math.floor(next() * 13)) {
      case 0: add(prim(pick(accepting('unary', dt)), [x])); break;
      case 1: {
        const [a, c] = chance(0.5) ? [x, operand(dt)] : [operand(dt), x];
        add(prim(pick(accepting('binary', dt)), [a, c]));
        break;
      }
      case 2: {
        // The identities simplify knows, and their inexact look-alikes.
        const op = pick(['mul', 'add', 'sub', 'div'] as const);
        const k = op === 'mul' || op === 'div' ? pick([1, -1, 2]) : pick([0, -0]);
        if (op === 'div' && !float) break;
        const c = splat(k, dt);
        add(prim(op, chance(0.5) || op === 'sub' || op === 'div' ? [x, c] : [c, x]));
        break;
      }
      case 3: {
        // Double negation, sometimes of an earlier negation (with writes possibly between).
        const earlier = pool[dt].filter((k) => b.nodes[k]!.op === 'neg');
        add(prim('neg', [earlier.length > 0 && chance(0.5) ? pick(earlier) : prim('neg', [x])]));
        break;
      }
      case 4: {
        // A cast chain, sometimes continuing an earlier cast (with writes possibly between).
        const earlier = ALL.flatMap((d) => pool[d].filter((k) => b.nodes[k]!.op === 'cast'));
        const src = pool.bool.length > 0 && chance(0.25) ? pick(pool.bool) : x;
        const inner = earlier.length > 0 && chance(0.4) ? pick(earlier) : add(prim('cast', [src], { dtype: pick(ALL) }));
        const from = b.nodes[b.nodes[inner]!.inputs[0]!]!.dtype;
        add(prim('cast', [inner], { dtype: chance(0.5) ? from : pick(ALL) }));
        break;
      }
      case 5: {
        // Only constants: a fold.
        const op = pick(accepting('binary', dt));
        add(prim(op, [constant(dt), constant(dt)]));
        break;
      }
      case 6: {
        // A repeat of an earlier pure node, for CSE.
        const earlier = b.nodes.flatMap((n, i) => (n.op !== 'input' && n.op !== 'write' && n.op !== 'observe' && n.op !== 'setGrad' && n.op !== 'random' ? [i] : []));
        if (earlier.length === 0) break;
        const n = b.nodes[pick(earlier)]!;
        const copy = b.push({ ...n, inputs: n.inputs.slice(), shape: n.shape.slice() });
        if (sameShape(n.shape, shape)) add(copy);
        break;
      }
      case 7: {
        let v = x;
        if (shape.length === 2) {
          v = chance(0.5) ? prim('permute', [prim('permute', [x], { perm: [1, 0] })], { perm: [1, 0] }) : prim('reshape', [prim('reshape', [x], { shape: [6] })], { shape });
        } else {
          v = chance(0.5) ? prim('reshape', [x], { shape }) : prim('expand', [x], { shape });
        }
        add(v);
        break;
      }
      case 8: {
        if (writable.length === 0) break;
        const target = pick(writable);
        const value = pick([...pool.float32, ...pool.float64, ...pool.int32, ...pool.uint8, ...pool.bool]);
        b.effect('write', [target, value]);
        break;
      }
      case 9:
        b.observe(x, guards++, []);
        break;
      case 10: {
        const cmp = prim(pick(['lt', 'le', 'eq', 'ne'] as const), [x, operand(dt)]);
        add(cmp);
        add(prim('where', [cmp, operand(dt), operand(dt)]));
        break;
      }
      case 11:
        // A fresh value that later steps may write into.
        writable.push(add(prim('copy', [x])));
        break;
      case 12: {
        // Logic on bools; a bool constant may hold a byte other than 0/1, as memory can.
        const bit = (): number => (pool.bool.length > 0 && chance(0.6) ? pick(pool.bool) : splat(pick([0, 1, 1, 2]), 'bool'));
        add(prim(pick(['and', 'or'] as const), [bit(), prim('not', [bit()])]));
        break;
      }
    }
  }
  const values = [...pool.float32, ...pool.float64, ...pool.int32, ...pool.uint8, ...pool.bool];
  const outputs = [...new Set(Array.from({ length: 1 + Math.floor(next() * 3) }, () => pick(values)))];
  const inputs = (): Inputs => {
    const made = inputDtypes.map((dt, k) => dense(dt, shape, inputData[k]));
    if (aliased) made[1] = made[0]!;
    return (source) => made[(source as { slot: number }).slot]!;
  };
  return { graph: b.graph(), outputs, inputs, numbers };
}

/** Runs `pass` on a random case and checks that it is pure, keeps the graph valid and keeps every result; returns the number of changes. */
export function checkPass(pass: Pass, next: () => number): number {
  const c = randomCase(next);
  verifyGraph(c.graph);
  const before = runGraph(c.graph, c.inputs(), c.outputs, c.numbers);
  const text = printGraphExact(c.graph);
  const r = pass(c.graph, { outputs: new Set(c.outputs) });
  expect(printGraphExact(c.graph), 'the pass changed its input graph').toBe(text);
  const context = `graph:\n${text}\noutputs: ${c.outputs}\nchanges:\n${r.changes.join('\n')}\nresult:\n${printGraphExact(r.graph)}`;
  expect(() => verifyGraph(r.graph), context).not.toThrow();
  const outputs = c.outputs.map((o) => r.remap[o]!);
  expect(outputs.every((o) => o >= 0), context).toBe(true);
  const after = runGraph(r.graph, c.inputs(), outputs, c.numbers);
  expect(after, context).toEqual(before);
  return r.changes.length;
}
