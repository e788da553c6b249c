/** Shape helpers: sizes, strides, broadcasting and axis normalization, with their messages. */
import { describe, expect, it } from 'vitest';
import {
  broadcastShapes, broadcastStrides, checkShape, contiguousStrides, isContiguous, normalizeAxes, normalizeAxis, sameShape, sizeOf,
} from '../../../compiler/ir/shape.js';
import { ShapeError, ValueError } from '../../../runtime/errors.js';
import { rng } from '../../helpers.js';

describe('sizes and strides', () => {
  it('counts elements', () => {
    expect(sizeOf([])).toBe(1);
    expect(sizeOf([2, 3, 4])).toBe(24);
    expect(sizeOf([2, 0, 4])).toBe(0);
  });

  it('gives row-major strides', () => {
    expect(contiguousStrides([])).toEqual([]);
    expect(contiguousStrides([5])).toEqual([1]);
    expect(contiguousStrides([2, 3, 4])).toEqual([12, 4, 1]);
    expect(contiguousStrides([2, 1, 4])).toEqual([4, 4, 1]);
  });

  it('recognizes contiguous layouts, whatever the strides of size-1 dims', () => {
    expect(isContiguous([], [])).toBe(true);
    expect(isContiguous([2, 3, 4], [12, 4, 1])).toBe(true);
    expect(isContiguous([2, 1, 4], [4, 77, 1])).toBe(true);
    expect(isContiguous([1, 1], [0, 0])).toBe(true);
  });

  it('rejects permuted, stepped, padded and broadcast layouts', () => {
    expect(isContiguous([3, 2], [1, 3])).toBe(false);
    expect(isContiguous([2, 3], [6, 2])).toBe(false);
    expect(isContiguous([2, 3], [4, 1])).toBe(false);
    expect(isContiguous([2, 3], [0, 1])).toBe(false);
  });

  it('checks shapes and compares them', () => {
    expect(checkShape('zeros', [2, 0, 3])).toEqual([2, 0, 3]);
    expect(() => checkShape('zeros', [2, -1])).toThrow(new ValueError('zeros: shape must be an array of non-negative integers (got [2,-1])'));
    expect(() => checkShape('zeros', [1.5])).toThrow(ValueError);
    expect(() => checkShape('zeros', 3)).toThrow(ValueError);
    expect(sameShape([2, 3], [2, 3])).toBe(true);
    expect(sameShape([2, 3], [3, 2])).toBe(false);
    expect(sameShape([2], [2, 1])).toBe(false);
  });
});

