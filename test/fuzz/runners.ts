/**
 * The checks a program goes through. Each returns a Failure or undefined:
 * - eager vs the float64 reference, op by op on the operands kiln actually had, then every
 *   view against its base after all writes (aliases must see them);
 * - jit vs eager bit for bit over four calls with fresh inputs (trace, confirm, two replays);
 * - gradients vs central finite differences in float64, in a random direction;
 * - the jit'd backward vs the eager backward, bit for bit;
 * - WebGPU eager vs the reference (the same op-by-op check with float32 tolerances).
 */
import { clearJitCaches, jit, tensor, type Tensor } from '../../src/index.js';
import { compareBitwise, compareToRef, readCpu, readValues } from './check.js';
import { inputValues } from './generate.js';
import { makeInput, programFunction, runProgram } from './interpret.js';
import type { RefValue } from './op-record.js';
import { opNamed } from './ops.js';
import { isFloatType, sizeOf, type Program } from './program.js';
import { Rng } from './rng.js';

export type Check =
  | 'eager-vs-reference' | 'jit-vs-eager' | 'grad-vs-finite-differences' | 'jit-backward-vs-eager' | 'webgpu-vs-reference';

export interface Failure {
  check: Check;
  /** One line: what differed, or the error thrown. */
  detail: string;
}

function errorLine(e: unknown): string {
  const m = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return m.split('\n')[0]!;
}

/** Eager results op by op against the reference, on `device`. */
export async function eagerVsReference(p: Program, device: 'cpu' | 'webgpu'): Promise<Failure | undefined> {
  const check: Check = device === 'cpu' ? 'eager-vs-reference' : 'webgpu-vs-reference';
  const values = new Map<number, Tensor>();
  try {
    p.inputs.forEach((x) => values.set(x.id, device === 'cpu' ? makeInput(x) : makeInput(x).to('webgpu')));
    for (const [i, s] of p.stmts.entries()) {
      const op = opNamed(s.op);
      const args = s.args.map((a) => values.get(a)!);
      const before = await Promise.all(args.map(readValues));
      const out = op.run(args, s.params);
      values.set(s.id, out);
      const why = compareToRef(await readValues(out), op.ref(before, s.params), op.check, device);
      if (why !== undefined) return { check, detail: `statement ${i} (${s.op}): ${why}` };
    }
    // A view taken before a write must show the write: recompute each view from its base now.
    for (const [i, s] of p.stmts.entries()) {
      const op = opNamed(s.op);
      if (op.view !== true) continue;
      const base = await readValues(values.get(s.args[0]!)!);
      const why = compareToRef(await readValues(values.get(s.id)!), op.ref([base], s.params), 'exact', device);
      if (why !== undefined) return { check, detail: `view ${i} (${s.op}) after later writes: ${why}` };
    }
  } catch (e) {
    return { check, detail: errorLine(e) };
  }
  return undefined;
}

export const CALLS = 4;

/** Inputs for call `call`: the program's own values first, then fresh ones of the same metas. */
export function callInputs(p: Program, call: number): number[][] {
  if (call === 0) return p.inputs.map((x) => x.values);
  const rng = new Rng((p.seed ^ Math.imul(call, 0x9e3779b1)) >>> 0);
  return p.inputs.map((x) => inputValues(rng, x.meta, p.mode));
}

function compareLists(a: RefValue[], b: RefValue[], what: [string, string]): string | undefined {
  for (let i = 0; i < a.length; i++) {
    const why = compareBitwise(a[i]!, b[i]!, what);
    if (why !== undefined) return `output ${i}: ${why}`;
  }
  return undefined;
}

/** Calls `fn` eagerly and under jit on the same fresh inputs, CALLS times; results must match bit for bit. */
function jitAgainstEager(p: Program, check: Check, fn: (...xs: Tensor[]) => Tensor[]): Failure | undefined {
  clearJitCaches();
  const f = jit(fn);
  for (let call = 0; call < CALLS; call++) {
    const values = callInputs(p, call);
    let want: RefValue[], got: RefValue[];
    try {
      want = fn(...p.inputs.map((x, i) => makeInput(x, values[i]))).map(readCpu);
    } catch (e) {
      return { check, detail: `eager call ${call + 1} threw ${errorLine(e)}` };
    }
    try {
      got = f(...p.inputs.map((x, i) => makeInput(x, values[i]))).map(readCpu);
    } catch (e) {
      return { check, detail: `jit call ${call + 1} threw ${errorLine(e)}` };
    }
    const why = compareLists(got, want, ['jit', 'eager']);
    if (why !== undefined) return { check, detail: `call ${call + 1}: ${why}` };
  }
  const { traces, replays, fallbacks } = f.stats;
  if (replays !== CALLS - 2 || fallbacks !== 0) {
    return { check, detail: `expected ${CALLS - 2} replays, got traces ${traces}, replays ${replays}, fallbacks ${fallbacks}` };
  }
  return undefined;
}

