/**
 * The graph IR: a list of nodes in execution order, each defining one value (its index).
 * Besides primitives, a traced graph has inputs (arguments, captured tensors, gradients of
 * tensors), constants, in-place writes, observed values (guards) and gradient assignments.
 */
import type { DType } from '../../runtime/dtype.js';
import { fmtShape } from '../../runtime/errors.js';
import type { Params, Prim } from './primitives.js';

/** Where an input node's tensor comes from at each call. */
export type InputSource =
  /** The tensor at position `slot` of the walked arguments. */
  | { kind: 'arg'; slot: number }
  /** A tensor the function reached without receiving it, read live by identity. */
  | { kind: 'capture'; slot: number }
  /** The current `.grad` of the tensor defined by node `of`. */
  | { kind: 'grad'; of: number };

/** Non-primitive node kinds. */
export type EffectOp = 'input' | 'constant' | 'write' | 'observe' | 'setGrad' | 'loop' | 'loopResult';

/** Parameters of the non-primitive nodes. */
export interface EffectParams {
  input: { source: InputSource };
  /** A tensor made from JS values: a scalar (`value`, or argument number `slot` when dynamic) or data. */
  constant: { value?: number; numberSlot?: number; data?: ArrayLike<number> };
  /** In-place write of input 1 into input 0. */
  write: Record<string, never>;
  /** The values of input 0 were read by JS; `expected` are the values seen when traced. */
  observe: {
    guard: number; expected: number[]; site: string; how: string; gradNull: boolean;
    /**
     * A comparison JS made between number argument `slot` and `other` (operands swapped when
     * `swap`); it has no operand node, and `expected` is [1] or [0] for its outcome.
     */
    numberCompare?: { slot: number; op: 'lt' | 'le' | 'gt' | 'ge' | 'eq' | 'ne' | 'seq' | 'sne'; other: number; swap: boolean };
  };
  /** `.grad` of input 0 set to input 1, or to null when there is no input 1. */
  setGrad: Record<string, never>;
  /**
   * A loop lifted out of the user's code (src/jit/loop-lift.ts): the operands are the
   * `carried` loop-carried tensors' first values, then the loop-invariant tensors it reads.
   * Each iteration runs `cond` (its inputs: arg slots 0.. are the carried values, then the
   * invariants); when the one element of its node `condValue` is false (zero or NaN) the
   * loop ends with cond's nodes `exits` as the carried values (a condition may assign loop
   * variables), else `body` runs (inputs: carried, invariants, then cond's nodes
   * `condExports`) and its nodes `results` are the next carried values. The node's own value
   * is the iteration count (int32[]); `loopResult` nodes read the final carried values.
   */
  loop: { carried: number; cond: Graph; condValue: number; condExports: number[]; exits: number[]; body: Graph; results: number[]; site: string };
  /** Final value of carried tensor `index` of the loop node that is input 0. */
  loopResult: { index: number };
}

/** The parameters of a node of op O. */
export type NodeParams<O extends Prim | EffectOp> =
  O extends Prim ? Params<O> : O extends EffectOp ? EffectParams[O] : never;

/** One node of op O: the value it defines has `shape` and `dtype` (effects define nothing: shape []). */
export interface NodeOf<O extends Prim | EffectOp> {
  op: O;
  inputs: number[];
  params: NodeParams<O>;
  shape: number[];
  dtype: DType;
}

/** A node of one of the primitives P (all of them by default), discriminated by `op`. */
export type PrimNode<P extends Prim = Prim> = { [Q in P]: NodeOf<Q> }[P];

/** A node of one of the effects E (all of them by default), discriminated by `op`. */
export type EffectNode<E extends EffectOp = EffectOp> = { [Q in E]: NodeOf<Q> }[E];

/** One node, discriminated by `op`, so that narrowing the op types the params. */
export type Node = PrimNode | EffectNode;

/**
 * A node from an op name and a params object whose match the caller has established (the
 * tracer records what an op function validated, the parser runs the verifier, a pass copies
 * a node): the one place the two are joined without the compiler seeing that they agree.
 */
export function makeNode(op: Node['op'], inputs: number[], params: object, shape: number[], dtype: DType): Node {
  return { op, inputs, params, shape, dtype } as Node;
}

/** A traced graph. */
export interface Graph {
  nodes: Node[];
}

function fmtParams(params: object): string {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return '';
  const fmt = (v: unknown): string => {
    if (Array.isArray(v) || ArrayBuffer.isView(v)) {
      const a = Array.from(v as ArrayLike<unknown>);
      return a.length > 8 ? `[${a.slice(0, 8).map(fmt).join(',')},…${a.length}]` : `[${a.map(fmt).join(',')}]`;
    }
    if (v !== null && typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${k}: ${fmt(x)}`).join(', ')}}`;
    return typeof v === 'string' ? JSON.stringify(v) : String(v);
  };
  return ' {' + entries.map(([k, v]) => `${k}=${fmt(v)}`).join(', ') + '}';
}

/** The graph as text, one node per line: `%3 = add(%1, %2) : float32[4,3]`. */
export function printGraph(g: Graph): string {
  return g.nodes.map((n, i) => {
    const args = `(${n.inputs.map((x) => `%${x}`).join(', ')})`;
    const isEffect = n.op === 'write' || n.op === 'observe' || n.op === 'setGrad';
    if (n.op === 'loop') return printLoop(i, n);
    return `${isEffect ? '' : `%${i} = `}${n.op}${args}${fmtParams(n.params)}${isEffect ? '' : ` : ${n.dtype}${fmtShape(n.shape)}`}`;
  }).join('\n');
}

/** A loop node with its condition and body graphs indented under it. */
function printLoop(i: number, n: NodeOf<'loop'>): string {
  const p = n.params;
  const indent = (text: string) => text.split('\n').map((l) => '    ' + l).join('\n');
  return [
    `%${i} = loop(${n.inputs.map((x) => `%${x}`).join(', ')}) {carried=${p.carried}, site=${JSON.stringify(p.site)}} : ${n.dtype}${fmtShape(n.shape)}`,
    `  cond (continues while %${p.condValue} holds, else ends with ${p.exits.map((x) => `%${x}`).join(', ')}${p.condExports.length ? `; body also reads ${p.condExports.map((x) => `%${x}`).join(', ')}` : ''}):`,
    indent(printGraph(p.cond)),
    `  body (next carried values ${p.results.map((x) => `%${x}`).join(', ')}):`,
    indent(printGraph(p.body)),
  ].join('\n');
}
