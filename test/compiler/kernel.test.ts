/** Kernel specs: dim collapsing, cache keys, and the JavaScript rendered for them. */
import { describe, expect, it } from 'vitest';
import { cpuSource } from '../../compiler/execute.js';
import { collapseDims, layoutKey } from '../../compiler/kernel.js';
import { lowerElementwise, lowerReduce, type Layout } from '../../compiler/lower.js';

describe('collapseDims', () => {
  it('merges a contiguous run of any rank into one dim', () => {
    expect(collapseDims([2, 3, 4], [[12, 4, 1], [12, 4, 1]])).toEqual({ shape: [24], strides: [[1], [1]] });
  });

  it('merges dims that every arg walks as one run, even with a step', () => {
    // Every other element of a [2,6] buffer: stride 2 along a run of 6.
    expect(collapseDims([2, 3], [[3, 1], [6, 2]])).toEqual({ shape: [6], strides: [[1], [2]] });
  });

  it('keeps dims apart when one arg has a gap or a different order', () => {
    expect(collapseDims([2, 3], [[3, 1], [4, 1]])).toEqual({ shape: [2, 3], strides: [[3, 1], [4, 1]] });
    expect(collapseDims([2, 3], [[3, 1], [1, 2]])).toEqual({ shape: [2, 3], strides: [[3, 1], [1, 2]] });
  });

  it('drops size-1 dims whatever their strides', () => {
    expect(collapseDims([2, 1, 3], [[3, 99, 1], [3, 0, 1]])).toEqual({ shape: [6], strides: [[1], [1]] });
    expect(collapseDims([1, 4, 1], [[7, 1, 5]])).toEqual({ shape: [4], strides: [[1]] });
  });

  it('keeps a broadcast dim separate from the dims it does not repeat along', () => {
    expect(collapseDims([2, 3], [[3, 1], [0, 1]])).toEqual({ shape: [2, 3], strides: [[3, 1], [0, 1]] });
    expect(collapseDims([2, 3], [[3, 1], [1, 0]])).toEqual({ shape: [2, 3], strides: [[3, 1], [1, 0]] });
    // Neighbouring broadcast dims are one broadcast run.
    expect(collapseDims([2, 3, 4], [[12, 4, 1], [0, 0, 1]])).toEqual({ shape: [6, 4], strides: [[4, 1], [0, 1]] });
  });

  it('returns one dim of size 1 for a scalar or an all-ones shape', () => {
    expect(collapseDims([], [[], []])).toEqual({ shape: [1], strides: [[0], [0]] });
    expect(collapseDims([1, 1], [[1, 1]])).toEqual({ shape: [1], strides: [[0]] });
  });

  it('keeps a size-0 dim, so the loop runs zero times', () => {
    expect(collapseDims([3, 0], [[1, 1]]).shape).toContain(0);
  });
});

describe('layoutKey', () => {
  it('is equal for equal layouts', () => {
    expect(layoutKey([2, 3], [[3, 1], [0, 1]])).toBe(layoutKey([2, 3], [[3, 1], [0, 1]]));
  });

  it('tells apart layouts that differ in sizes, strides, or arg count', () => {
    const layouts: [number[], number[][]][] = [
      [[2, 3], [[3, 1]]],
      [[3, 2], [[3, 1]]],
      [[23], [[1]]],
      [[2, 3], [[1, 2]]],
      [[2, 3], [[3, 1], [3, 1]]],
      [[2, 3], [[3, 1], [0, 1]]],
      [[2, 3], [[3, 1], [1, 0]]],
      [[12, 3], [[3, 1]]],
      [[1, 23], [[3, 1]]],
      [[2], [[31]]],
      [[2], [[3], [1]]],
      [[6], [[1]]],
      [[6], [[1], [1]]],
    ];
    const keys = new Set(layouts.map(([shape, strides]) => layoutKey(shape, strides)));
    expect(keys.size).toBe(layouts.length);
  });
});

describe('generated JavaScript', () => {
  const f32 = (shape: number[], strides: number[], offset = 0): Layout => ({ dtype: 'float32', shape, strides, offset });

  it('adds contiguous float32 tensors in one flat loop', () => {
    const x = f32([2, 3], [3, 1]);
    expect(cpuSource(lowerElementwise('add', [x, x], x))).toMatchInlineSnapshot(`
      "'use strict';
      return function map(b0, b1, b2, o0, o1, o2) {
        for (let pi0 = 0, p0_0 = o0, p0_1 = o1, p0_2 = o2; pi0 < 6; pi0++, p0_0 += 1, p0_1 += 1, p0_2 += 1) {
          const v0 = b1[p0_1];
          const v1 = b2[p0_2];
          const v2 = Math.fround(v0 + v1);
          b0[p0_0] = v2;
        }
      };"
    `);
  });

  it('adds a row broadcast along dim 0 with a stride-0 operand', () => {
    expect(cpuSource(lowerElementwise('add', [f32([2, 3], [3, 1]), f32([2, 3], [0, 1])], f32([2, 3], [3, 1])))).toMatchInlineSnapshot(`
      "'use strict';
      return function map(b0, b1, b2, o0, o1, o2) {
        for (let pi0 = 0, p0_0 = o0, p0_1 = o1; pi0 < 2; pi0++, p0_0 += 3, p0_1 += 3) {
          for (let pi1 = 0, p1_0 = p0_0, p1_1 = p0_1, p1_2 = o2; pi1 < 3; pi1++, p1_0 += 1, p1_1 += 1, p1_2 += 1) {
            const v0 = b1[p1_1];
            const v1 = b2[p1_2];
            const v2 = Math.fround(v0 + v1);
            b0[p1_0] = v2;
          }
        }
      };"
    `);
  });

  it('sums over the last axis with a float64 accumulator rounded once', () => {
    expect(cpuSource(lowerReduce('sum', f32([2, 3], [3, 1]), [1], f32([2], [1])))).toMatchInlineSnapshot(`
      "'use strict';
      return function reduce(b0, b1, o0, o1) {
        for (let pi0 = 0, p0_0 = o0, p0_1 = o1; pi0 < 2; pi0++, p0_0 += 1, p0_1 += 3) {
          let acc = 0;
          for (let qi0 = 0, q0_1 = p0_1; qi0 < 3; qi0++, q0_1 += 1) {
            const v0 = b1[q0_1];
            const v = v0;
            acc += v;
          }
          b0[p0_0] = Math.fround(acc);
        }
      };"
    `);
  });
});