export function jitVsEager(p: Program): Failure | undefined {
  return jitAgainstEager(p, 'jit-vs-eager', programFunction(p));
}

/** Fixed weights for the scalar loss Σ sum(out · w). */
function lossWeights(p: Program): number[][] {
  const rng = new Rng(p.seed ^ 0x5bd1e995);
  return p.outputs.map((o) => Array.from({ length: sizeOf(metaShape(p, o)) }, () => rng.next() * 2 - 1));
}

function metaShape(p: Program, id: number): number[] {
  return (p.stmts.find((s) => s.id === id) ?? p.inputs.find((x) => x.id === id))!.meta.shape;
}

/** The scalar loss of the program's float outputs. */
function loss(p: Program, outs: Tensor[], weights: number[][]): Tensor {
  let total: Tensor | undefined;
  outs.forEach((o, i) => {
    if (!isFloatType(o.dtype as never)) return;
    const w = tensor(Float64Array.from(weights[i]!), { shape: o.shape.slice(), dtype: o.dtype });
    const term = o.mul(w).sum();
    total = total === undefined ? term : total.add(term);
  });
  return total ?? tensor(0);
}

/** Backward through the program: the loss and each input's gradient (zeros when unused). */
function backward(p: Program, xs: Tensor[], weights: number[][]): Tensor[] {
  const leaves = xs.map((x) => x.detach().requiresGrad_());
  const l = loss(p, runProgram(p, leaves).outputs, weights);
  if (l.requiresGrad) l.backward();
  return [l.detach(), ...leaves.map((x) => (x.grad ?? x.detach().mul(0)).detach())];
}

function f64(values: readonly number[], shape: readonly number[]): Tensor {
  return tensor(Float64Array.from(values), { shape: shape.slice() });
}

/** Analytic gradients against central differences of the float64 program in a random direction. */
export function gradVsFiniteDifferences(p: Program): Failure | undefined {
  const check: Check = 'grad-vs-finite-differences';
  const weights = lossWeights(p);
  const rng = new Rng(p.seed ^ 0x27d4eb2f);
  const xs = p.inputs.map((x) => x.values);
  const dirs = p.inputs.map((x) => x.values.map(() => rng.next() * 2 - 1));
  const at = (shift: number) => {
    const ins = p.inputs.map((x, i) => f64(xs[i]!.map((v, j) => v + shift * dirs[i]![j]!), x.meta.shape));
    return loss(p, runProgram(p, ins).outputs, weights).item();
  };
  try {
    const grads = backward(p, p.inputs.map((x) => f64(x.values, x.meta.shape)), weights).slice(1);
    let analytic = 0, scale = 0;
    grads.forEach((g, i) => Array.from(g.data(), Number).forEach((v, j) => {
      analytic += v * dirs[i]![j]!;
      scale += Math.abs(v * dirs[i]![j]!);
    }));
    if (!Number.isFinite(analytic) || !Number.isFinite(at(0))) return undefined;
    for (const h of [1e-6, 1e-4, 1e-7]) {
      const fd = (at(h) - at(-h)) / (2 * h);
      if (Math.abs(fd - analytic) <= 1e-5 * (Math.abs(fd) + scale) + 1e-8) return undefined;
    }
    const fd = (at(1e-6) - at(-1e-6)) / 2e-6;
    return { check, detail: `directional derivative: autograd ${analytic}, finite differences ${fd}` };
  } catch (e) {
    return { check, detail: errorLine(e) };
  }
}

/** The jit'd forward + backward against the eager one, bit for bit. */
export function jitBackwardVsEager(p: Program): Failure | undefined {
  const weights = lossWeights(p);
  return jitAgainstEager(p, 'jit-backward-vs-eager', (...xs: Tensor[]) => backward(p, xs, weights));
}
