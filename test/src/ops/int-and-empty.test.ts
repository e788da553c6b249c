/** int32 arithmetic that must wrap the same way whichever op computes it, and in-place ops on empty tensors. */
import { describe, expect, it } from 'vitest';
import { tensor, zeros } from '../../../src/index.js';
import { expectAllClose } from '../../helpers.js';

describe('int32 matmul', () => {
  it('wraps like int32 mul then sum', () => {
    const a = tensor([[2147483647, 3]], { dtype: 'int32' });
    const b = tensor([[-(2 ** 31)], [1]], { dtype: 'int32' });
    const viaSum = a.mul(b.reshape([2])).sum(1).reshape([1, 1]);
    expectAllClose(a.matmul(b), viaSum.data(), { rtol: 0, atol: 0, dtype: 'int32' });
    expectAllClose(a.matmul(b), [[-2147483645]], { rtol: 0, atol: 0, dtype: 'int32' });
  });

  it('wraps in every block of a larger product', () => {
    const n = 6;
    const a = tensor(Int32Array.from({ length: n * n }, (_, i) => (i * 0x2f3a1b9 + 12345) | 0), { shape: [n, n] });
    const b = tensor(Int32Array.from({ length: n * n }, (_, i) => (i * 0x7ff1231 - 99) | 0), { shape: [n, n] });
    const want = a.reshape([n, n, 1]).mul(b.reshape([1, n, n])).sum(1);
    expectAllClose(a.matmul(b), want.data(), { rtol: 0, atol: 0, dtype: 'int32' });
  });
});

describe('gelu of an integer tensor', () => {
  it('is computed in float32, as exp is: the tanh form does not wrap x³', () => {
    const x = tensor([46341, -2, 0], { dtype: 'int32' });
    for (const approximate of ['none', 'tanh'] as const) {
      const y = x.gelu(approximate);
      expect(y.dtype).toBe('float32');
      expectAllClose(y, x.cast('float32').gelu(approximate).data(), { rtol: 0, atol: 0 });
      expect(y.data()[0]).toBe(46341);
    }
  });
});

describe('in-place ops on tensors without elements', () => {
  it('add_, mul_ and fill_ of a [2, 0] tensor do nothing and do not complain about stride 0', () => {
    for (const shape of [[2, 0], [0, 3], [3, 0, 2]]) {
      const t = zeros(shape);
      t.add_(1);
      t.mul_(2);
      t.fill_(5);
      expect(t.shape).toEqual(shape);
      expect(t.size).toBe(0);
    }
  });

  it('an expanded view with elements is still refused', () => {
    expect(() => zeros([1, 3]).expand([2, 3]).add_(1)).toThrow(/stride 0 \(an expanded view\)/);
  });
});
