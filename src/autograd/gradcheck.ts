/**
 * Checks analytic gradients against central finite differences in float64. Small inputs
 * are checked element by element (so the report can name the worst element); large ones
 * along random directions.
 */
import { KilnError, ValueError, fmtShape } from '../../runtime/errors.js';
import { Tensor } from '../tensor.js';
import { tensor } from '../ops/creation.js';
import { mul } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { vjp } from './functional.js';
import { noGrad } from './mode.js';

/** Options of gradcheck. */
export interface GradcheckOptions {
  /** Finite-difference step. */
  eps?: number;
  atol?: number;
  rtol?: number;
  /** Inputs with more elements than this are checked along random directions instead. */
  maxElementwise?: number;
  /** Random directions per large input. */
  directions?: number;
  /** Seed of the random directions and cotangent. */
  seed?: number;
  /** Throw a GradcheckError on failure (default) instead of returning the report. */
  raise?: boolean;
}

/** The outcome of gradcheck. */
export interface GradcheckResult {
  ok: boolean;
  maxAbsError: number;
  /** Where the largest violation was, with both values. */
  worst: { input: number; element: number[] | 'direction'; analytic: number; numeric: number } | null;
  report: string;
}

/** Analytic and numeric gradients disagree. */
export class GradcheckError extends KilnError {
  override name = 'GradcheckError';
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  };
}

function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d]!;
    i = Math.floor(i / shape[d]!);
  }
  return idx;
}

/** Checks fn's gradients with respect to every float64 input that requires grad. */
export function gradcheck(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], options: GradcheckOptions = {}): GradcheckResult {
  const { eps = 1e-6, atol = 1e-5, rtol = 1e-3, maxElementwise = 512, directions = 4, seed = 1, raise = true } = options;
  inputs.forEach((x, i) => {
    if (!(x instanceof Tensor) || x.dtype !== 'float64') {
      throw new ValueError(`gradcheck: input ${i} must be a float64 tensor (got ${x instanceof Tensor ? x.dtype : typeof x}); finite differences in float32 are too coarse`);
    }
  });
  const next = lcg(seed);
  const [out, pullback] = vjp(fn, ...inputs);
  const cot = tensor(Float64Array.from({ length: out.size }, next), { shape: out.shape });
  const analytic = pullback(cot);
  // u · f(x) for perturbed inputs, with no graph recorded.
  const project = (xs: Tensor[]): number => noGrad(() => sum(mul(fn(...xs), cot)).item());
  const base = inputs.map((x) => x.detach().data() as Float64Array);
  const withInput = (i: number, values: Float64Array): Tensor[] => inputs.map((x, j) => (j === i ? tensor(values, { shape: x.shape }) : x.detach()));
  let worst: GradcheckResult['worst'] = null;
  let worstExcess = -Infinity, maxAbsError = 0;
  const consider = (input: number, element: number[] | 'direction', a: number, n: number) => {
    const err = Math.abs(a - n);
    maxAbsError = Math.max(maxAbsError, Number.isNaN(err) ? Infinity : err);
    const excess = Number.isNaN(err) ? Infinity : err - (atol + rtol * Math.abs(n));
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = { input, element, analytic: a, numeric: n };
    }
  };
  inputs.forEach((x, i) => {
    const g = analytic[i]!.data() as Float64Array;
    const n = x.size;
    if (n <= maxElementwise) {
      for (let e = 0; e < n; e++) {
        const plus = base[i]!.slice(), minus = base[i]!.slice();
        plus[e]! += eps;
        minus[e]! -= eps;
        consider(i, unravel(e, x.shape), g[e]!, (project(withInput(i, plus)) - project(withInput(i, minus))) / (2 * eps));
      }
    } else {
      for (let k = 0; k < directions; k++) {
        const v = Float64Array.from({ length: n }, next);
        const plus = base[i]!.map((b, e) => b + eps * v[e]!), minus = base[i]!.map((b, e) => b - eps * v[e]!);
        let a = 0;
        for (let e = 0; e < n; e++) a += g[e]! * v[e]!;
        consider(i, 'direction', a, (project(withInput(i, plus)) - project(withInput(i, minus))) / (2 * eps));
      }
    }
  });
  const ok = worstExcess <= 0;
  const w = worst as GradcheckResult['worst'];
  const where = w === null ? '' : `input ${w.input} ${fmtShape(inputs[w.input]!.shape)}, ${w.element === 'direction' ? 'a random direction' : `element ${fmtShape(w.element)}`}`;
  const report = w === null
    ? 'gradcheck: no inputs to check'
    : `gradcheck ${ok ? 'passed' : 'FAILED'}: worst at ${where}: analytic ${w.analytic}, numeric ${w.numeric} (|diff| ${Math.abs(w.analytic - w.numeric).toExponential(3)}, allowed ${(atol + rtol * Math.abs(w.numeric)).toExponential(3)})`;
  if (!ok && raise) throw new GradcheckError(report);
  return { ok, maxAbsError, worst: w, report };
}
