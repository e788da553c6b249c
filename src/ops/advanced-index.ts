/**
 * NumPy/PyTorch-style indexing: `x.index(0, ':', null, '1:5:2', idx, mask)` and its
 * counterparts that write (indexPut, maskedFill), composed from views, gather and
 * scatterAdd so autograd and the JIT see through them.
 */
import { DTypeError, DeviceError, ShapeError, ValueError, fmtShape } from '../../runtime/errors.js';
import { sizeOf } from '../../compiler/ir/shape.js';
import { Tensor, type TensorLike } from '../tensor.js';
import { full, tensor, zeros } from './creation.js';
import { add, asTensor, cast, expandTo, gt, lt, mul, where } from './elementwise.js';
import { indexSelect, scatterAdd } from './indexing.js';
import { permute, reshape, slice, squeeze, unsqueeze } from './shape.js';

/** A range of one dim: `{ start, end, step }` (any may be left out; negative start/end count from the end). */
export interface IndexRange {
  start?: number | null;
  end?: number | null;
  step?: number;
}

/**
 * One entry of `index`: an integer (selects, removing the dim), `':'`-style range text
 * (`'1:3'`, `'::2'`, `':'`) or an IndexRange, `null` (a new axis of size 1), `'...'` (every
 * dim not named), an int32 tensor (picks positions) or a bool tensor (picks where true).
 */
export type IndexSpec = number | string | IndexRange | null | Tensor;

const RANGE_TEXT = /^\s*(-?\d+)?\s*:\s*(-?\d+)?\s*(?::\s*(\d+)?\s*)?$/;

function parseRange(text: string): IndexRange {
  const m = RANGE_TEXT.exec(text);
  if (m === null) {
    throw new ValueError(`index: cannot read range ${JSON.stringify(text)} (valid: 'start:end:step' with integers, e.g. '1:3', '::2', ':')`);
  }
  const num = (s: string | undefined) => (s === undefined ? null : Number(s));
  return { start: num(m[1]), end: num(m[2]), step: num(m[3]) ?? 1 };
}

/** How many dims of the input a spec consumes. */
function consumes(spec: IndexSpec): number {
  if (spec === null || spec === '...') return 0;
  if (spec instanceof Tensor && spec.dtype === 'bool') return Math.max(spec.ndim, 1);
  return 1;
}

/** The int32 positions of the true elements of a bool tensor, one 1-D tensor per dim. */
function maskPositions(mask: Tensor): Tensor[] {
  const nz = nonzero(mask.ndim === 0 ? reshape(mask, [1]) : mask);
  return Array.from({ length: nz.shape[1]! }, (_, d) => reshape(slice(nz, 1, d, d + 1), [nz.shape[0]!]));
}

/** Positions may count from the end, as in PyTorch; out of range is an error at the gather. */
function wrapIndex(idx: Tensor, n: number): Tensor {
  return where(lt(idx, 0), add(idx, n), idx);
}

/**
 * The indices of `x`'s true (non-zero) elements as int32 [count, ndim], in row-major order.
 * The count depends on the values, so they are read (a guard under jit) and x must be on the CPU.
 */
export function nonzero(x: Tensor): Tensor {
  if (x.device !== 'cpu') {
    throw new DeviceError('nonzero: the result shape depends on the values, which a webgpu tensor cannot give synchronously; use maskedFill or where, or move the mask with await t.cpu()');
  }
  const values = x.data();
  const strides = x.shape.map((_, d) => sizeOf(x.shape.slice(d + 1)));
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) {
    if (values[i] === 0) continue;
    for (let d = 0; d < x.ndim; d++) out.push(Math.floor(i / strides[d]!) % x.shape[d]!);
  }
  return tensor(Int32Array.from(out), { shape: [out.length / Math.max(x.ndim, 1), x.ndim] });
}

interface Basic {
  view: Tensor;
  /** Int32 index tensors and the dim of `view` each applies to. */
  advanced: { dim: number; index: Tensor }[];
}

