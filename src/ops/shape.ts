/** Views (reshape, permute, expand, slice…) and the ops that assemble tensors (cat, stack, pad). */
import { ShapeError, ValueError, fmtShape } from '../../runtime/errors.js';
import { viewLayout } from '../../compiler/ir/infer.js';
import { broadcastShapes, normalizeAxis, normalizeAxes, sameShape, sizeOf } from '../../compiler/ir/shape.js';
import { apply } from '../dispatch.js';
import { resultType } from '../dtype.js';
import { Tensor } from '../tensor.js';
import { asTensor } from './elementwise.js';
import { checkScalar } from './scalars.js';

/** Resolves `axis` for an op that indexes along an existing dim, which a 0-d tensor does not have. */
function dimAxis(op: string, x: Tensor, axis: number): number {
  if (x.ndim === 0) throw new ShapeError(`${op}: a 0-d tensor has no dim ${axis} to index; reshape it to [1] first`);
  return normalizeAxis(op, axis, x.ndim);
}

/** Resolves one -1 in a target shape and checks the element count. */
function inferReshape(op: string, x: Tensor, shape: number[]): number[] {
  if (!Array.isArray(shape)) throw new ValueError(`${op}: shape must be an array (got ${String(shape)})`);
  let unknown = -1;
  let known = 1;
  shape.forEach((d, i) => {
    if (d === -1) {
      if (unknown >= 0) throw new ShapeError(`${op}: only one dimension can be -1 (got ${fmtShape(shape)})`);
      unknown = i;
    } else if (!Number.isInteger(d) || d < 0) {
      throw new ShapeError(`${op}: invalid size ${d} in ${fmtShape(shape)} (sizes are non-negative integers or one -1)`);
    } else known *= d;
  });
  const out = shape.slice();
  if (unknown >= 0) {
    if (known === 0 || x.size % known !== 0) throw new ShapeError(`${op}: cannot reshape ${fmtShape(x.shape)} (${x.size} elements) into ${fmtShape(shape)}`);
    out[unknown] = x.size / known;
  } else if (known !== x.size) {
    throw new ShapeError(`${op}: cannot reshape ${fmtShape(x.shape)} (${x.size} elements) into ${fmtShape(shape)} (${known} elements)`);
  }
  return out;
}

/** Same elements in a new shape (one dim may be -1); a view when the strides allow, else a copy. */
export function reshape(x: Tensor, shape: number[]): Tensor {
  const target = inferReshape('reshape', x, shape);
  if (sameShape(target, x.shape)) return x;
  const source = viewLayout('reshape', x, { shape: target }) === null ? contiguous(x) : x;
  return apply('reshape', [source], { shape: target });
}

/** Like reshape, but never copies: an error when the strides cannot express the new shape. */
export function view(x: Tensor, shape: number[]): Tensor {
  const target = inferReshape('view', x, shape);
  if (viewLayout('reshape', x, { shape: target }) === null) {
    throw new ShapeError(`view: ${fmtShape(x.shape)} with strides ${fmtShape(x.strides)} cannot be viewed as ${fmtShape(target)} without a copy; use reshape (which copies) or contiguous() first`);
  }
  return apply('reshape', [x], { shape: target });
}

/** Merges dims startAxis..endAxis into one. */
export function flatten(x: Tensor, startAxis = 0, endAxis = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normalizeAxis('flatten', startAxis, x.ndim);
  const e = normalizeAxis('flatten', endAxis, x.ndim);
  if (s > e) throw new ShapeError(`flatten: startAxis ${startAxis} comes after endAxis ${endAxis} for ${x.ndim} dims`);
  return reshape(x, [...x.shape.slice(0, s), sizeOf(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)]);
}

/** Removes size-1 dims (all of them, or those listed; a listed dim of another size stays). */
export function squeeze(x: Tensor, axis?: number | number[]): Tensor {
  const axes = axis === undefined ? x.shape.map((_, i) => i) : normalizeAxes('squeeze', axis, x.ndim);
  const shape = x.shape.filter((d, i) => !(d === 1 && axes.includes(i)));
  return shape.length === x.ndim ? x : apply('reshape', [x], { shape });
}

/** Inserts a size-1 dim at `axis` (-1 appends). */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  const a = normalizeAxis('unsqueeze', axis, x.ndim + 1);
  const shape = x.shape.slice();
  shape.splice(a, 0, 1);
  return apply('reshape', [x], { shape });
}

/** Reorders dims: out dim i is x's dim dims[i]. */
export function permute(x: Tensor, dims: number[]): Tensor {
  if (!Array.isArray(dims) || dims.length !== x.ndim) {
    throw new ShapeError(`permute: need a permutation of ${x.ndim} dims for ${fmtShape(x.shape)} (got ${Array.isArray(dims) ? fmtShape(dims) : String(dims)})`);
  }
  const perm = dims.map((d) => normalizeAxis('permute', d, x.ndim));
  if (new Set(perm).size !== perm.length) throw new ShapeError(`permute: ${fmtShape(dims)} repeats a dim`);
  if (perm.every((p, i) => p === i)) return x;
  return apply('permute', [x], { perm });
}

