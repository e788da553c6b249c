/** The fuzzer's own parts: the comparisons it judges by, and the shrinker it reports through. */
import { describe, expect, it } from 'vitest';
import { matmul, tensor } from '../../src/index.js';
import { compareBitwise, compareToRef, readCpu } from './check.js';
import { generate } from './generate.js';
import type { RefValue } from './op-record.js';
import { opNamed } from './ops.js';
import type { Program } from './program.js';
import type { Failure } from './runners.js';
import { shrink, signature } from './shrink.js';

const f32 = (values: number[], bound?: number[]): RefValue => ({ shape: [values.length], dtype: 'float32', values, bound });

describe('comparisons', () => {
  it('an exact op must be the float64 result rounded once, -0 included', () => {
    const third = Math.fround(1 / 3);
    expect(compareToRef(f32([third]), f32([1 / 3]), 'exact', 'cpu')).toBeUndefined();
    const next = third + 2 ** -25;
    expect(compareToRef(f32([Math.fround(next)]), f32([1 / 3]), 'exact', 'cpu')).toMatch(/^element 0/);
    expect(compareToRef(f32([0]), f32([-0]), 'exact', 'cpu')).toBe('element 0: kiln 0, reference -0');
    expect(compareToRef(f32([NaN]), f32([NaN]), 'exact', 'cpu')).toBeUndefined();
    expect(compareToRef(f32([Infinity]), f32([NaN]), 'math', 'cpu')).toMatch(/^element 0/);
  });

  it('an accumulating op may differ by its bound, and overflow only where its magnitudes do', () => {
    expect(compareToRef(f32([1.0001]), f32([1], [2e-4]), 'accumulate', 'cpu')).toBeUndefined();
    expect(compareToRef(f32([1.001]), f32([1], [2e-4]), 'accumulate', 'cpu')).toMatch(/±2\.00e-4/);
    expect(compareToRef(f32([Infinity]), f32([1], [1e-3]), 'accumulate', 'cpu')).toMatch(/^element 0/);
    expect(compareToRef(f32([Infinity]), f32([3e38], [1e33]), 'accumulate', 'cpu')).toBeUndefined();
  });

  it('dtypes and shapes must match before values', () => {
    expect(compareToRef({ shape: [1], dtype: 'int32', values: [1] }, f32([1]), 'exact', 'cpu')).toBe('dtype int32, reference float32');
    expect(compareBitwise(f32([1, 2]), { ...f32([1, 2]), shape: [2, 1] }, ['jit', 'eager'])).toBe('shape: jit [2], eager [2,1]');
    expect(compareBitwise(f32([-0]), f32([0]), ['jit', 'eager'])).toBe('element 0 (sign of zero): jit -0, eager 0');
    expect(compareBitwise(f32([1, NaN]), f32([1, NaN]), ['jit', 'eager'])).toBeUndefined();
  });
});

describe('references', () => {
  it('matmul accumulates as the active engine does: an overflowing float32 product meets an infinite one', () => {
    // float64 sums give Infinity; float32 sums on the Wasm kernel give Inf + (-Inf) = NaN.
    const a = tensor(Float64Array.from([-2, 3e38, 1, 1]), { shape: [4], dtype: 'float32' });
    const b = tensor(Float64Array.from([-Infinity, -1.8, -1.2, 1e-30, 0.3, 1.1, -2.3, 1.3]), { shape: [4, 2], dtype: 'float32' });
    const ref = opNamed('matmul').ref([readCpu(a), readCpu(b)], {});
    expect(compareToRef(readCpu(matmul(a, b)), ref, 'accumulate', 'cpu')).toBeUndefined();
  });
});

describe('shrinking', () => {
  it('keeps the failure while dropping what it does not need', async () => {
    // A planted failure: any program that still takes an exp.
    const fails = async (q: Program): Promise<Failure | undefined> =>
      q.stmts.some((s) => s.op === 'exp') ? { check: 'eager-vs-reference', detail: 'statement 3 (exp): planted' } : undefined;
    let seed = 0, p: Program;
    do p = generate(++seed, 'values', 12); while (!p.stmts.some((s) => s.op === 'exp') || p.stmts.length < 6);
    const first = (await fails(p))!;
    const { program } = await shrink(p, first, fails);
    expect(program.stmts.map((s) => s.op)).toEqual(['exp']);
    expect(program.inputs.length).toBe(1);
    expect(signature(first)).toBe('eager-vs-reference: statement # (exp): planted');
  });
});
