/**
 * A small graph executor for pass tests: every node run as eager kiln runs it (the eager
 * CPU kernels via executePrim; views as strided reads of the same buffer, so writes show
 * through them; writes as in-place copies), and everything a caller could see afterwards
 * collected as text, -0 and NaN included, so two runs compare bit for bit.
 */
import { ARRAY_OF, type DType, type TypedArray } from '../../../runtime/dtype.js';
import { executePrim, type Operand } from '../../../compiler/execute.js';
import { cpu } from '../../../compiler/backends.js';
import type { EffectParams, Graph, InputSource } from '../../../compiler/ir/graph.js';
import { viewLayout } from '../../../compiler/ir/infer.js';
import { isPrim } from '../../../compiler/ir/kinds.js';
import { primitiveRules, type Params, type Prim } from '../../../compiler/ir/primitives.js';
import { contiguousStrides, sizeOf } from '../../../compiler/ir/shape.js';

/** What a caller sees after a run: outputs, the final memory of inputs, guard reads and gradients set. */
export interface Observed {
  outputs: string[][];
  inputs: string[][];
  observed: string[][];
  grads: string[][];
  /** Everything again after the caller writes into each output in turn: shows which tensors share memory. */
  afterCallerWrites: { outputs: string[][]; inputs: string[][]; grads: string[][] };
}

/** Writes `v` into every element of `x` through its layout (stride-0 dims write one place repeatedly). */
function fill(x: Operand, v: number): void {
  const walk = (d: number, at: number): void => {
    if (d === x.shape.length) {
      x.data[at] = v;
      return;
    }
    for (let k = 0; k < x.shape[d]!; k++) walk(d + 1, at + k * x.strides[d]!);
  };
  walk(0, x.offset);
}

/** Storage for each input source, fresh for each run so runs do not see each other's writes. */
export type Inputs = (source: InputSource, node: number) => Operand;

/** Elements as exact text (Object.is-faithful: -0 stays -0, every NaN reads "NaN"). */
export function bits(data: ArrayLike<number>): string[] {
  return Array.from(data, (v) => (Object.is(v, -0) ? '-0' : String(v)));
}

/** A fresh contiguous operand. */
export function dense(dtype: DType, shape: readonly number[], values?: ArrayLike<number>): Operand {
  const data = new ARRAY_OF[dtype](sizeOf(shape));
  if (values !== undefined) data.set(values);
  return { data, dtype, shape: shape.slice(), strides: contiguousStrides(shape), offset: 0 };
}

/** The elements of `x` in row-major order. */
export function read(x: Operand): TypedArray {
  const out = dense(x.dtype, x.shape);
  if (sizeOf(x.shape) > 0) executePrim(cpu, 'copy', {}, [x], out);
  return out.data;
}

/** Runs a loop node's graphs until its condition fails (the meaning EffectParams['loop'] gives them); the final carried values and the count. */
function runLoop(p: EffectParams['loop'], operands: readonly Operand[], numbers: readonly number[]): { state: Operand[]; count: number } {
  const copy = (x: Operand) => dense(x.dtype, x.shape, read(x));
  let state = operands.slice(0, p.carried).map(copy);
  const invariants = operands.slice(p.carried);
  const run = (g: Graph, args: readonly Operand[]) => execute(g, (source) => args[(source as { slot: number }).slot]!, numbers, new Map(), []);
  for (let count = 0; ; count++) {
    const cond = run(p.cond, [...state, ...invariants]);
    const c = read(cond[p.condValue]!)[0]!;
    if (c === 0 || c !== c) return { state: p.exits.map((x) => copy(cond[x]!)), count };
    const body = run(p.body, [...state, ...invariants, ...p.condExports.map((x) => cond[x]!)]);
    state = p.results.map((x) => copy(body[x]!));
  }
}