/** Swaps two dims. */
export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  const a = normalizeAxis('transpose', dim0, x.ndim);
  const b = normalizeAxis('transpose', dim1, x.ndim);
  const perm = x.shape.map((_, i) => i);
  perm[a] = b;
  perm[b] = a;
  return permute(x, perm);
}

/** Transpose of a tensor with at most 2 dims. */
export function t(x: Tensor): Tensor {
  if (x.ndim > 2) throw new ShapeError(`t: expects a tensor of at most 2 dims (got ${fmtShape(x.shape)}); use transpose or permute`);
  return x.ndim < 2 ? x : transpose(x, 0, 1);
}

/** Repeats size-1 dims (and adds leading dims) without copying; -1 keeps a size. */
export function expand(x: Tensor, shape: number[]): Tensor {
  if (!Array.isArray(shape) || shape.length < x.ndim) {
    throw new ShapeError(`expand: the target ${Array.isArray(shape) ? fmtShape(shape) : String(shape)} must have at least the ${x.ndim} dims of ${fmtShape(x.shape)}`);
  }
  const lead = shape.length - x.ndim;
  const target = shape.map((d, i) => {
    const own = i >= lead ? x.shape[i - lead]! : undefined;
    if (d === -1) {
      if (own === undefined) throw new ShapeError(`expand: -1 is not allowed for the new leading dim ${i} in ${fmtShape(shape)}`);
      return own;
    }
    if (!Number.isInteger(d) || d < 0 || (own !== undefined && own !== 1 && own !== d)) {
      throw new ShapeError(`expand: cannot expand ${fmtShape(x.shape)} to ${fmtShape(shape)} (only size-1 dims can grow)`);
    }
    return d;
  });
  return sameShape(target, x.shape) ? x : apply('expand', [x], { shape: target });
}

/** `x` broadcast to `shape` by NumPy rules, as a view. */
export function broadcastTo(x: Tensor, shape: number[]): Tensor {
  const b = broadcastShapes('broadcastTo', x.shape, shape);
  if (!sameShape(b, shape)) throw new ShapeError(`broadcastTo: cannot broadcast ${fmtShape(x.shape)} to ${fmtShape(shape)}`);
  return expand(x, shape);
}

/** Elements start..end (exclusive) by step along `axis`, Python-style (negative and out-of-range bounds clamp). */
export function slice(x: Tensor, axis: number, start?: number | null, end?: number | null, step = 1): Tensor {
  const a = dimAxis('slice', x, axis);
  if (!Number.isInteger(step) || step <= 0) throw new ValueError(`slice: step must be a positive integer (got ${step})`);
  const n = x.shape[a]!;
  const clampIndex = (v: number | null | undefined, dflt: number, name: string): number => {
    if (v === undefined || v === null) return dflt;
    if (!Number.isInteger(v)) throw new ValueError(`slice: ${name} must be an integer (got ${v})`);
    const r = v < 0 ? v + n : v;
    return Math.min(Math.max(r, 0), n);
  };
  const s = clampIndex(start, 0, 'start');
  const e = clampIndex(end, n, 'end');
  const len = Math.max(0, Math.ceil((e - s) / step));
  if (s === 0 && len === n && step === 1) return x;
  const starts = x.shape.map(() => 0), steps = x.shape.map(() => 1), sizes = x.shape.slice();
  starts[a] = s;
  steps[a] = step;
  sizes[a] = len;
  return apply('slice', [x], { starts, steps, sizes });
}

/** `length` elements from `start` along `axis`; out of range is an error (unlike slice). */
export function narrow(x: Tensor, axis: number, start: number, length: number): Tensor {
  const a = dimAxis('narrow', x, axis);
  const n = x.shape[a]!;
  const s = start < 0 ? start + n : start;
  if (!Number.isInteger(s) || !Number.isInteger(length) || s < 0 || length < 0 || s + length > n) {
    throw new ShapeError(`narrow: start ${start} and length ${length} do not fit dim ${a} of size ${n} in ${fmtShape(x.shape)}`);
  }
  return slice(x, a, s, s + length);
}

/** `x` itself when row-major without gaps, else a contiguous copy. */
export function contiguous(x: Tensor): Tensor {
  return x.isContiguous ? x : apply('copy', [x], {});
}

/** A contiguous copy that shares nothing with `x`. */
export function clone(x: Tensor): Tensor {
  return apply('copy', [x], {});
}

