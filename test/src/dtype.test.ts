/**
 * Type promotion: the lattice bool < uint8 < int32 < float32 < float64 over tensor dtypes, JS numbers
 * and booleans as weak scalars, canCast for in-place writes, and the result dtype of every
 * kind of op.
 */
import { describe, expect, it } from 'vitest';
import * as k from '../../src/index.js';
import type { DType, Scalar, Tensor } from '../../src/index.js';
import { expectAllClose } from '../helpers.js';

const DTYPES: DType[] = ['bool', 'uint8', 'int32', 'float16', 'float32', 'float64'];
const rank = (d: DType) => DTYPES.indexOf(d);

/** A small tensor of `dtype` whose values every op below accepts. */
const sample = (dtype: DType): Tensor => k.tensor([1, 0, 2], { dtype });

describe('resultType', () => {
  describe('two tensor dtypes: the higher one in the lattice', () => {
    const table: [DType, DType, DType][] = [
      ['bool', 'uint8', 'uint8'], ['uint8', 'uint8', 'uint8'], ['uint8', 'int32', 'int32'], ['uint8', 'float32', 'float32'],
      ['uint8', 'float64', 'float64'],
      ['bool', 'bool', 'bool'], ['bool', 'int32', 'int32'], ['bool', 'float32', 'float32'], ['bool', 'float64', 'float64'],
      ['int32', 'int32', 'int32'], ['int32', 'float32', 'float32'], ['int32', 'float64', 'float64'],
      ['float32', 'float32', 'float32'], ['float32', 'float64', 'float64'], ['float64', 'float64', 'float64'],
      ['bool', 'float16', 'float16'], ['uint8', 'float16', 'float16'], ['int32', 'float16', 'float16'],
      ['float16', 'float16', 'float16'], ['float16', 'float32', 'float32'], ['float16', 'float64', 'float64'],
    ];
    it.each(table)('%s with %s is %s (both orders)', (a, b, want) => {
      expect(k.resultType(a, b)).toBe(want);
      expect(k.resultType(b, a)).toBe(want);
    });
    it('covers every pair', () => {
      for (const a of DTYPES) for (const b of DTYPES) expect(k.resultType(a, b)).toBe(DTYPES[Math.max(rank(a), rank(b))]);
    });
  });

  describe('weak scalars adopt the tensor dtype when it holds their kind', () => {
    // Columns: a JS boolean, an integer number, a non-integer number.
    const table: [DType, DType, DType, DType][] = [
      ['bool', 'bool', 'int32', 'float32'],
      ['uint8', 'uint8', 'uint8', 'float32'],
      ['int32', 'int32', 'int32', 'float32'],
      ['float16', 'float16', 'float16', 'float16'],
      ['float32', 'float32', 'float32', 'float32'],
      ['float64', 'float64', 'float64', 'float64'],
    ];
    it.each(table)('%s with true → %s, 2 → %s, 2.5 → %s', (dt, withBool, withInt, withFloat) => {
      for (const [s, want] of [[true, withBool], [2, withInt], [2.5, withFloat]] as [Scalar, DType][]) {
        expect(k.resultType(dt, s)).toBe(want);
        expect(k.resultType(s, dt)).toBe(want);
      }
    });

    it('the kind of a number is integer or not, whatever its size or sign', () => {
      expect(k.resultType('int32', -0)).toBe('int32');
      expect(k.resultType('int32', -7)).toBe('int32');
      expect(k.resultType('int32', 1e300)).toBe('int32');
      expect(k.resultType('int32', NaN)).toBe('float32');
      expect(k.resultType('int32', Infinity)).toBe('float32');
      expect(k.resultType('bool', false)).toBe('bool');
      // A weak float never widens a strong float.
      expect(k.resultType('float32', 1e300)).toBe('float32');
    });
  });

  it('scalars alone give the default dtype of their highest kind', () => {
    expect(k.resultType(true)).toBe('bool');
    expect(k.resultType(3)).toBe('int32');
    expect(k.resultType(0.5)).toBe('float32');
    expect(k.resultType(true, 3)).toBe('int32');
    expect(k.resultType(3, 0.5, false)).toBe('float32');
  });

  it('several operands', () => {
    expect(k.resultType('int32', 'bool', 2.5)).toBe('float32');
    expect(k.resultType('float64', 'int32', true)).toBe('float64');
    expect(k.resultType('bool', 'bool', 1)).toBe('int32');
    expect(k.resultType('int32', 'float32', 'float64', 1.5)).toBe('float64');
  });

  it('rejects unknown dtype names and an empty operand list', () => {
    expect(() => k.resultType('bfloat16' as DType, 'int32')).toThrow(k.DTypeError);
    expect(() => k.resultType('bfloat16' as DType)).toThrow('resultType: unknown dtype bfloat16 (valid: float16, float32, float64, int32, uint8, bool)');
    expect(() => k.resultType()).toThrow(k.ValueError);
  });
});

