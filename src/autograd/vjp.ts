/**
 * Vector-Jacobian products of every primitive, written with kiln ops so that gradients are
 * ordinary recorded (and traceable) computations: grad-of-grad works, and the JIT sees the
 * backward pass like any other code. The table is typed over every primitive.
 */
import { isFloat } from '../../runtime/dtype.js';
import type { Params, Prim } from '../../compiler/ir/primitives.js';
import { apply } from '../dispatch.js';
import type { Tensor } from '../tensor.js';
import { zeros } from '../ops/creation.js';
import {
  add, cast, cos, div, eq, exp, expandTo, floor, ge, gt, log, logicalAnd, lt, mul, neg, pow, sign, sin, sub, where,
} from '../ops/elementwise.js';
import { pad, reshape, slice, transpose, unsqueeze } from '../ops/shape.js';
import { matmul } from '../ops/linalg.js';
import { gather, scatterAdd } from '../ops/indexing.js';

/** Gradients for each operand (null: no gradient flows there). */
type Grads = (Tensor | null)[];

/** What a rule reads at backward time, so in-place writes to exactly those are caught. */
type Saves = 'none' | 'inputs' | 'output' | 'all';

/** The VJP rule of one primitive; `vjp: null` for primitives with no gradient (comparisons, indices, random). */
export interface VjpRule<P extends Prim> {
  saves: Saves;
  /** `needs[i]` is false when operand i needs no gradient, so a costly one can be skipped. */
  vjp: ((g: Tensor, x: readonly Tensor[], out: Tensor, params: Params<P>, needs: readonly boolean[]) => Grads) | null;
}

const none = { saves: 'none', vjp: null } as const;
/** Piecewise-constant functions: gradient zero almost everywhere, so none flows. */
const zeroGrad = { saves: 'none', vjp: () => [null] } as const;

/** Sums `g` over the `axes` that a reduction removed and broadcasts it back to `shape`. */
function unreduce(g: Tensor, shape: readonly number[], axes: readonly number[]): Tensor {
  const kept = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  return expandTo(reshape(g, kept), shape.slice());
}

/** Pads dim `d` of `t` with `before`/`after` zeros (negative amounts crop). */
function padDim(t: Tensor, d: number, before: number, after: number): Tensor {
  const pads = new Array<number>(2 * (t.ndim - d)).fill(0);
  pads[pads.length - 2] = before;
  pads[pads.length - 1] = after;
  return pad(t, pads);
}

/** Places `g` (a strided slice's gradient) back into zeros of the source shape, one dim at a time. */
function unslice(g: Tensor, source: readonly number[], p: Params<'slice'>): Tensor {
  let out = g;
  source.forEach((n, d) => {
    const start = p.starts[d]!, step = p.steps[d]!, size = p.sizes[d]!;
    if (start === 0 && step === 1 && size === n) return;
    if (size === 0) {
      out = zeros(out.shape.map((s, i) => (i === d ? n : s)), { dtype: g.dtype, device: g.device });
      return;
    }
    if (step > 1) {
      // [.., size, 1, ..] padded to [.., size, step, ..] and merged puts element i at i·step.
      const spread = padDim(unsqueeze(out, d + 1), d + 1, 0, step - 1);
      out = reshape(spread, out.shape.map((s, i) => (i === d ? s * step : s)));
    }
    out = padDim(out, d, start, n - start - out.shape[d]!);
  });
  return out;
}

function floatOrNull(g: Tensor, x: Tensor): Tensor | null {
  return isFloat(x.dtype) ? cast(g, x.dtype) : null;
}

