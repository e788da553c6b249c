/** Shape and dtype rules (inferMeta) and view layouts (viewLayout). */
import { describe, expect, it } from 'vitest';
import { inferMeta, viewLayout, type Meta, type ViewLayout } from '../../../compiler/ir/infer.js';
import { contiguousStrides, sizeOf } from '../../../compiler/ir/shape.js';
import type { DType } from '../../../runtime/dtype.js';
import { DTypeError, InternalError, ShapeError } from '../../../runtime/errors.js';
import { rng } from '../../helpers.js';

const m = (shape: number[], dtype: DType = 'float32'): Meta => ({ shape, dtype });

describe('inferMeta', () => {
  it('keeps shape and dtype for elementwise ops, except the ones with a result dtype', () => {
    expect(inferMeta('add', [m([2, 3]), m([2, 3])], {})).toEqual({ shape: [2, 3], dtype: 'float32' });
    expect(inferMeta('lt', [m([4], 'int32'), m([4], 'int32')], {})).toEqual({ shape: [4], dtype: 'bool' });
    expect(inferMeta('isnan', [m([], 'float64')], {})).toEqual({ shape: [], dtype: 'bool' });
    expect(inferMeta('where', [m([2], 'bool'), m([2], 'int32'), m([2], 'int32')], {})).toEqual({ shape: [2], dtype: 'int32' });
    expect(inferMeta('cast', [m([2, 0])], { dtype: 'bool' })).toEqual({ shape: [2, 0], dtype: 'bool' });
  });

  it('names the op and the valid dtypes for an unsupported dtype', () => {
    expect(() => inferMeta('exp', [m([2], 'int32')], {})).toThrow(DTypeError);
    expect(() => inferMeta('exp', [m([2], 'int32')], {})).toThrow('exp: dtype int32 is not supported (valid: float16, float32, float64)');
    expect(() => inferMeta('add', [m([2], 'bool'), m([2], 'bool')], {})).toThrow('add: dtype bool is not supported (valid: float16, float32, float64, int32, uint8)');
    expect(() => inferMeta('where', [m([2], 'int32'), m([2]), m([2])], {})).toThrow('where: dtype int32 is not supported (valid: bool)');
  });

  it('treats unbroadcast or unpromoted elementwise operands as internal errors', () => {
    expect(() => inferMeta('add', [m([2, 3]), m([3])], {})).toThrow(InternalError);
    expect(() => inferMeta('add', [m([2]), m([2], 'float64')], {})).toThrow(/^internal: add: operand dtypes float32 and float64 differ$/);
    expect(() => inferMeta('neg', [m([2]), m([2])], {})).toThrow(InternalError);
  });

  it('drops reduced axes and picks the reduction dtype', () => {
    expect(inferMeta('sum', [m([2, 3, 4])], { axes: [0, 2] })).toEqual({ shape: [3], dtype: 'float32' });
    expect(inferMeta('sum', [m([2, 3], 'bool')], { axes: [1] })).toEqual({ shape: [2], dtype: 'int32' });
    expect(inferMeta('prod', [m([2, 3], 'bool')], { axes: [] })).toEqual({ shape: [2, 3], dtype: 'int32' });
    expect(inferMeta('max', [m([2, 3], 'bool')], { axes: [0, 1] })).toEqual({ shape: [], dtype: 'bool' });
    expect(inferMeta('argmax', [m([2, 3], 'float64')], { axis: 0 })).toEqual({ shape: [3], dtype: 'int32' });
  });

  it('sums over an empty axis but refuses max, min, argmax and argmin there', () => {
    expect(inferMeta('sum', [m([2, 0])], { axes: [1] })).toEqual({ shape: [2], dtype: 'float32' });
    expect(inferMeta('prod', [m([0])], { axes: [0] })).toEqual({ shape: [], dtype: 'float32' });
    expect(() => inferMeta('max', [m([2, 0])], { axes: [1] })).toThrow(ShapeError);
    expect(() => inferMeta('max', [m([2, 0])], { axes: [1] })).toThrow(
      'max: cannot reduce over axis 1 of size 0 in [2,0]: the result would have no value (reduce a non-empty dimension)',
    );
    expect(() => inferMeta('min', [m([0, 3])], { axes: [0, 1] })).toThrow('min: cannot reduce over axis 0 of size 0 in [0,3]');
    expect(() => inferMeta('argmin', [m([0])], { axis: 0 })).toThrow(ShapeError);
    // Reducing a non-empty axis of an empty tensor is fine: the result is empty too.
    expect(inferMeta('max', [m([0, 3])], { axes: [1] })).toEqual({ shape: [0], dtype: 'float32' });
  });

  it('rejects reduction axes outside the operand as internal errors', () => {
    expect(() => inferMeta('sum', [m([2])], { axes: [1] })).toThrow(InternalError);
    expect(() => inferMeta('argmax', [m([2])], { axis: -1 })).toThrow(InternalError);
  });

  it('gathers to the index shape, checking the index dtype and shape', () => {
    expect(inferMeta('gather', [m([3, 4]), m([5, 4], 'int32')], { axis: 0 })).toEqual({ shape: [5, 4], dtype: 'float32' });
    expect(inferMeta('gather', [m([3, 4], 'bool'), m([2, 1], 'int32')], { axis: 1 })).toEqual({ shape: [2, 1], dtype: 'bool' });
    expect(() => inferMeta('gather', [m([3, 4]), m([2, 4], 'float32')], { axis: 0 })).toThrow(DTypeError);
    expect(() => inferMeta('gather', [m([3, 4]), m([2, 4], 'float32')], { axis: 0 })).toThrow('gather: index must be int32 (got float32)');
    expect(() => inferMeta('gather', [m([3, 4]), m([2], 'int32')], { axis: 0 })).toThrow(ShapeError);
    expect(() => inferMeta('gather', [m([3, 4]), m([2], 'int32')], { axis: 0 })).toThrow('gather: index [2] must have as many dims as the input [3,4]');
    expect(() => inferMeta('gather', [m([3, 4]), m([2, 5], 'int32')], { axis: 0 })).toThrow(
      'gather: index [2,5] is larger than the input [3,4] in dim 1 (only dim 0 may differ)',
    );
  });

  it('scatters into the base shape, checking the source and the dtype', () => {
    expect(inferMeta('scatterAdd', [m([3, 4]), m([5, 2], 'int32'), m([5, 2])], { axis: 0 })).toEqual({ shape: [3, 4], dtype: 'float32' });
    expect(() => inferMeta('scatterAdd', [m([3, 4]), m([5, 2], 'int32'), m([5, 3])], { axis: 0 })).toThrow(
      'scatterAdd: index [5,2] and source [5,3] must have the same shape',
    );
    expect(() => inferMeta('scatterAdd', [m([3]), m([2], 'float64'), m([2])], { axis: 0 })).toThrow('scatterAdd: index must be int32 (got float64)');
    // Accumulating bools would store counts above 1 in bool storage.
    expect(() => inferMeta('scatterAdd', [m([3], 'bool'), m([2], 'int32'), m([2], 'bool')], { axis: 0 })).toThrow(DTypeError);
    expect(() => inferMeta('scatterAdd', [m([3], 'bool'), m([2], 'int32'), m([2], 'bool')], { axis: 0 })).toThrow(
      'scatterAdd: dtype bool is not supported (valid: float16, float32, float64, int32, uint8)',
    );
  });

  it('contracts matmul operands with matching batch dims', () => {
    expect(inferMeta('matmul', [m([2, 3, 4]), m([2, 4, 5])], {})).toEqual({ shape: [2, 3, 5], dtype: 'float32' });
    expect(inferMeta('matmul', [m([0, 4], 'int32'), m([4, 0], 'int32')], {})).toEqual({ shape: [0, 0], dtype: 'int32' });
    expect(() => inferMeta('matmul', [m([2, 3], 'bool'), m([3, 2], 'bool')], {})).toThrow('matmul: dtype bool is not supported');
    expect(() => inferMeta('matmul', [m([2, 3]), m([4, 2])], {})).toThrow(InternalError);
    expect(() => inferMeta('matmul', [m([2, 2, 3]), m([3, 3, 2])], {})).toThrow(InternalError);
    expect(() => inferMeta('matmul', [m([3]), m([3])], {})).toThrow(InternalError);
  });

  it('computes the shapes of pad, concat, random and iota', () => {
    expect(inferMeta('pad', [m([2, 3], 'int32')], { before: [1, 0], after: [0, 2], value: 0 })).toEqual({ shape: [3, 5], dtype: 'int32' });
    expect(inferMeta('concat', [m([2, 3]), m([2, 0]), m([2, 1])], { axis: 1 })).toEqual({ shape: [2, 4], dtype: 'float32' });
    expect(() => inferMeta('concat', [m([2]), m([2], 'int32')], { axis: 0 })).toThrow(InternalError);
    expect(inferMeta('random', [], { shape: [2, 0], seed: 1, offset: 0 })).toEqual({ shape: [2, 0], dtype: 'float32' });
    expect(inferMeta('iota', [], { n: 5 })).toEqual({ shape: [5], dtype: 'int32' });
  });
});