describe('broadcastShapes', () => {
  it('follows NumPy: align right, stretch 1s', () => {
    expect(broadcastShapes('add', [2, 3], [3])).toEqual([2, 3]);
    expect(broadcastShapes('add', [2, 1], [1, 3])).toEqual([2, 3]);
    expect(broadcastShapes('add', [], [4, 5])).toEqual([4, 5]);
    expect(broadcastShapes('add', [4, 1, 1], [2, 1])).toEqual([4, 2, 1]);
    expect(broadcastShapes('add', [0], [1])).toEqual([0]);
    expect(broadcastShapes('add', [3, 1], [0])).toEqual([3, 0]);
  });

  it('returns a fresh array even for equal shapes', () => {
    const a = [2, 3];
    const out = broadcastShapes('add', a, [2, 3]);
    expect(out).toEqual(a);
    expect(out).not.toBe(a);
  });

  it('names the op and both shapes when they do not broadcast', () => {
    expect(() => broadcastShapes('add', [2, 3], [4])).toThrow(ShapeError);
    expect(() => broadcastShapes('add', [2, 3], [4])).toThrow('add: cannot broadcast [2,3] with [4]');
    expect(() => broadcastShapes('mul', [0], [2])).toThrow('mul: cannot broadcast [0] with [2]');
    expect(() => broadcastShapes('where', [2, 1, 3], [5, 2])).toThrow('where: cannot broadcast [2,1,3] with [5,2]');
  });

  it('is symmetric, and each operand read through broadcastStrides covers the result (property)', () => {
    const next = rng(7);
    const dim = () => [0, 1, 1, 2, 3][Math.floor(next() * 5)]!;
    for (let trial = 0; trial < 300; trial++) {
      const out = Array.from({ length: Math.floor(next() * 5) }, dim);
      // Operands that broadcast to `out` by construction: drop leading dims, set some to 1.
      const operand = () => out.slice(Math.floor(next() * (out.length + 1))).map((d) => (next() < 0.4 ? 1 : d));
      const a = operand(), b = operand();
      const msg = `seed 7 trial ${trial}: ${JSON.stringify([a, b])}`;
      const ab = broadcastShapes('add', a, b);
      expect(broadcastShapes('add', b, a), msg).toEqual(ab);
      const target = broadcastShapes('add', ab, out);
      expect(target, msg).toEqual(out);
      const strides = broadcastStrides(a, contiguousStrides(a), out);
      expect(strides.length, msg).toBe(out.length);
      const lead = out.length - a.length;
      strides.forEach((s, d) => {
        if (d < lead || a[d - lead] === 1) expect(s, msg).toBe(0);
        else expect(s, msg).toBe(contiguousStrides(a)[d - lead]);
      });
    }
  });
});

describe('normalizeAxis and normalizeAxes', () => {
  it('resolves negative axes', () => {
    expect(normalizeAxis('sum', -1, 3)).toBe(2);
    expect(normalizeAxis('sum', -3, 3)).toBe(0);
    expect(normalizeAxis('sum', 2, 3)).toBe(2);
  });

  it('lets a scalar take axis 0 or -1, as PyTorch does', () => {
    expect(normalizeAxis('sum', 0, 0)).toBe(0);
    expect(normalizeAxis('sum', -1, 0)).toBe(0);
    expect(() => normalizeAxis('sum', 1, 0)).toThrow('sum: axis 1 is out of range for a tensor of 0 dims (valid: -1..0)');
  });

  it('names the op, the axis and the valid range when out of range', () => {
    expect(() => normalizeAxis('sum', 3, 3)).toThrow(ShapeError);
    expect(() => normalizeAxis('sum', 3, 3)).toThrow('sum: axis 3 is out of range for a tensor of 3 dims (valid: -3..2)');
    expect(() => normalizeAxis('softmax', -4, 3)).toThrow('softmax: axis -4 is out of range for a tensor of 3 dims (valid: -3..2)');
    expect(() => normalizeAxis('sum', 1.5, 3)).toThrow('sum: axis 1.5 is out of range');
    expect(() => normalizeAxis('sum', NaN, 3)).toThrow(ShapeError);
  });

  it('resolves lists to sorted unique axes, and all axes for none', () => {
    expect(normalizeAxes('sum', undefined, 3)).toEqual([0, 1, 2]);
    expect(normalizeAxes('sum', null, 0)).toEqual([]);
    expect(normalizeAxes('sum', -1, 3)).toEqual([2]);
    expect(normalizeAxes('sum', [2, -3], 3)).toEqual([0, 2]);
    expect(normalizeAxes('sum', [], 3)).toEqual([]);
  });

  it('rejects an axis named twice, also when spelled differently', () => {
    expect(() => normalizeAxes('sum', [1, 1], 3)).toThrow('sum: axis 1 appears twice in [1,1]');
    expect(() => normalizeAxes('max', [1, -2], 3)).toThrow(ShapeError);
    expect(() => normalizeAxes('max', [1, -2], 3)).toThrow('max: axis -2 appears twice in [1,-2]');
    expect(() => normalizeAxes('sum', [0, 5], 3)).toThrow('sum: axis 5 is out of range for a tensor of 3 dims (valid: -3..2)');
  });
});
