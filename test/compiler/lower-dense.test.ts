/**
 * The cached lowering of common elementwise layouts names the same kernel as lowering the
 * layout itself, and layouts it does not cover are lowered as before.
 */
import { describe, expect, it } from 'vitest';
import type { DType } from '../../runtime/dtype.js';
import { lowerElementwiseCached } from '../../compiler/lower-dense.js';
import { lowerElementwise, type Layout } from '../../compiler/lower.js';
import { contiguousStrides, sizeOf } from '../../compiler/ir/shape.js';

const layout = (shape: number[], strides = contiguousStrides(shape), dtype: DType = 'float32', offset = 0): Layout => (
  { dtype, shape, strides, offset }
);

describe('lowerElementwiseCached', () => {
  const cases: [string, 'add' | 'where' | 'cast' | 'neg', Layout[], Layout][] = [
    ['contiguous [2,8]', 'add', [layout([2, 8]), layout([2, 8], [8, 1], 'float32', 5)], layout([2, 8])],
    ['contiguous [16] (same run as [2,8])', 'add', [layout([16]), layout([16])], layout([16])],
    ['a broadcast scalar', 'add', [layout([4, 4]), layout([4, 4], [0, 0])], layout([4, 4])],
    ['size-1 dims with any stride', 'add', [layout([3, 1, 2], [2, 7, 1]), layout([3, 1, 2], [0, 9, 0])],
      layout([3, 1, 2])],
    ['one element', 'neg', [layout([1, 1], [5, 3])], layout([1, 1])],
    ['where with a bool condition', 'where', [layout([6], [1], 'bool'), layout([6], [0]), layout([6])], layout([6])],
    ['a cast', 'cast', [layout([5], [1], 'int32')], layout([5], [1], 'float64')],
    ['a transposed operand (not covered)', 'add', [layout([2, 3], [1, 2]), layout([2, 3])], layout([2, 3])],
    ['a strided output (not covered)', 'add', [layout([3]), layout([3])], layout([3], [2])],
    ['a row broadcast (not covered)', 'add', [layout([2, 3], [0, 1]), layout([2, 3])], layout([2, 3])],
  ];
  it.each(cases)('%s: the key lowerElementwise gives', (_, prim, inputs, out) => {
    const want = lowerElementwise(prim, inputs, out);
    const got = lowerElementwiseCached(prim, inputs, out, sizeOf(out.shape));
    expect(got.key).toBe(want.key);
    expect(got.build()).toEqual(want.build());
    // A second call finds the same lowering.
    expect(lowerElementwiseCached(prim, inputs, out, sizeOf(out.shape)).key).toBe(want.key);
  });

  it('dtypes and broadcast operands are told apart', () => {
    const out = layout([8]), f64 = layout([8], [1], 'float64');
    const keys = new Set([
      lowerElementwiseCached('add', [layout([8]), layout([8])], out, 8).key,
      lowerElementwiseCached('add', [layout([8]), layout([8], [0])], out, 8).key,
      lowerElementwiseCached('add', [layout([8], [0]), layout([8])], out, 8).key,
      lowerElementwiseCached('add', [f64, f64], f64, 8).key,
      lowerElementwiseCached('mul', [layout([8]), layout([8])], out, 8).key,
      lowerElementwiseCached('add', [layout([9]), layout([9])], layout([9]), 9).key,
    ]);
    expect(keys.size).toBe(6);
  });
});