/** Pieces of `sizes` elements along `axis` (a number: equal pieces, the last may be smaller). */
export function split(x: Tensor, sizes: number | number[], axis = 0): Tensor[] {
  const a = dimAxis('split', x, axis);
  const n = x.shape[a]!;
  let list: number[];
  if (typeof sizes === 'number') {
    if (!Number.isInteger(sizes) || sizes <= 0) throw new ValueError(`split: size must be a positive integer (got ${sizes})`);
    list = [];
    for (let at = 0; at < n; at += sizes) list.push(Math.min(sizes, n - at));
    if (n === 0) list.push(0);
  } else {
    list = sizes;
    const total = list.reduce((p, v) => p + v, 0);
    if (list.some((v) => !Number.isInteger(v) || v < 0) || total !== n) {
      throw new ShapeError(`split: sizes ${fmtShape(list)} must be non-negative integers summing to ${n}, the size of dim ${a} of ${fmtShape(x.shape)}`);
    }
  }
  let at = 0;
  return list.map((len) => {
    const piece = slice(x, a, at, at + len);
    at += len;
    return piece;
  });
}

/** `chunks` nearly equal pieces along `axis` (fewer when the dim is short), as PyTorch's chunk. */
export function chunk(x: Tensor, chunks: number, axis = 0): Tensor[] {
  if (!Number.isInteger(chunks) || chunks <= 0) throw new ValueError(`chunk: chunks must be a positive integer (got ${chunks})`);
  const n = x.shape[dimAxis('chunk', x, axis)]!;
  // An empty dim still gives `chunks` pieces, as PyTorch's chunk does.
  if (n === 0) return split(x, new Array<number>(chunks).fill(0), axis);
  return split(x, Math.max(1, Math.ceil(n / chunks)), axis);
}

/** Joins tensors along an existing axis; other dims must match. */
export function cat(tensors: Tensor[], axis = 0): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) throw new ValueError('cat: needs a non-empty array of tensors');
  const first = tensors[0]!;
  const a = normalizeAxis('cat', axis, first.ndim);
  for (const x of tensors) {
    if (!(x instanceof Tensor)) throw new ValueError(`cat: every element must be a tensor (got ${typeof x})`);
    if (x.ndim !== first.ndim || x.shape.some((d, i) => i !== a && d !== first.shape[i])) {
      throw new ShapeError(`cat: tensors must have the same shape except in dim ${a} (got ${fmtShape(first.shape)} and ${fmtShape(x.shape)})`);
    }
  }
  if (first.ndim === 0) throw new ShapeError('cat: 0-d tensors cannot be concatenated; use stack');
  const dtype = resultType(...tensors.map((x) => x.dtype));
  return apply('concat', tensors.map((x) => asTensor(x, dtype)), { axis: a });
}

/** Joins same-shape tensors along a new axis. */
export function stack(tensors: Tensor[], axis = 0): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) throw new ValueError('stack: needs a non-empty array of tensors');
  const first = tensors[0]!;
  for (const x of tensors) {
    if (!sameShape(x.shape, first.shape)) throw new ShapeError(`stack: all tensors must have the same shape (got ${fmtShape(first.shape)} and ${fmtShape(x.shape)})`);
  }
  const a = normalizeAxis('stack', axis, first.ndim + 1);
  return cat(tensors.map((x) => unsqueeze(x, a)), a);
}

/**
 * Constant padding, PyTorch's F.pad order: [left, right] of the last dim, then of the one
 * before, … Negative amounts crop.
 */
export function pad(x: Tensor, pads: number[], value = 0): Tensor {
  checkScalar('pad', 'value', value);
  if (!Array.isArray(pads) || pads.length % 2 !== 0 || pads.length / 2 > x.ndim || pads.some((p) => !Number.isInteger(p))) {
    throw new ShapeError(`pad: pads must be an even-length list of integers covering at most ${x.ndim} dims (got ${Array.isArray(pads) ? fmtShape(pads) : String(pads)})`);
  }
  const before = x.shape.map(() => 0), after = x.shape.map(() => 0);
  for (let i = 0; i < pads.length / 2; i++) {
    const d = x.ndim - 1 - i;
    before[d] = pads[2 * i]!;
    after[d] = pads[2 * i + 1]!;
  }
  let src = x;
  x.shape.forEach((n, d) => {
    if (before[d]! < 0 || after[d]! < 0) {
      const s = Math.max(0, -before[d]!), e = n - Math.max(0, -after[d]!);
      if (e < s) throw new ShapeError(`pad: cropping ${-before[d]!} and ${-after[d]!} from dim ${d} of size ${n} leaves nothing`);
      src = slice(src, d, s, e);
      before[d] = Math.max(0, before[d]!);
      after[d] = Math.max(0, after[d]!);
    }
  });
  if (before.every((b) => b === 0) && after.every((b) => b === 0)) return src === x ? clone(x) : src;
  return apply('pad', [src], { before, after, value });
}
