/** Vector norms and closeness tests, composed from elementwise ops and reductions. */
import { isFloat } from '../../runtime/dtype.js';
import { ValueError } from '../../runtime/errors.js';
import type { Tensor } from '../tensor.js';
import { abs, add, cast, eq, isnan, le, logicalAnd, logicalOr, mul, ne, pow, sqrt, sub } from './elementwise.js';
import { all, max, min, sum, type Axes } from './reduce.js';

/** The order of a norm: a number p (including ±Infinity and 0) or 'fro' (the 2-norm of the elements). */
export type NormOrder = number | 'fro';

/**
 * The p-norm over `axis` (all elements when omitted), as PyTorch's `torch.norm` /
 * `linalg.vector_norm`: (Σ|x|^p)^(1/p); Infinity is max|x|, -Infinity min|x|, 0 counts non-zeros.
 */
export function norm(x: Tensor, p: NormOrder = 2, axis?: Axes, keepdim = false): Tensor {
  if (p !== 'fro' && (typeof p !== 'number' || Number.isNaN(p))) {
    throw new ValueError(`norm: p must be a number or 'fro' (got ${String(p)})`);
  }
  const xf = isFloat(x.dtype) ? x : cast(x, 'float32');
  const a = abs(xf);
  if (p === 'fro' || p === 2) return sqrt(sum(mul(xf, xf), axis, keepdim));
  if (p === 1) return sum(a, axis, keepdim);
  // As a list of axes, so ties share the gradient evenly (torch.linalg.vector_norm's rule).
  const axes = typeof axis === 'number' ? [axis] : axis;
  if (p === Infinity) return max(a, axes, keepdim);
  if (p === -Infinity) return min(a, axes, keepdim);
  if (p === 0) return cast(sum(ne(xf, 0), axis, keepdim), xf.dtype);
  return pow(sum(pow(a, p), axis, keepdim), 1 / p);
}

/** Options of isclose and allclose (PyTorch's defaults). */
export interface CloseOptions {
  rtol?: number;
  atol?: number;
  /** NaN counts as close to NaN. */
  equalNan?: boolean;
}

/** Elementwise |a - b| <= atol + rtol·|b| (equal infinities are close), broadcasting a and b. */
export function isclose(a: Tensor, b: Tensor, options: CloseOptions = {}): Tensor {
  const rtol = options.rtol ?? 1e-5, atol = options.atol ?? 1e-8;
  if (!(rtol >= 0) || !(atol >= 0)) {
    throw new ValueError(`isclose: rtol and atol must be non-negative (got rtol=${rtol}, atol=${atol})`);
  }
  const near = le(abs(sub(a, b)), add(mul(abs(b), rtol), atol));
  const close = logicalOr(eq(a, b), near);
  return options.equalNan ? logicalOr(close, logicalAnd(isnan(a), isnan(b))) : close;
}

/** True when every element of a is close to b's (see isclose); reads the answer, so a and b must be on the CPU. */
export function allclose(a: Tensor, b: Tensor, options: CloseOptions = {}): boolean {
  return all(isclose(a, b, options)).item() !== 0;
}
