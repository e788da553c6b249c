/**
 * Plain-JS n-d arrays (row-major values + shape) for reference computations. Tests move these
 * alongside kiln's views (permute, slice, expand) so expected values never come from kiln.
 */

/** Row-major values with a shape; values are float64 numbers. */
export interface RefArray {
  shape: number[];
  values: number[];
}

export function sizeOfShape(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** The multi-index of flat position `flat` in `shape`. */
export function unravel(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    idx[i] = flat % shape[i]!;
    flat = Math.floor(flat / shape[i]!);
  }
  return idx;
}

/** The element of `a` at multi-index `idx`. */
export function at(a: RefArray, idx: readonly number[]): number {
  const s = stridesOf(a.shape);
  let p = 0;
  for (let i = 0; i < idx.length; i++) p += idx[i]! * s[i]!;
  return a.values[p]!;
}

/** Builds an array of `shape` from a function of the multi-index. */
export function build(shape: readonly number[], f: (idx: number[]) => number): RefArray {
  const n = sizeOfShape(shape);
  const values = new Array<number>(n);
  for (let i = 0; i < n; i++) values[i] = f(unravel(i, shape));
  return { shape: shape.slice(), values };
}

/** NumPy broadcasting of several shapes (the tests only build compatible ones). */
export function broadcastShape(shapes: readonly (readonly number[])[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    s.forEach((d, i) => {
      const j = rank - s.length + i;
      if (d !== 1) out[j] = d;
    });
  }
  return out;
}

/** The element of `a` seen through broadcasting at index `idx` of a larger shape. */
export function atBroadcast(a: RefArray, idx: readonly number[]): number {
  const lead = idx.length - a.shape.length;
  return at(a, a.shape.map((d, i) => (d === 1 ? 0 : idx[lead + i]!)));
}

/** Elementwise `f` over broadcast operands. */
export function mapBroadcast(operands: readonly RefArray[], f: (...x: number[]) => number): RefArray {
  const shape = broadcastShape(operands.map((o) => o.shape));
  return build(shape, (idx) => f(...operands.map((o) => atBroadcast(o, idx))));
}

export function permuteRef(a: RefArray, perm: readonly number[]): RefArray {
  const shape = perm.map((p) => a.shape[p]!);
  return build(shape, (idx) => {
    const src = new Array<number>(perm.length);
    perm.forEach((p, i) => (src[p] = idx[i]!));
    return at(a, src);
  });
}

/** Elements start, start+step, … below end along `axis` (non-negative in-range bounds). */
export function sliceRef(a: RefArray, axis: number, start: number, end: number, step: number): RefArray {
  const shape = a.shape.slice();
  shape[axis] = Math.max(0, Math.ceil((end - start) / step));
  return build(shape, (idx) => at(a, idx.map((v, i) => (i === axis ? start + v * step : v))));
}

export function expandRef(a: RefArray, shape: readonly number[]): RefArray {
  return build(shape, (idx) => atBroadcast(a, idx));
}