/** Runs every node of `g`; returns each value's operand. */
function execute(g: Graph, inputs: Inputs, numbers: readonly number[], grads: Map<number, Operand | null>, observed: string[][]): (Operand | undefined)[] {
  const env: (Operand | undefined)[] = [];
  const loops = new Map<number, Operand[]>();
  g.nodes.forEach((n, i) => {
    switch (n.op) {
      case 'input': {
        const { source } = n.params as EffectParams['input'];
        if (source.kind === 'grad' && grads.has(source.of)) {
          const g0 = grads.get(source.of);
          if (g0 === null || g0 === undefined) throw new Error(`runGraph: %${i} reads a .grad that is null`);
          env[i] = g0;
        } else {
          env[i] = inputs(source, i);
        }
        return;
      }
      case 'constant': {
        const p = n.params as EffectParams['constant'];
        const out = dense(n.dtype, n.shape);
        if (p.data !== undefined) out.data.set(p.data);
        else out.data.fill(p.numberSlot !== undefined ? numbers[p.numberSlot]! : p.value!);
        env[i] = out;
        return;
      }
      case 'write': {
        const target = env[n.inputs[0]!]!;
        let value = env[n.inputs[1]!]!;
        if (value.data === target.data) value = dense(value.dtype, value.shape, read(value));
        if (sizeOf(target.shape) > 0) executePrim(cpu, value.dtype === target.dtype ? 'copy' : 'cast', { dtype: target.dtype }, [value], target);
        return;
      }
      case 'observe': {
        const p = n.params as EffectParams['observe'];
        const grad = grads.get(n.inputs[0]!);
        observed.push(p.gradNull ? [grad === undefined ? 'unset' : grad === null ? 'null' : 'a tensor'] : bits(read(env[n.inputs[0]!]!)));
        return;
      }
      case 'setGrad':
        // Replay keeps gradients only of tensors that exist outside the call (inputs).
        if (g.nodes[n.inputs[0]!]!.op === 'input') grads.set(n.inputs[0]!, n.inputs.length > 1 ? env[n.inputs[1]!]! : null);
        return;
      case 'loop': {
        const { state, count } = runLoop(n.params as EffectParams['loop'], n.inputs.map((x) => env[x]!), numbers);
        loops.set(i, state);
        env[i] = dense('int32', [], [count]);
        return;
      }
      case 'loopResult':
        env[i] = loops.get(n.inputs[0]!)![(n.params as EffectParams['loopResult']).index]!;
        return;
    }
    if (!isPrim(n.op)) throw new Error(`runGraph: unknown op ${n.op}`);
    const prim: Prim = n.op;
    const args = n.inputs.map((x) => env[x]!);
    if (primitiveRules[prim].kind === 'view') {
      const base = args[0]!;
      const layout = viewLayout(prim, { shape: base.shape.slice(), strides: base.strides.slice(), offset: base.offset }, n.params as Params<Prim>);
      if (layout === null) throw new Error(`runGraph: %${i} = ${prim} cannot be a view of its operand`);
      env[i] = { data: base.data, dtype: base.dtype, ...layout };
      return;
    }
    const params = prim === 'random' ? { seed: 1234, ...(n.params as object) } : n.params;
    const out = dense(n.dtype, n.shape);
    executePrim(cpu, prim, params as Params<Prim>, args, out);
    env[i] = out;
  });
  return env;
}

/** Runs `g`; `outputs` are the nodes the caller receives, `numbers` the number arguments of numberSlot constants. */
export function runGraph(g: Graph, inputs: Inputs, outputs: readonly number[], numbers: readonly number[] = []): Observed {
  const grads = new Map<number, Operand | null>();
  const observed: string[][] = [];
  const env = execute(g, inputs, numbers, grads, observed);
  const inputNodes = g.nodes.flatMap((n, i) => (n.op === 'input' ? [i] : []));
  const seen = () => ({
    outputs: outputs.map((o) => bits(read(env[o]!))),
    inputs: inputNodes.map((i) => bits(read(env[i]!))),
    grads: [...grads].sort(([a], [b]) => a - b).map(([, t]) => (t === null ? ['null'] : bits(read(t)))),
  });
  const first = seen();
  outputs.forEach((o, k) => fill(env[o]!, 100 + k));
  return { ...first, observed, afterCallerWrites: seen() };
}

/** Runs `g` with argument slot k holding `args[k]` (shape and dtype from its input node); each run gets fresh memory. */
export function runWith(g: Graph, args: readonly (readonly number[])[], outputs: readonly number[] = [], numbers: readonly number[] = []): Observed {
  return runGraph(g, (source, node) => {
    const n = g.nodes[node]!;
    return dense(n.dtype, n.shape, args[(source as { slot: number }).slot]);
  }, outputs, numbers);
}
