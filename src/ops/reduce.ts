/** Reductions over axes, and the composites built on them (mean, var, softmax, logsumexp…). */
import { isFloat } from '../../runtime/dtype.js';
import { ShapeError, ValueError, fmtShape, fmtValue } from '../../runtime/errors.js';
import type { ReducePrim } from '../../compiler/ir/primitives.js';
import { normalizeAxes, normalizeAxis, sizeOf } from '../../compiler/ir/shape.js';
import { apply } from '../dispatch.js';
import type { Tensor } from '../tensor.js';
import { abs, add, cast, div, exp, log, mul, ne, reciprocal, sqrt, sub, where } from './elementwise.js';
import { reshape, squeeze } from './shape.js';
import { gather } from './indexing.js';
import { isGradEnabled } from '../autograd/mode.js';

/** Axes argument of the reductions: one axis, a list, or all (null/undefined). */
export type Axes = number | number[] | null | undefined;

function keepShape(x: Tensor, axes: readonly number[]): number[] {
  return x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

/** Axes to reduce; axis 0 / -1 of a 0-d tensor is accepted as in PyTorch and names no dim. */
function reduceAxes(op: string, axis: Axes, ndim: number): number[] {
  return normalizeAxes(op, axis, ndim).filter((a) => a < ndim);
}

function reduce(prim: Exclude<ReducePrim, 'argmax' | 'argmin'>, op: string, x: Tensor, axis: Axes, keepdim: boolean): Tensor {
  if (typeof keepdim !== 'boolean') throw new ValueError(`${op}: keepdim must be true or false (got ${fmtValue(keepdim)})`);
  const axes = reduceAxes(op, axis, x.ndim);
  if (axes.length === 0) return prim === 'sum' || prim === 'prod' ? apply(prim, [x], { axes }) : x.clone();
  const out = apply(prim, [x], { axes });
  return keepdim ? reshape(out, keepShape(x, axes)) : out;
}

/** Sum over `axis` (all when omitted); bool and int32 sum as int32. */
export const sum = (x: Tensor, axis?: Axes, keepdim = false): Tensor => reduce('sum', 'sum', x, axis, keepdim);
/** Product over `axis`. */
export const prod = (x: Tensor, axis?: Axes, keepdim = false): Tensor => reduce('prod', 'prod', x, axis, keepdim);
/**
 * Largest value over `axis` (NaN if any). The gradient follows PyTorch: over one axis it
 * goes to the first largest element (the one argmax names), over all or several axes it is
 * shared evenly among the tied elements (torch.max() and amax).
 */
export const max = (x: Tensor, axis?: Axes, keepdim = false): Tensor =>
  (typeof axis === 'number' && tracksGrad(x) ? withIndices('max', x, axis, keepdim).values : reduce('max', 'max', x, axis, keepdim));
/** Smallest value over `axis` (NaN if any); gradients as for max. */
export const min = (x: Tensor, axis?: Axes, keepdim = false): Tensor =>
  (typeof axis === 'number' && tracksGrad(x) ? withIndices('min', x, axis, keepdim).values : reduce('min', 'min', x, axis, keepdim));

function tracksGrad(x: Tensor): boolean {
  return x.requiresGrad && isGradEnabled();
}

/** Values and their int32 positions along one axis, as PyTorch's `max(dim)` returns them. */
export interface ValuesIndices {
  values: Tensor;
  indices: Tensor;
}

function withIndices(op: 'max' | 'min', x: Tensor, axis: number, keepdim: boolean): ValuesIndices {
  const name = op === 'max' ? 'maxWithIndices' : 'minWithIndices';
  if (x.size === 0) throw new ShapeError(`${name}: cannot reduce an empty tensor ${fmtShape(x.shape)}`);
  const a = normalizeAxis(name, axis, x.ndim);
  if (x.ndim === 0) return { values: x.clone(), indices: argReduce(op === 'max' ? 'argmax' : 'argmin', x, a, keepdim) };
  const kept = argReduce(op === 'max' ? 'argmax' : 'argmin', x, a, true);
  // The value at the first extreme position: bitwise the reduction's value (a NaN wins, as there).
  const values = gather(x, a, kept);
  return keepdim ? { values, indices: kept } : { values: squeeze(values, a), indices: squeeze(kept, a) };
}

/** PyTorch's `max(dim)`: the largest values along `axis` and the first position of each. */
export const maxWithIndices = (x: Tensor, axis: number, keepdim = false): ValuesIndices => withIndices('max', x, axis, keepdim);
/** PyTorch's `min(dim)`: the smallest values along `axis` and the first position of each. */
export const minWithIndices = (x: Tensor, axis: number, keepdim = false): ValuesIndices => withIndices('min', x, axis, keepdim);

/** True where any element over `axis` is non-zero; false over no elements. */
export function any(x: Tensor, axis?: Axes, keepdim = false): Tensor {
  // A count rather than a max, so an empty reduction has a value.
  return ne(reduce('sum', 'any', cast(x, 'bool'), axis, keepdim), 0);
}

/** True where every element over `axis` is non-zero; true over no elements. */
export function all(x: Tensor, axis?: Axes, keepdim = false): Tensor {
  // A product rather than a min, so an empty reduction has a value.
  return ne(reduce('prod', 'all', cast(x, 'bool'), axis, keepdim), 0);
}

function argReduce(prim: 'argmax' | 'argmin', x: Tensor, axis: number | null | undefined, keepdim: boolean): Tensor {
  if (axis === undefined || axis === null) {
    if (x.size === 0) throw new ShapeError(`${prim}: cannot take ${prim} of an empty tensor ${fmtShape(x.shape)}`);
    const flat = apply(prim, [reshape(x, [x.size])], { axis: 0 });
    return keepdim ? reshape(flat, x.shape.map(() => 1)) : flat;
  }
  const a = normalizeAxis(prim, axis, x.ndim);
  if (x.ndim === 0) return reshape(apply(prim, [reshape(x, [1])], { axis: 0 }), []);
  const out = apply(prim, [x], { axis: a });
  return keepdim ? reshape(out, keepShape(x, [a])) : out;
}

/** Index of the first largest value along `axis` (of the flattened tensor when omitted), int32. */
export const argmax = (x: Tensor, axis?: number | null, keepdim = false): Tensor => argReduce('argmax', x, axis, keepdim);
/** Index of the first smallest value along `axis`, int32. */
export const argmin = (x: Tensor, axis?: number | null, keepdim = false): Tensor => argReduce('argmin', x, axis, keepdim);

function asFloat(x: Tensor): Tensor {
  return isFloat(x.dtype) ? x : cast(x, 'float32');
}

function count(x: Tensor, axis: Axes, op: string): number {
  return sizeOf(reduceAxes(op, axis, x.ndim).map((a) => x.shape[a]!));
}

/** Mean over `axis`; integer input is averaged as float32. */
export function mean(x: Tensor, axis?: Axes, keepdim = false): Tensor {
  // Counted first, so a bad axis is reported as mean's, not sum's.
  const n = count(x, axis, 'mean');
  return div(sum(asFloat(x), axis, keepdim), n);
}

/** Variance over `axis` with Bessel's correction by default (correction = 1). */
export function variance(x: Tensor, axis?: Axes, keepdim = false, correction = 1): Tensor {
  const n = count(x, axis, 'var');
  const xf = asFloat(x);
  const centered = sub(xf, mean(xf, axis, true));
  const squares = sum(mul(centered, centered), axis, keepdim);
  if (n - correction > 0) return div(squares, n - correction);
  // No degrees of freedom left: NaN, as in PyTorch. Dividing by 0 alone is not enough on
  // WebGPU: a fused kernel whose shader compiler sees the sum is 0 (one value per row) may
  // fold 0 / x to 0, which WGSL's float rules allow; adding NaN cannot be folded away.
  return add(div(squares, 0), NaN);
}

/** Standard deviation over `axis`. */
export function std(x: Tensor, axis?: Axes, keepdim = false, correction = 1): Tensor {
  reduceAxes('std', axis, x.ndim); // checked here so a bad axis is reported as std's
  return sqrt(variance(x, axis, keepdim, correction));
}

/** The max used to shift exp(): finite, so rows of -Inf or +Inf do not turn into NaN. */
function stableShift(x: Tensor, axes: Axes): Tensor | number {
  // An empty tensor has no max; with no elements any shift gives the same (empty or -Inf) result.
  if (x.size === 0) return 0;
  // The max primitive itself: the shift's gradient cancels, so no first-index gather is needed.
  const m = reduce('max', 'max', x, axes, true);
  const finite = ne(abs(m), Infinity);
  return where(finite, m, 0);
}

/** log(Σ exp(x)) over `axis`, without overflow. */
export function logsumexp(x: Tensor, axis?: Axes, keepdim = false): Tensor {
  const xf = asFloat(x);
  const axes = reduceAxes('logsumexp', axis, xf.ndim);
  const m = stableShift(xf, axes);
  const out = add(log(sum(exp(sub(xf, m)), axes, true)), m);
  return keepdim ? out : reshape(out, xf.shape.filter((_, i) => !axes.includes(i)));
}

/**
 * exp(x - m) · (1 / Σ exp(x - m)) along `axis`, m the row's max (0 where it is not finite). The
 * row's sum is inverted once and every element multiplied by it, as XNNPACK and PyTorch's CPU
 * kernels do, instead of a quotient per element, the slowest instruction of the kernel's last
 * pass. One rounding more: over [256,1024] rows of 4·randn in float32, the worst element is
 * 2.56 ulp from float64 on the same rounded x - m (2.37 with the quotient). Eager, jit and every
 * engine compute this one formula.
 */
export function softmax(x: Tensor, axis = -1): Tensor {
  const xf = asFloat(x);
  const a = normalizeAxis('softmax', axis, xf.ndim);
  const e = exp(sub(xf, stableShift(xf, a)));
  return mul(e, reciprocal(sum(e, a, true)));
}

/** x - logsumexp(x) along `axis`. */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const xf = asFloat(x);
  const a = normalizeAxis('logSoftmax', axis, xf.ndim);
  const shifted = sub(xf, stableShift(xf, a));
  return sub(shifted, log(sum(exp(shifted), a, true)));
}