describe('canCast (what an in-place op may store)', () => {
  // Rows: from; columns: to (bool, uint8, int32, float16, float32, float64). A category may not go down.
  const table: Record<DType, boolean[]> = {
    bool: [true, true, true, true, true, true],
    uint8: [false, true, true, true, true, true],
    int32: [false, true, true, true, true, true],
    float16: [false, false, false, true, true, true],
    float32: [false, false, false, true, true, true],
    float64: [false, false, false, true, true, true],
  };
  it.each(DTYPES)('from %s', (from) => {
    expect(DTYPES.map((to) => k.canCast(from, to))).toEqual(table[from]);
  });
});

describe('result dtypes of ops', () => {
  const arith = (a: DType, b: DType): DType => {
    const r = k.resultType(a, b);
    return r === 'bool' ? 'int32' : r;
  };
  const toFloat = (d: DType): DType => (d === 'bool' || d === 'uint8' || d === 'int32' ? 'float32' : d);

  const binary: { name: string; f: (a: Tensor | Scalar, b: Tensor | Scalar) => Tensor; rule: (a: DType, b: DType) => DType }[] = [
    { name: 'add', f: k.add, rule: arith },
    { name: 'sub', f: k.sub, rule: arith },
    { name: 'mul', f: k.mul, rule: arith },
    { name: 'maximum', f: k.maximum, rule: arith },
    { name: 'minimum', f: k.minimum, rule: arith },
    { name: 'pow', f: k.pow, rule: arith },
    { name: 'remainder', f: k.remainder, rule: arith },
    { name: 'div', f: k.div, rule: (a, b) => toFloat(k.resultType(a, b)) },
    { name: 'lt', f: k.lt, rule: () => 'bool' },
    { name: 'ge', f: k.ge, rule: () => 'bool' },
    { name: 'eq', f: k.eq, rule: () => 'bool' },
    { name: 'logicalAnd', f: k.logicalAnd, rule: () => 'bool' },
    { name: 'logicalOr', f: k.logicalOr, rule: () => 'bool' },
    { name: 'where', f: (a, b) => k.where(k.tensor([true, false, true]), a, b), rule: (a, b) => k.resultType(a, b) },
  ];

  describe.each(binary)('$name', ({ f, rule }) => {
    it('over every pair of tensor dtypes', () => {
      for (const a of DTYPES) {
        for (const b of DTYPES) expect(f(sample(a), sample(b)).dtype, `${a}, ${b}`).toBe(rule(a, b));
      }
    });
    it('with weak scalars on either side', () => {
      for (const a of DTYPES) {
        for (const s of [true, 2, 2.5] as Scalar[]) {
          const want = rule(a, k.resultType(a, s));
          expect(f(sample(a), s).dtype, `${a}, ${String(s)}`).toBe(want);
          expect(f(s, sample(a)).dtype, `${String(s)}, ${a}`).toBe(want);
        }
      }
    });
  });

  it('a 0-d tensor is a strong operand, unlike a JS number', () => {
    expect(k.add(k.tensor([1, 2]), k.tensor(1, { dtype: 'float64' })).dtype).toBe('float64');
    expect(k.add(k.tensor([1, 2], { dtype: 'int32' }), k.tensor(1)).dtype).toBe('float32');
    expect(k.add(k.tensor([1, 2]), 1).dtype).toBe('float32');
  });

  const unary: { name: string; f: (x: Tensor) => Tensor; rule: (d: DType) => DType }[] = [
    ...(['neg', 'abs', 'sign', 'floor', 'ceil', 'round', 'square', 'relu'] as const).map((name) => ({
      name, f: (x: Tensor) => x[name](), rule: (d: DType): DType => (d === 'bool' ? 'int32' : d),
    })),
    ...(['exp', 'log', 'log1p', 'expm1', 'sqrt', 'rsqrt', 'reciprocal', 'sin', 'cos', 'tan', 'tanh', 'erf', 'sigmoid', 'gelu', 'silu'] as const).map((name) => ({
      name, f: (x: Tensor) => x[name](), rule: toFloat,
    })),
    { name: 'isnan', f: (x) => x.isnan(), rule: () => 'bool' },
    { name: 'logicalNot', f: (x) => x.logicalNot(), rule: () => 'bool' },
    { name: 'clamp with integer bounds', f: (x) => x.clamp(0, 1), rule: (d) => (d === 'bool' ? 'int32' : d) },
    { name: 'clamp with a float bound', f: (x) => x.clamp(0.5), rule: toFloat },
  ];
  it.each(unary)('$name', ({ name, f, rule }) => {
    for (const d of DTYPES) expect(f(sample(d)).dtype, `${name} of ${d}`).toBe(rule(d));
  });

  const reductions: { name: string; f: (x: Tensor) => Tensor; rule: (d: DType) => DType }[] = [
    // PyTorch's int64 for bool and uint8, stored as int32.
    { name: 'sum', f: (x) => x.sum(), rule: (d) => (d === 'bool' || d === 'uint8' ? 'int32' : d) },
    { name: 'prod', f: (x) => x.prod(0), rule: (d) => (d === 'bool' || d === 'uint8' ? 'int32' : d) },
    { name: 'max', f: (x) => x.max(), rule: (d) => d },
    { name: 'min', f: (x) => x.min(0, true), rule: (d) => d },
    { name: 'argmax', f: (x) => x.argmax(), rule: () => 'int32' },
    { name: 'argmin', f: (x) => x.argmin(0), rule: () => 'int32' },
    { name: 'mean', f: (x) => x.mean(), rule: toFloat },
    { name: 'var', f: (x) => x.var(), rule: toFloat },
    { name: 'std', f: (x) => x.std(0), rule: toFloat },
    { name: 'logsumexp', f: (x) => x.logsumexp(), rule: toFloat },
    { name: 'softmax', f: (x) => x.softmax(), rule: toFloat },
    { name: 'logSoftmax', f: (x) => x.logSoftmax(0), rule: toFloat },
    { name: 'any', f: (x) => x.any(), rule: () => 'bool' },
    { name: 'all', f: (x) => x.all(0), rule: () => 'bool' },
  ];
  it.each(reductions)('$name', ({ name, f, rule }) => {
    for (const d of DTYPES) expect(f(sample(d)).dtype, `${name} of ${d}`).toBe(rule(d));
  });

  it('matmul promotes its operands', () => {
    const a = k.tensor([[1, 2]], { dtype: 'int32' });
    expect(k.matmul(a, k.tensor([[1], [2]], { dtype: 'int32' })).dtype).toBe('int32');
    expect(k.matmul(a, k.tensor([[1], [2]])).dtype).toBe('float32');
    expect(k.matmul(k.tensor([[1, 2]]), k.tensor([[1], [2]], { dtype: 'float64' })).dtype).toBe('float64');
  });
});

