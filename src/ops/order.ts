/**
 * Scans and sorting: cumsum, cumprod, sort, argsort, topk.
 *
 * Each is composed from primitives over an [n, n] pairing of the elements along the axis:
 * a scan reduces each prefix (j <= i, the rest masked to the identity) with the sum or prod
 * reduction, so it fuses under jit and is bitwise the same there; a sort ranks every
 * element by counting the ones that go before it
 * (stable, NaN last as in PyTorch) and gathers by rank. Both cost O(n²) per row, which is
 * what makes them fusable kernels on every backend; they suit the axis lengths of masks,
 * sequences and top-k over logits (thousands), not sorting millions of elements.
 */
import { ShapeError, fmtShape } from '../../runtime/errors.js';
import { normalizeAxis } from '../../compiler/ir/shape.js';
import type { Tensor } from '../tensor.js';
import { iota } from './creation.js';
import { cast, eq, isnan, le, logicalAnd, logicalNot, logicalOr, lt, mul, where } from './elementwise.js';
import { gather } from './indexing.js';
import { prod, sum } from './reduce.js';
import { expand, reshape, slice, unsqueeze } from './shape.js';
import { movedim } from './rearrange.js';

/** [n, n] bool, true where column j <= row i: the prefix of row i. */
function prefixMask(n: number, device: Tensor['device']): Tensor {
  return le(reshape(iota(n, device), [1, n]), reshape(iota(n, device), [n, 1]));
}

/** Row i of the result pairs element i with every element j: [..., n] → [..., n(i), n(j)]. */
function pairs(x: Tensor): Tensor {
  const n = x.shape[x.ndim - 1]!;
  return expand(unsqueeze(x, -2), [...x.shape.slice(0, -1), n, n]);
}

function scan(op: string, x: Tensor, axis: number, identity: number, reduce: (t: Tensor, axis: number) => Tensor): Tensor {
  const a = normalizeAxis(op, axis, x.ndim);
  if (x.ndim === 0) return reduce(reshape(x, [1]), 0).reshape([]);
  const last = movedim(x, a, -1);
  const n = last.shape[last.ndim - 1]!;
  const scanned = reduce(where(prefixMask(n, x.device), pairs(last), identity), -1);
  return movedim(scanned, -1, a);
}

/** Running sum along `axis` (bool and int32 sum as int32, as sum does). */
export function cumsum(x: Tensor, axis: number): Tensor {
  return scan('cumsum', x, axis, 0, (t, a) => sum(t, a));
}

/** Running product along `axis`. */
export function cumprod(x: Tensor, axis: number): Tensor {
  return scan('cumprod', x, axis, 1, (t, a) => prod(t, a));
}

/** Values in order along an axis and the positions they came from. */
export interface Sorted {
  values: Tensor;
  /** int32 positions in the input (PyTorch returns int64). */
  indices: Tensor;
}

/** True where a goes strictly before b ascending: NaN after everything, as PyTorch sorts. */
function before(a: Tensor, b: Tensor): Tensor {
  return logicalOr(lt(a, b), logicalAnd(isnan(b), logicalNot(isnan(a))));
}

/** True where a and b tie (NaNs tie with each other). */
function ties(a: Tensor, b: Tensor): Tensor {
  return logicalOr(eq(a, b), logicalAnd(isnan(a), isnan(b)));
}

/** Stable sort along the last dim: the rank of each element, then the element of each rank. */
function sortLast(x: Tensor, descending: boolean): Sorted {
  const n = x.shape[x.ndim - 1]!;
  const positions = iota(n, x.device);
  const xi = unsqueeze(x, -1); // [..., n(i), 1]
  const xj = unsqueeze(x, -2); // [..., 1, n(j)]
  const earlier = lt(reshape(positions, [1, n]), reshape(positions, [n, 1])); // j < i
  const goesFirst = descending ? before(xi, xj) : before(xj, xi);
  // j goes before i when it is strictly first, or ties with i and comes earlier (stability).
  const rank = sum(logicalOr(goesFirst, logicalAnd(ties(xj, xi), earlier)), -1); // [..., n(i)]
  // indices[r] = the i whose rank is r.
  const hit = eq(unsqueeze(rank, -1), reshape(positions, [1, n])); // [..., n(i), n(r)]
  const indices = sum(mul(cast(hit, 'int32'), reshape(positions, [n, 1])), -2);
  return { values: gather(x, x.ndim - 1, indices), indices };
}

/** Sorts along `axis` (stable; NaN last ascending, first descending): values and their positions. */
export function sort(x: Tensor, axis = -1, descending = false): Sorted {
  const a = normalizeAxis('sort', axis, x.ndim);
  if (x.ndim === 0) return { values: x.clone(), indices: cast(mul(x, 0), 'int32') };
  if (x.dtype === 'bool') {
    const s = sort(cast(x, 'int32'), a, descending);
    return { values: cast(s.values, 'bool'), indices: s.indices };
  }
  const s = sortLast(movedim(x, a, -1), descending);
  return { values: movedim(s.values, -1, a), indices: movedim(s.indices, -1, a) };
}

/** The int32 positions that would sort `x` along `axis` (stable). */
export function argsort(x: Tensor, axis = -1, descending = false): Tensor {
  return sort(x, axis, descending).indices;
}

/** The `k` largest (or smallest) values along `axis`, in order, and their positions. */
export function topk(x: Tensor, k: number, axis = -1, largest = true): Sorted {
  const a = normalizeAxis('topk', axis, x.ndim);
  const n = x.ndim === 0 ? 1 : x.shape[a]!;
  if (!Number.isInteger(k) || k < 0 || k > n) {
    throw new ShapeError(`topk: k must be an integer in 0..${n} for dim ${a} of ${fmtShape(x.shape)} (got ${k})`);
  }
  const s = sort(x, a, largest);
  if (x.ndim === 0) return s;
  return { values: slice(s.values, a, 0, k), indices: slice(s.indices, a, 0, k) };
}

