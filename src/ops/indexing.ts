/** Gathering and scattering by index. */
import { DTypeError, IndexRangeError, ShapeError, fmtShape } from '../../runtime/errors.js';
import { normalizeAxis } from '../../compiler/ir/shape.js';
import { apply } from '../dispatch.js';
import { Tensor } from '../tensor.js';
import { iota } from './creation.js';
import { cast, eq, expandTo } from './elementwise.js';
import { reshape, unsqueeze } from './shape.js';
import type { DType } from '../../runtime/dtype.js';

function checkIndex(op: string, index: Tensor): void {
  if (!(index instanceof Tensor) || index.dtype !== 'int32') {
    throw new DTypeError(`${op}: index must be an int32 tensor (got ${index instanceof Tensor ? index.dtype : typeof index})`);
  }
}

/**
 * Runs `fn`, reporting an out-of-range index under `op`, the function the user called, and
 * `what` the index counts (classes, embeddings) rather than the gather inside it.
 */
export function indexedAs<T>(op: string, fn: () => T, what?: (size: number) => string): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof IndexRangeError) throw new IndexRangeError(op, e.index, e.size, what?.(e.size));
    throw e;
  }
}

/** out[i][j] = x[i][index[i][j]] for axis 1 (PyTorch's gather); index has x's number of dims. */
export function gather(x: Tensor, axis: number, index: Tensor): Tensor {
  checkIndex('gather', index);
  return apply('gather', [x, index], { axis: normalizeAxis('gather', axis, x.ndim) });
}

/** The slices of x at the positions of the 1-D `index` along `axis`. */
export function indexSelect(x: Tensor, axis: number, index: Tensor): Tensor {
  checkIndex('indexSelect', index);
  if (index.ndim !== 1) throw new ShapeError(`indexSelect: index must be 1-D (got ${fmtShape(index.shape)})`);
  const a = normalizeAxis('indexSelect', axis, x.ndim);
  const shape = x.shape.map((d, i) => (i === a ? index.shape[0]! : d));
  const idx = expandTo(reshape(index, x.shape.map((_, i) => (i === a ? index.shape[0]! : 1))), shape);
  return indexedAs('indexSelect', () => apply('gather', [x, idx], { axis: a }));
}

/** A copy of `base` with `src` added at `index` along `axis` (duplicates accumulate). */
export function scatterAdd(base: Tensor, axis: number, index: Tensor, src: Tensor): Tensor {
  checkIndex('scatterAdd', index);
  if (src.dtype !== base.dtype) throw new DTypeError(`scatterAdd: source dtype ${src.dtype} must match the base's ${base.dtype}`);
  return apply('scatterAdd', [base, index, src], { axis: normalizeAxis('scatterAdd', axis, base.ndim) });
}

/**
 * One-hot encoding of int32 class indices: a new last dim of `numClasses`. On the CPU an
 * index outside 0..numClasses-1 is an error at once. Other devices cannot read the indices
 * synchronously, so there each index picks its row of the identity through a gather, whose
 * range check reports an out-of-range class at the next readback (never a silent zero row).
 */
export function oneHot(indices: Tensor, numClasses: number, options?: { dtype?: DType }): Tensor {
  checkIndex('oneHot', indices);
  if (!Number.isInteger(numClasses) || numClasses <= 0) throw new ShapeError(`oneHot: numClasses must be a positive integer (got ${numClasses})`);
  const dtype = options?.dtype ?? 'int32';
  const classes = iota(numClasses, indices.device);
  if (indices.device !== 'cpu') {
    const identity = cast(eq(unsqueeze(classes, -1), classes), dtype);
    const rows = indexSelect(identity, 0, reshape(indices, [indices.size]));
    return reshape(rows, [...indices.shape, numClasses]);
  }
  if (indices.size > 0) {
    const lo = indices.min().item(), hi = indices.max().item();
    if (lo < 0 || hi >= numClasses) throw new ShapeError(`oneHot: class indices must be in 0..${numClasses - 1} (got values from ${lo} to ${hi})`);
  }
  return cast(eq(unsqueeze(indices, -1), classes), dtype);
}