describe('viewLayout', () => {
  const base = (shape: number[], offset = 0): ViewLayout => ({ shape, strides: contiguousStrides(shape), offset });

  it('permutes strides', () => {
    expect(viewLayout('permute', base([2, 3, 4], 5), { perm: [2, 0, 1] })).toEqual({ shape: [4, 2, 3], strides: [1, 12, 4], offset: 5 });
  });

  it('expands with stride 0 on new and stretched dims', () => {
    expect(viewLayout('expand', base([3, 1]), { shape: [2, 3, 4] })).toEqual({ shape: [2, 3, 4], strides: [0, 1, 0], offset: 0 });
  });

  it('slices with steps by moving the offset and scaling strides', () => {
    expect(viewLayout('slice', base([4, 5], 1), { starts: [1, 2], steps: [2, 3], sizes: [2, 1] })).toEqual({ shape: [2, 1], strides: [10, 3], offset: 8 });
    // An empty slice does not move the offset past the end of the storage.
    expect(viewLayout('slice', base([4, 5]), { starts: [4, 0], steps: [1, 1], sizes: [0, 5] })?.offset).toBe(0);
  });

  it('reshapes a permuted layout only when its dims still run in order', () => {
    const t = viewLayout('permute', base([2, 3]), { perm: [1, 0] })!;
    expect(viewLayout('reshape', t, { shape: [6] })).toBeNull();
    const v = viewLayout('reshape', t, { shape: [3, 1, 2] })!;
    expect([v.shape, v.strides[0], v.strides[2], v.offset]).toEqual([[3, 1, 2], 1, 3, 0]);
  });
});

