/**
 * Details of the PyTorch-style API beyond the op table: tensor() with a shape, index()
 * errors, nonzero, in-place variants, einsum's equation checks and sort edge cases.
 */
import { describe, expect, it } from 'vitest';
import * as k from '../../../src/index.js';
import { DTypeError, ShapeError, ValueError, jit, tensor, type Tensor } from '../../../src/index.js';

describe('tensor(data, { shape })', () => {
  it('reads flat numbers in row-major order, and checks the count', () => {
    expect(tensor([1, 2, 3, 4], { shape: [2, 2] }).toArray()).toEqual([[1, 2], [3, 4]]);
    expect(tensor([[1, 2], [3, 4]], { shape: [4] }).toArray()).toEqual([1, 2, 3, 4]);
    expect(() => tensor([1, 2, 3], { shape: [2, 2] })).toThrow('tensor: shape [2,2] needs 4 elements, the data has 3 (shape [3])');
  });
});

describe('int64', () => {
  it('is accepted for indices and stored as int32, with an error beyond its range', () => {
    const t = tensor([0, 2, -1], { dtype: 'int64' });
    expect(t.dtype).toBe('int32');
    expect(tensor(BigInt64Array.of(3n, -4n)).toArray()).toEqual([3, -4]);
    expect(k.zeros([2], { dtype: 'int64' }).dtype).toBe('int32');
    expect(() => tensor(BigInt64Array.of(1n, 2n ** 40n))).toThrow('tensor: int64 value 1099511627776 at index 1 does not fit int32, which kiln stores int64 as (valid: -2147483648..2147483647)');
    expect(() => tensor([3e9], { dtype: 'int64' })).toThrow(ValueError);
    expect(() => tensor(Float64Array.of(-3e9), { dtype: 'int64' })).toThrow(ValueError);
  });
});

describe('index', () => {
  const x = k.arange(24).reshape([2, 3, 4]);
  it('reports bad entries naming what is valid', () => {
    expect(() => x.index(2)).toThrow('index: index 2 is out of range for dim 0 of size 2 (shape [2,3,4])');
    expect(() => x.index(0, 0, 0, 0)).toThrow(ShapeError);
    expect(() => x.index('1:x')).toThrow("index: cannot read range \"1:x\" (valid: 'start:end:step' with integers, e.g. '1:3', '::2', ':')");
    expect(() => x.index('...', '...')).toThrow(ValueError);
    expect(() => x.index({ step: -1 })).toThrow('index: range steps must be positive integers (got -1); use flip() to reverse');
    expect(() => x.index(tensor([0.5]))).toThrow(DTypeError);
    expect(() => x.index(tensor([true, false]), tensor([true]))).toThrow(ShapeError);
  });
  it('indexing with only ranges is a view of the same storage', () => {
    const v = x.index(':', '1:3', '::2');
    expect(v.storage).toBe(x.storage);
    expect(v.toArray()).toEqual([[[4, 6], [8, 10]], [[16, 18], [20, 22]]]);
  });
  it('nonzero lists positions in row-major order', () => {
    expect(tensor([[0, 1], [2, 0]]).nonzero().toArray()).toEqual([[0, 1], [1, 0]]);
    expect(tensor([0, 0]).nonzero().shape).toEqual([0, 1]);
  });
  it('a bool mask reads values, so under jit it is guarded: a different mask is a different variant', () => {
    const f = jit((a: Tensor, m: Tensor) => a.index(m).sum());
    const a = tensor([1, 2, 3]);
    expect(f(a, tensor([true, false, true])).item()).toBe(4);
    expect(f(a, tensor([false, true, true])).item()).toBe(5);
    expect(f(a, tensor([false, true, true])).item()).toBe(5);
  });
});

describe('in-place variants', () => {
  it('clamp_, pow_, exp_, relu_, maskedFill_ and indexPut_ write into the tensor', () => {
    const t = tensor([-2, 0.5, 3]);
    expect(t.clamp_(-1, 1)).toBe(t);
    expect(t.toArray()).toEqual([-1, 0.5, 1]);
    t.pow_(2);
    expect(t.toArray()).toEqual([1, 0.25, 1]);
    t.neg_().relu_();
    expect(t.toArray()).toEqual([0, 0, 0]);
    t.exp_().maskedFill_(tensor([true, false, false]), 7);
    expect(t.toArray()).toEqual([7, 1, 1]);
    t.indexPut_([tensor([2], { dtype: 'int32' })], 5);
    expect(t.toArray()).toEqual([7, 1, 5]);
    expect(() => tensor([1], { dtype: 'int32' }).sqrt_()).toThrow(DTypeError);
  });
});

describe('einsum', () => {
  it('checks the equation against the operands', () => {
    const a = k.randn([2, 3]);
    expect(() => k.einsum('ij,jk->ik', a)).toThrow("einsum: \"ij,jk->ik\" names 2 operands, got 1");
    expect(() => k.einsum('ijk->i', a)).toThrow('einsum: operand 0 has shape [2,3] but its subscripts ijk name 3 dims');
    expect(() => k.einsum('ii->i', k.randn([2, 2]))).toThrow(ValueError);
    expect(() => k.einsum('ij,jk->ik', a, k.randn([4, 2]))).toThrow('einsum: subscript j is 3 in one operand and 4 in operand 1');
    expect(() => k.einsum('ij->iz', a)).toThrow(ValueError);
  });
  it('without an arrow the output is the letters seen once, in order', () => {
    expect(k.einsum('ji', k.randn([2, 3])).shape).toEqual([3, 2]);
    expect(k.einsum('ij,jk', k.randn([2, 3]), k.randn([3, 4])).shape).toEqual([2, 4]);
  });
});

describe('sort, topk, cumsum edge cases', () => {
  it('sort puts NaN last (first when descending), as PyTorch', () => {
    const x = tensor([NaN, 1, -Infinity, 0]);
    expect(Array.from(x.sort().values.data())).toEqual([-Infinity, 0, 1, NaN]);
    expect(Array.from(x.sort(0, true).values.data())).toEqual([NaN, 1, 0, -Infinity]);
  });
  it('int32 and bool sort; topk checks k', () => {
    expect(tensor([3, 1, 2], { dtype: 'int32' }).sort().values.toArray()).toEqual([1, 2, 3]);
    expect(tensor([true, false]).sort().values.toArray()).toEqual([false, true]);
    expect(() => tensor([1, 2]).topk(3)).toThrow('topk: k must be an integer in 0..2 for dim 0 of [2] (got 3)');
  });
  it('cumsum of int32 wraps like int32 and keeps its dtype; of bool counts as int32', () => {
    expect(tensor([2147483647, 1], { dtype: 'int32' }).cumsum(0).toArray()).toEqual([2147483647, -2147483648]);
    expect(tensor([true, true, false]).cumsum(0).toArray()).toEqual([1, 2, 2]);
  });
});
