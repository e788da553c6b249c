import { ShapeError, ValueError, fmtShape, fmtValue } from '../../runtime/errors.js';

/** Number of elements of a shape. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides of a contiguous tensor of `shape`. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

/** True when `strides` walk `shape` row-major with no gaps (size-1 dims are free). */
export function isContiguous(shape: readonly number[], strides: readonly number[]): boolean {
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && strides[i] !== s) return false;
    s *= shape[i]!;
  }
  return true;
}

/** NumPy broadcasting of two shapes; throws naming `op` when they do not broadcast. */
export function broadcastShapes(op: string, a: readonly number[], b: readonly number[]): number[] {
  if (a.length === b.length) {
    let same = true;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) { same = false; break; }
    if (same) return a.slice();
  }
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = i < n - a.length ? 1 : a[i - (n - a.length)]!;
    const db = i < n - b.length ? 1 : b[i - (n - b.length)]!;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(`${op}: cannot broadcast ${fmtShape(a)} with ${fmtShape(b)}`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides that read a tensor of `shape`/`strides` as if broadcast to `target` (0 on repeated dims). */
export function broadcastStrides(shape: readonly number[], strides: readonly number[], target: readonly number[]): number[] {
  const lead = target.length - shape.length;
  const out = new Array<number>(target.length);
  for (let i = 0; i < target.length; i++) {
    const j = i - lead;
    out[i] = j < 0 || shape[j] === 1 ? 0 : strides[j]!;
  }
  return out;
}

/** Resolves a possibly negative axis against `ndim`; throws naming `op` when out of range. */
export function normalizeAxis(op: string, axis: number, ndim: number): number {
  const lo = -Math.max(ndim, 1);
  const hi = Math.max(ndim, 1) - 1;
  if (typeof axis !== 'number') {
    throw new ShapeError(`${op}: axis must be an integer in ${lo}..${hi} (got ${fmtValue(axis)})`);
  }
  if (!Number.isInteger(axis) || axis < lo || axis > hi) {
    throw new ShapeError(`${op}: axis ${axis} is out of range for a tensor of ${ndim} dims (valid: ${lo}..${hi})`);
  }
  return axis < 0 ? axis + Math.max(ndim, 1) : axis;
}

/** Resolves an axis list (or all axes for undefined/null) to sorted unique non-negative axes. */
export function normalizeAxes(op: string, axes: number | readonly number[] | null | undefined, ndim: number): number[] {
  if (axes === undefined || axes === null) return Array.from({ length: ndim }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : axes;
  if (!Array.isArray(list)) {
    throw new ShapeError(`${op}: axes must be an integer or a list of integers (got ${fmtValue(axes)})`);
  }
  const out: number[] = [];
  for (const a of list) {
    const n = normalizeAxis(op, a, ndim);
    if (out.includes(n)) throw new ShapeError(`${op}: axis ${a} appears twice in [${list.join(',')}]`);
    out.push(n);
  }
  return out.sort((x, y) => x - y);
}

/** Checks that `shape` is a list of non-negative integers; returns a copy. */
export function checkShape(op: string, shape: unknown): number[] {
  if (!Array.isArray(shape)) throw new ValueError(`${op}: shape must be an array of non-negative integers (got ${fmtValue(shape)})`);
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) {
      throw new ValueError(`${op}: shape must be an array of non-negative integers (got ${fmtValue(shape)})`);
    }
  }
  return shape.slice() as number[];
}

/** Equal shapes. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