/** Buffer positions of a layout's elements in row-major order of its shape. */
function rowMajorPositions(x: ViewLayout): number[] {
  const out: number[] = [];
  const walk = (d: number, p: number): void => {
    if (d === x.shape.length) {
      out.push(p);
      return;
    }
    for (let i = 0; i < x.shape[d]!; i++) walk(d + 1, p + i * x.strides[d]!);
  };
  walk(0, x.offset);
  return out;
}

describe('reshape views (property)', () => {
  const SEED = 11;
  const next = rng(SEED);
  const int = (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1));
  const shuffle = <T>(xs: T[]): T[] => {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = int(0, i);
      [xs[i], xs[j]] = [xs[j]!, xs[i]!];
    }
    return xs;
  };
  const shape = (): number[] => Array.from({ length: int(0, 4) }, () => (next() < 0.05 ? 0 : [1, 1, 2, 3, 4, 6][int(0, 5)]!));
  /** A random shape with `n` elements: n's factors spread over dims, with 1s mixed in. */
  const shapeWith = (n: number): number[] => {
    if (n === 0) return shuffle([0, ...Array.from({ length: int(0, 2) }, () => int(0, 3))]);
    const dims: number[] = [];
    let rest = n;
    for (let f = 2; f <= rest; f++) {
      while (rest % f === 0) {
        rest /= f;
        if (dims.length > 0 && next() < 0.5) dims[int(0, dims.length - 1)]! *= f;
        else dims.push(f);
      }
    }
    for (let i = int(0, 2); i > 0; i--) dims.push(1);
    return shuffle(dims);
  };
  /** A layout of `s` that permutes, steps through, and broadcasts a larger contiguous buffer. */
  const layout = (s: number[]): ViewLayout => {
    const perm = shuffle(s.map((_, d) => d));
    const steps = s.map(() => (next() < 0.3 ? 2 : 1));
    const stored = perm.map((d) => (s[d]! - 1) * steps[d]! + 1 + (next() < 0.2 ? 1 : 0));
    const storedStrides = contiguousStrides(stored);
    const strides = new Array<number>(s.length);
    perm.forEach((d, i) => (strides[d] = next() < 0.15 ? 0 : storedStrides[i]! * steps[d]!));
    return { shape: s, strides, offset: int(0, 3) };
  };

  it('reads the same elements in row-major order as the source, whenever it returns a layout', () => {
    let made = 0;
    for (let trial = 0; trial < 2000; trial++) {
      const src = next() < 0.3 ? { shape: shape(), strides: [] as number[], offset: int(0, 3) } : layout(shape());
      if (src.strides.length !== src.shape.length) src.strides = contiguousStrides(src.shape);
      const target = shapeWith(sizeOf(src.shape));
      const view = viewLayout('reshape', src, { shape: target });
      if (view === null) continue;
      made++;
      const msg = `seed ${SEED} trial ${trial}: reshape ${JSON.stringify(src)} to [${target}] gave ${JSON.stringify(view)}`;
      expect(view.shape, msg).toEqual(target);
      expect(view.strides.length, msg).toBe(target.length);
      expect(rowMajorPositions(view), msg).toEqual(rowMajorPositions(src));
    }
    expect(made).toBeGreaterThan(800);
  });

  it('returns a layout for every contiguous source, with any strides on its size-1 dims', () => {
    for (let trial = 0; trial < 1000; trial++) {
      const s = shape();
      const strides = contiguousStrides(s).map((st, d) => (s[d] === 1 && next() < 0.5 ? int(0, 9) : st));
      const src: ViewLayout = { shape: s, strides, offset: int(0, 5) };
      const target = shapeWith(sizeOf(s));
      const view = viewLayout('reshape', src, { shape: target });
      const msg = `seed ${SEED} trial ${trial}: reshape ${JSON.stringify(src)} to [${target}]`;
      expect(view, msg).not.toBeNull();
      expect(rowMajorPositions(view!), msg).toEqual(rowMajorPositions(src));
    }
  });
});