/** Applies integers, ranges and new axes as views; tensor indices are kept for later. */
function basicIndex(x: Tensor, specs: IndexSpec[]): Basic {
  const ellipses = specs.filter((s) => s === '...').length;
  if (ellipses > 1) throw new ValueError(`index: at most one '...' (got ${ellipses})`);
  const used = specs.reduce<number>((n, s) => n + consumes(s), 0);
  if (used > x.ndim) throw new ShapeError(`index: ${used} indexed dims for a tensor of shape ${fmtShape(x.shape)}`);
  const expanded: IndexSpec[] = [];
  for (const s of specs) {
    if (s === '...') for (let i = 0; i < x.ndim - used; i++) expanded.push(':');
    else expanded.push(s);
  }
  let view = x;
  let dim = 0;
  const squeezed: number[] = [];
  const advanced: Basic['advanced'] = [];
  for (const spec of expanded) {
    if (spec === null) {
      view = unsqueeze(view, dim++);
    } else if (typeof spec === 'number') {
      const n = view.shape[dim]!;
      if (!Number.isInteger(spec) || spec < -n || spec >= n) {
        throw new ShapeError(`index: index ${spec} is out of range for dim ${dim} of size ${n} (shape ${fmtShape(x.shape)})`);
      }
      const i = spec < 0 ? spec + n : spec;
      view = slice(view, dim, i, i + 1);
      squeezed.push(dim++);
    } else if (spec instanceof Tensor) {
      if (spec.dtype === 'bool') {
        const k = Math.max(spec.ndim, 1);
        const want = view.shape.slice(dim, dim + spec.ndim);
        if (spec.ndim > 0 && want.some((d, i) => d !== spec.shape[i])) {
          throw new ShapeError(`index: bool mask ${fmtShape(spec.shape)} does not match dims ${dim}..${dim + k - 1} ${fmtShape(want)} of ${fmtShape(x.shape)}`);
        }
        if (spec.ndim === 0) view = unsqueeze(view, dim);
        for (const positions of maskPositions(spec)) advanced.push({ dim: dim++, index: positions });
      } else if (spec.dtype === 'int32') {
        advanced.push({ dim, index: wrapIndex(spec, view.shape[dim]!) });
        dim++;
      } else {
        throw new DTypeError(`index: tensor indices must be int32 or bool (got ${spec.dtype})`);
      }
    } else {
      const r = typeof spec === 'string' ? parseRange(spec) : spec;
      if (typeof r !== 'object') {
        throw new ValueError(`index: cannot index with ${String(spec)} (valid: integers, 'start:end:step', {start, end, step}, null, '...', int32 or bool tensors)`);
      }
      const step = r.step ?? 1;
      if (!Number.isInteger(step) || step <= 0) {
        throw new ValueError(`index: range steps must be positive integers (got ${step}); use flip() to reverse`);
      }
      view = slice(view, dim++, r.start ?? null, r.end ?? null, step);
    }
  }
  // Squeezing dims shifts the dims of the advanced indices that follow them.
  for (const a of advanced) a.dim -= squeezed.filter((d) => d < a.dim).length;
  return { view: squeezed.length ? squeeze(view, squeezed) : view, advanced };
}

function broadcastShapes(shapes: number[][]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  return Array.from({ length: rank }, (_, i) => {
    let d = 1;
    for (const s of shapes) {
      const v = s[s.length - rank + i] ?? 1;
      if (v !== 1 && d !== 1 && v !== d) {
        throw new ShapeError(`index: index tensors of shapes ${shapes.map(fmtShape).join(', ')} do not broadcast`);
      }
      if (v !== 1) d = v;
    }
    return d;
  });
}

interface Merged {
  /** The input with the indexed dims first, merged into one. */
  flat: Tensor;
  /** The flat position of each selected element (int32, broadcast shape). */
  linear: Tensor;
  rest: number[];
  perm: number[];
  /** Where the broadcast index dims go in the result (PyTorch: in place when the indexed dims are adjacent, else first). */
  at: number;
}

