/**
 * Ops that move elements around without arithmetic: triangles (tril/triu, for causal
 * masks), flip, roll, repeat/tile and moving a dim. Composed from iota, views, gather and
 * concat, so autograd and the JIT see through them.
 */
import { ShapeError, ValueError, fmtShape } from '../../runtime/errors.js';
import { normalizeAxes, normalizeAxis } from '../../compiler/ir/shape.js';
import type { Tensor } from '../tensor.js';
import { iota } from './creation.js';
import { asTensor, le, sub, where } from './elementwise.js';
import { indexSelect } from './indexing.js';
import { cat, expand, permute, reshape, slice } from './shape.js';

function checkDiagonal(op: string, x: Tensor, diagonal: number): void {
  if (x.ndim < 2) throw new ShapeError(`${op}: needs a tensor of at least 2 dims (got ${fmtShape(x.shape)})`);
  if (!Number.isInteger(diagonal)) throw new ValueError(`${op}: diagonal must be an integer (got ${diagonal})`);
}

/** True where column - row <= diagonal, over the last two dims of x. */
function lowerMask(x: Tensor, diagonal: number): Tensor {
  const rows = x.shape[x.ndim - 2]!, cols = x.shape[x.ndim - 1]!;
  const offset = sub(reshape(iota(cols, x.device), [1, cols]), reshape(iota(rows, x.device), [rows, 1]));
  return le(offset, diagonal);
}

/** The lower triangle of the last two dims (elements with column - row <= diagonal); zeros (false) elsewhere, keeping x's dtype. */
export function tril(x: Tensor, diagonal = 0): Tensor {
  checkDiagonal('tril', x, diagonal);
  return where(lowerMask(x, diagonal), x, asTensor(0, x.dtype));
}

/** The upper triangle of the last two dims (elements with column - row >= diagonal); zeros elsewhere. */
export function triu(x: Tensor, diagonal = 0): Tensor {
  checkDiagonal('triu', x, diagonal);
  return where(lowerMask(x, diagonal - 1), asTensor(0, x.dtype), x);
}

/** Reverses the order of elements along each of `axes`. */
export function flip(x: Tensor, axes: number | number[]): Tensor {
  let out = x;
  for (const a of normalizeAxes('flip', axes, x.ndim)) {
    if (a >= x.ndim) continue; // axis 0 of a 0-d tensor, as PyTorch accepts
    const n = x.shape[a]!;
    // A negative slice step is not a view primitive: gather at n-1, n-2, …, 0 instead.
    out = indexSelect(out, a, sub(n - 1, iota(n, x.device)));
  }
  return out === x ? x.clone() : out;
}

/**
 * Shifts elements by `shifts` along `axes` with wrap-around; without axes, the flattened
 * tensor is rolled and its shape restored, as in PyTorch.
 */
export function roll(x: Tensor, shifts: number | number[], axes?: number | number[]): Tensor {
  const s = typeof shifts === 'number' ? [shifts] : shifts;
  if (s.some((v) => !Number.isInteger(v))) throw new ValueError(`roll: shifts must be integers (got ${fmtShape(s)})`);
  if (axes === undefined) return reshape(roll(reshape(x, [x.size]), s.reduce((p, v) => p + v, 0), 0), x.shape);
  const a = typeof axes === 'number' ? [axes] : axes;
  if (a.length !== s.length) {
    throw new ValueError(`roll: ${s.length} shifts for ${a.length} axes; give one shift per axis`);
  }
  let out = x;
  a.forEach((axis, i) => {
    const d = normalizeAxis('roll', axis, x.ndim);
    const n = x.shape[d]!;
    if (n === 0) return;
    const k = ((s[i]! % n) + n) % n;
    if (k !== 0) out = cat([slice(out, d, n - k), slice(out, d, 0, n - k)], d);
  });
  return out === x ? x.clone() : out;
}

/** Tiles x `repeats[i]` times along dim i (PyTorch's `repeat`; extra leading repeats add dims). */
export function repeat(x: Tensor, repeats: number[]): Tensor {
  if (!Array.isArray(repeats) || repeats.length < x.ndim || repeats.some((r) => !Number.isInteger(r) || r < 0)) {
    throw new ShapeError(`repeat: needs a non-negative integer count for each of the ${x.ndim} dims at least (got ${Array.isArray(repeats) ? fmtShape(repeats) : String(repeats)})`);
  }
  const shape = [...repeats.slice(0, repeats.length - x.ndim).map(() => 1), ...x.shape];
  // [..., 1, d, ...] expanded to [..., r, d, ...] and merged puts r copies of each dim side by side.
  const spread = reshape(x, shape.flatMap((d) => [1, d]));
  const big = expand(spread, shape.flatMap((d, i) => [repeats[i]!, d]));
  return reshape(big, shape.map((d, i) => d * repeats[i]!));
}

/** NumPy's tile: like repeat, with missing leading counts taken as 1. */
export function tile(x: Tensor, reps: number[]): Tensor {
  if (!Array.isArray(reps)) throw new ShapeError(`tile: reps must be an array of counts (got ${String(reps)})`);
  return repeat(x, [...new Array<number>(Math.max(0, x.ndim - reps.length)).fill(1), ...reps]);
}

/** Moves dim `source` to position `destination`, keeping the others in order. */
export function movedim(x: Tensor, source: number, destination: number): Tensor {
  const s = normalizeAxis('movedim', source, x.ndim), d = normalizeAxis('movedim', destination, x.ndim);
  const order = x.shape.map((_, i) => i).filter((i) => i !== s);
  order.splice(d, 0, s);
  return permute(x, order);
}