/** The VJP of every primitive. */
export const vjpRules: { [P in Prim]: VjpRule<P> } = {
  copy: { saves: 'none', vjp: (g) => [g] },
  neg: { saves: 'none', vjp: (g) => [neg(g)] },
  abs: { saves: 'inputs', vjp: (g, [x]) => [mul(g, sign(x!))] },
  sign: zeroGrad,
  recip: { saves: 'output', vjp: (g, _, y) => [neg(mul(g, mul(y, y)))] },
  exp: { saves: 'output', vjp: (g, _, y) => [mul(g, y)] },
  log: { saves: 'inputs', vjp: (g, [x]) => [div(g, x!)] },
  log1p: { saves: 'inputs', vjp: (g, [x]) => [div(g, add(x!, 1))] },
  expm1: { saves: 'output', vjp: (g, _, y) => [mul(g, add(y, 1))] },
  sqrt: { saves: 'output', vjp: (g, _, y) => [div(mul(g, 0.5), y)] },
  rsqrt: { saves: 'output', vjp: (g, _, y) => [mul(mul(g, -0.5), mul(y, mul(y, y)))] },
  sin: { saves: 'inputs', vjp: (g, [x]) => [mul(g, cos(x!))] },
  cos: { saves: 'inputs', vjp: (g, [x]) => [neg(mul(g, sin(x!)))] },
  tan: { saves: 'output', vjp: (g, _, y) => [mul(g, add(mul(y, y), 1))] },
  tanh: { saves: 'output', vjp: (g, _, y) => [mul(g, sub(1, mul(y, y)))] },
  erf: { saves: 'inputs', vjp: (g, [x]) => [mul(g, mul(exp(neg(mul(x!, x!))), 2 / Math.sqrt(Math.PI)))] },
  erfc: { saves: 'inputs', vjp: (g, [x]) => [mul(g, mul(exp(neg(mul(x!, x!))), -2 / Math.sqrt(Math.PI)))] },
  sigmoid: { saves: 'output', vjp: (g, _, y) => [mul(g, mul(y, sub(1, y)))] },
  floor: zeroGrad,
  ceil: zeroGrad,
  round: zeroGrad,
  not: none,
  isnan: none,

  add: { saves: 'none', vjp: (g) => [g, g] },
  sub: { saves: 'none', vjp: (g) => [g, neg(g)] },
  mul: { saves: 'inputs', vjp: (g, [a, b]) => [mul(g, b!), mul(g, a!)] },
  div: { saves: 'all', vjp: (g, [, b], y) => [div(g, b!), neg(div(mul(g, y), b!))] },
  pow: {
    saves: 'all',
    vjp: (g, [a, b], y) => [
      // d/da = b·a^(b-1), taken as 0 where b = 0 (PyTorch's convention, avoiding 0·inf).
      where(eq(b!, 0), 0, mul(g, mul(b!, pow(a!, sub(b!, 1))))),
      // d/db = y·log(a), taken as 0 where a = 0 and b ≥ 0 (the limit of y·log a).
      where(logicalAnd(eq(a!, 0), ge(b!, 0)), 0, mul(g, mul(y, log(a!)))),
    ],
  },
  // Ties split the gradient evenly, as PyTorch's maximum/minimum do.
  maximum: {
    saves: 'inputs',
    vjp: (g, [a, b]) => {
      const half = mul(g, 0.5);
      return [where(gt(a!, b!), g, where(eq(a!, b!), half, 0)), where(lt(a!, b!), g, where(eq(a!, b!), half, 0))];
    },
  },
  minimum: {
    saves: 'inputs',
    vjp: (g, [a, b]) => {
      const half = mul(g, 0.5);
      return [where(lt(a!, b!), g, where(eq(a!, b!), half, 0)), where(gt(a!, b!), g, where(eq(a!, b!), half, 0))];
    },
  },
  mod: { saves: 'inputs', vjp: (g, [a, b]) => [g, neg(mul(g, floor(div(a!, b!))))] },
  lt: none, le: none, eq: none, ne: none, and: none, or: none,

  where: { saves: 'inputs', vjp: (g, [c]) => [null, where(c!, g, 0), where(c!, 0, g)] },
  cast: { saves: 'none', vjp: (g, [x]) => [floatOrNull(g, x!)] },

  sum: { saves: 'none', vjp: (g, [x], _, p) => [unreduce(g, x!.shape, p.axes)] },
  prod: {
    saves: 'all',
    vjp: (g, [x], y, p) => {
      // ∂y/∂x_i = product of the others; computed without dividing by zero: with no zero
      // in the group it is y/x_i, with exactly one zero only that element gets the product
      // of the non-zeros, with more zeros everything is 0.
      const x0 = x!;
      const isZero = eq(x0, 0);
      const zerosInGroup = unreduce(apply('sum', [cast(isZero, 'int32')], { axes: p.axes }), x0.shape, p.axes);
      const prodNonZero = unreduce(apply('prod', [where(isZero, 1, x0)], { axes: p.axes }), x0.shape, p.axes);
      const others = where(eq(zerosInGroup, 0), div(unreduce(y, x0.shape, p.axes), where(isZero, 1, x0)), where(logicalAnd(eq(zerosInGroup, 1), isZero), prodNonZero, 0));
      return [mul(unreduce(g, x0.shape, p.axes), others)];
    },
  },
  // The gradient of a max/min is shared evenly by the elements that attain it.
  max: { saves: 'all', vjp: (g, [x], y, p) => [extremumGrad(g, x!, y, p.axes)] },
  min: { saves: 'all', vjp: (g, [x], y, p) => [extremumGrad(g, x!, y, p.axes)] },
  argmax: none,
  argmin: none,

  reshape: { saves: 'none', vjp: (g, [x]) => [reshape(g, x!.shape.slice())] },
  permute: {
    saves: 'none',
    vjp: (g, _, __, p) => {
      const inverse = new Array<number>(p.perm.length);
      p.perm.forEach((d, i) => (inverse[d] = i));
      return [apply('permute', [g], { perm: inverse })];
    },
  },
  expand: {
    saves: 'none',
    vjp: (g, [x]) => {
      const shape = x!.shape;
      const lead = g.ndim - shape.length;
      const axes: number[] = [];
      g.shape.forEach((d, i) => { if (i < lead || (shape[i - lead] === 1 && d !== 1)) axes.push(i); });
      const summed = axes.length ? apply('sum', [g], { axes }) : g;
      return [reshape(summed, shape.slice())];
    },
  },
  slice: { saves: 'none', vjp: (g, [x], _, p) => [unslice(g, x!.shape, p)] },
  pad: {
    saves: 'none',
    vjp: (g, [x], _, p) => {
      let out = g;
      x!.shape.forEach((n, d) => { out = slice(out, d, p.before[d]!, p.before[d]! + n); });
      return [out];
    },
  },
  concat: {
    saves: 'none',
    vjp: (g, xs, _, p) => {
      let at = 0;
      return xs.map((x) => {
        const piece = slice(g, p.axis, at, at + x.shape[p.axis]!);
        at += x.shape[p.axis]!;
        return piece;
      });
    },
  },
  matmul: {
    saves: 'inputs',
    vjp: (g, [a, b], _, __, needs) => {
      const r = g.ndim;
      const swap = (t: Tensor) => transpose(t, r - 2, r - 1);
      return [needs[0] ? matmul(g, swap(b!)) : null, needs[1] ? rightGrad(g, a!, b!, swap) : null];
    },
  },
  gather: {
    saves: 'inputs',
    vjp: (g, [x, index], _, p) => [scatterAdd(zeros(x!.shape.slice(), { dtype: g.dtype, device: g.device }), p.axis, index!, g), null],
  },
  scatterAdd: { saves: 'inputs', vjp: (g, [, index], _, p) => [g, null, gather(g, p.axis, index!)] },
  random: none,
  iota: none,
};

/**
 * The gradient of matmul's right operand, aᵀ·g, laid out as `b` is: for a `b` that is a
 * transposed view (a Linear layer's weight in x·Wᵀ), (gᵀ·a)ᵀ, so that the weight's gradient
 * comes out contiguous rather than as a transposed view that storing it copies element by
 * element (the MLP 784-256-256-10 step transposed its 0.27M weight gradients every step).
 */
function rightGrad(g: Tensor, a: Tensor, b: Tensor, swap: (t: Tensor) => Tensor): Tensor {
  const transposed = a.ndim === 2 && b.ndim === 2 && !b.isContiguous &&
    b.strides[0] === 1 && b.strides[1] === b.shape[0];
  return transposed ? swap(matmul(swap(g), a)) : matmul(swap(a), g);
}

function extremumGrad(g: Tensor, x: Tensor, y: Tensor, axes: readonly number[]): Tensor {
  const hit = eq(x, unreduce(y, x.shape, axes));
  const hits = unreduce(apply('sum', [cast(hit, x.dtype)], { axes: axes.slice() }), x.shape, axes);
  return where(hit, div(unreduce(g, x.shape, axes), hits), 0);
}