/** Moves the indexed dims first and merges them, so one indexSelect picks every element. */
function merge(view: Tensor, advanced: Basic['advanced']): Merged {
  const dims = advanced.map((a) => a.dim);
  const shape = broadcastShapes(advanced.map((a) => a.index.shape));
  let linear: Tensor | null = null;
  for (const a of advanced) {
    const i = expandTo(a.index, shape);
    linear = linear === null ? i : add(mul(linear, view.shape[a.dim]!), i);
  }
  const others = view.shape.map((_, d) => d).filter((d) => !dims.includes(d));
  const perm = [...dims, ...others];
  const rest = others.map((d) => view.shape[d]!);
  const merged = sizeOf(dims.map((d) => view.shape[d]!));
  const flat = reshape(permute(view, perm), [merged, ...rest]);
  const adjacent = dims.every((d, i) => i === 0 || d === dims[i - 1]! + 1);
  return { flat, linear: linear!, rest, perm, at: adjacent ? dims[0]! : 0 };
}

/** Moves the leading `k` dims of `t` to position `at`. */
function placeFront(t: Tensor, k: number, at: number): Tensor {
  if (at === 0 || k === 0) return t;
  const order = Array.from({ length: t.ndim }, (_, d) => d);
  const front = order.slice(0, k), back = order.slice(k);
  return permute(t, [...back.slice(0, at), ...front, ...back.slice(at)]);
}

/** PyTorch's `x[...]`: see IndexSpec. Integer and range entries give views; tensor entries gather. */
export function index(x: Tensor, ...specs: IndexSpec[]): Tensor {
  const { view, advanced } = basicIndex(x, specs);
  if (advanced.length === 0) return view;
  const m = merge(view, advanced);
  const picked = indexSelect(m.flat, 0, reshape(m.linear, [m.linear.size]));
  return placeFront(reshape(picked, [...m.linear.shape, ...m.rest]), m.linear.ndim, m.at);
}

/**
 * A copy of `x` with `values` written at `indices` (int32 tensors for the leading dims, or
 * one bool mask), PyTorch's `index_put`. With `accumulate`, repeated positions add up;
 * without, a position must not repeat (PyTorch leaves that case undefined; here they add).
 */
export function indexPut(x: Tensor, indices: Tensor[], values: TensorLike, accumulate = false): Tensor {
  if (!Array.isArray(indices) || indices.length === 0) {
    throw new ValueError('indexPut: indices must be a non-empty array of int32 or bool tensors');
  }
  const { view, advanced } = basicIndex(x, indices);
  const m = merge(view, advanced);
  const flatIndex = reshape(m.linear, [m.linear.size]);
  const shape = [m.linear.size, ...m.rest];
  const src = expandTo(reshape(expandTo(asTensor(values, x.dtype), [...m.linear.shape, ...m.rest]), shape), shape);
  const idx = expandTo(reshape(flatIndex, [m.linear.size, ...m.rest.map(() => 1)]), shape);
  const base = zeros(m.flat.shape, { dtype: x.dtype, device: x.device });
  const placed = scatterAdd(base, 0, idx, cast(src, x.dtype));
  let merged: Tensor;
  if (accumulate) {
    merged = add(m.flat, placed);
  } else {
    const one = expandTo(full([], 1, { dtype: 'int32', device: x.device }), shape);
    const hits = scatterAdd(zeros(m.flat.shape, { dtype: 'int32', device: x.device }), 0, idx, one);
    merged = where(gt(hits, 0), placed, m.flat);
  }
  // Undo the merge and the permutation.
  const unmerged = reshape(merged, m.perm.map((d) => view.shape[d]!));
  const inverse = new Array<number>(m.perm.length);
  m.perm.forEach((d, i) => (inverse[d] = i));
  return permute(unmerged, inverse);
}

/** `x` with `value` where `mask` is true (mask broadcasts to x). */
export function maskedFill(x: Tensor, mask: Tensor, value: TensorLike): Tensor {
  if (!(mask instanceof Tensor) || mask.dtype !== 'bool') {
    throw new DTypeError(`maskedFill: mask must be a bool tensor (got ${mask instanceof Tensor ? mask.dtype : typeof mask})`);
  }
  const v = typeof value === 'number' || typeof value === 'boolean' ? asTensor(value, x.dtype) : cast(value, x.dtype);
  const out = where(mask, v, x);
  if (out.ndim !== x.ndim || out.shape.some((d, i) => d !== x.shape[i])) {
    throw new ShapeError(`maskedFill: mask ${fmtShape(mask.shape)} must broadcast to the input ${fmtShape(x.shape)}`);
  }
  return out;
}