describe('cast and to', () => {
  it('to any dtype from any dtype', () => {
    for (const from of DTYPES) for (const to of DTYPES) expect(sample(from).cast(to).dtype).toBe(to);
  });

  it('to the same dtype returns the tensor itself', () => {
    const x = sample('int32');
    expect(x.to('int32')).toBe(x);
  });

  it('float to int32 truncates toward zero', () => {
    expectAllClose(k.tensor([2.7, -2.7, 0.5, -0.5, 1e9]).cast('int32'), [2, -2, 0, 0, 1e9], { dtype: 'int32', rtol: 0, atol: 0 });
  });

  it('to bool tests for non-zero (NaN is true, -0 is false)', () => {
    expectAllClose(k.tensor([0, -0, 0.1, NaN, -Infinity]).cast('bool'), [false, false, true, true, true], { dtype: 'bool' });
    expectAllClose(k.tensor([0, -3], { dtype: 'int32' }).to('bool'), [false, true], { dtype: 'bool' });
  });

  it('bool to numbers is 0 and 1', () => {
    for (const to of ['int32', 'float32', 'float64'] as const) expectAllClose(k.tensor([true, false]).cast(to), [1, 0], { dtype: to });
  });

  it('rounds to nearest where the target has fewer bits', () => {
    // 2^24 + 1 has no float32 form; ties go to even (2^24).
    expectAllClose(k.tensor([16777217, 16777219], { dtype: 'int32' }).cast('float32'), [16777216, 16777220], { dtype: 'float32', rtol: 0, atol: 0 });
    expectAllClose(k.tensor([0.1, 1e300], { dtype: 'float64' }).cast('float32'), [Math.fround(0.1), Infinity], { dtype: 'float32', rtol: 0, atol: 0 });
    expectAllClose(k.tensor([0.1]).cast('float64'), [Math.fround(0.1)], { dtype: 'float64', rtol: 0, atol: 0 });
  });
});

describe('creation dtypes', () => {
  it('numbers default to float32 and booleans to bool', () => {
    expect(k.tensor([1, 2]).dtype).toBe('float32');
    expect(k.tensor(3).dtype).toBe('float32');
    expect(k.tensor([true, false]).dtype).toBe('bool');
    expect(k.tensor([]).dtype).toBe('float32');
  });
  it('typed arrays keep their type; a Uint8Array is uint8', () => {
    expect(k.tensor(new Float64Array(2)).dtype).toBe('float64');
    expect(k.tensor(new Int32Array(2)).dtype).toBe('int32');
    expect(k.tensor(new Uint8Array(2)).dtype).toBe('uint8');
    expect(k.tensor(new Float32Array(2), { dtype: 'float64' }).dtype).toBe('float64');
  });
  it('arange is int32 for integer arguments and float32 otherwise', () => {
    expect(k.arange(4).dtype).toBe('int32');
    expect(k.arange(0, 1, 0.25).dtype).toBe('float32');
    expect(k.zeros([2]).dtype).toBe('float32');
    expect(k.full([2], 3).dtype).toBe('float32');
    expect(k.full([2], true).dtype).toBe('bool');
  });
});
