import { describe, expect, it } from 'vitest';
import {
  DTypeError, ValueError, Tensor, tensor, zeros, ones, full, fullLike, zerosLike, onesLike, arange, linspace, eye,
  rand, randn, randint, manualSeed,
} from '../../../src/index.js';
import { expectAllClose, uniform } from '../../helpers.js';
import { seeded } from '../multi-index.js';

const exact = { rtol: 0, atol: 0 };
const values = (t: Tensor): number[] => Array.from(t.data(), Number);

describe('tensor()', () => {
  it('makes 0-d tensors from a number or a boolean', () => {
    expectAllClose(tensor(3.5), 3.5, { ...exact, shape: [], dtype: 'float32' });
    expectAllClose(tensor(true), 1, { ...exact, shape: [], dtype: 'bool' });
    expectAllClose(tensor(-7, { dtype: 'int32' }), -7, { ...exact, shape: [], dtype: 'int32' });
  });

  it('reads nested arrays of any depth, including empty ones', () => seeded((next) => {
    const a = uniform(next, 24, -100, 100);
    const nested = [0, 1].map((i) => [0, 1, 2].map((j) => [0, 1, 2, 3].map((k) => a[i * 12 + j * 4 + k]!)));
    const t = tensor(nested);
    expect(t.shape).toEqual([2, 3, 4]);
    expectAllClose(t, a.map(Math.fround), { ...exact, shape: [2, 3, 4], dtype: 'float32' });
    expectAllClose(tensor([]), [], { shape: [0], dtype: 'float32' });
    expect(tensor([[], []]).shape).toEqual([2, 0]);
    expect(tensor([[[1], [2]]]).shape).toEqual([1, 2, 1]);
  }));

  it('infers dtypes: numbers float32, all-boolean bool, mixed float32; dtype overrides', () => {
    expect(tensor([1, 2]).dtype).toBe('float32');
    expectAllClose(tensor([[true, false], [false, true]]), [[1, 0], [0, 1]], { ...exact, dtype: 'bool' });
    expectAllClose(tensor([true, 2]), [1, 2], { ...exact, dtype: 'float32' });
    // Float to int truncates toward zero, like a C cast.
    expectAllClose(tensor([1.7, -1.7, 2.5, -0.5], { dtype: 'int32' }), [1, -1, 2, 0], { ...exact, dtype: 'int32' });
    expectAllClose(tensor([0, 0.25, -3, NaN], { dtype: 'bool' }), [0, 1, 1, 1], { ...exact, dtype: 'bool' });
    expect(tensor([0.1], { dtype: 'float64' }).data()[0]).toBe(0.1);
    expect(tensor([0.1]).data()[0]).toBe(Math.fround(0.1));
    expect(() => tensor([1], { dtype: 'int16' as never })).toThrow(/tensor: unknown dtype int16/);
  });

  it('takes typed arrays with their dtype and an optional shape, copying the data', () => seeded((next) => {
    const f = Float32Array.from(uniform(next, 6));
    const t = tensor(f, { shape: [2, 3] });
    expectAllClose(t, Array.from(f), { ...exact, shape: [2, 3], dtype: 'float32' });
    f[0] = 1234;
    expect(t.data()[0]).not.toBe(1234);
    expect(t.storage.buffer).not.toBe(f);
    expectAllClose(tensor(Float64Array.from([0.1, 0.2])), [0.1, 0.2], { ...exact, dtype: 'float64' });
    expectAllClose(tensor(Int32Array.from([5, -6, 7, 8]), { shape: [2, 1, 2] }), [5, -6, 7, 8], { ...exact, shape: [2, 1, 2], dtype: 'int32' });
    expectAllClose(tensor(Uint8Array.from([0, 200, 3])), [0, 200, 3], { ...exact, dtype: 'uint8' });
    expectAllClose(tensor(Int32Array.from([1, 0]), { dtype: 'float64' }), [1, 0], { ...exact, dtype: 'float64' });
    expect(() => tensor(new Float32Array(6), { shape: [4, 2] })).toThrow(/tensor: shape \[4,2\] needs 8 elements, the array has 6/);
    expect(() => tensor(new Int16Array(2) as unknown as Int32Array)).toThrow(DTypeError);
    // Without a shape a typed array is 1-D, even when empty.
    expect(tensor(new Float32Array(0)).shape).toEqual([0]);
  }));

  it('rejects ragged arrays and non-numeric elements, saying where', () => {
    expect(() => tensor([[1, 2], [3]])).toThrow(ValueError);
    expect(() => tensor([[1, 2], [3]])).toThrow(/ragged nested array: expected 2 elements at \[1\]/);
    expect(() => tensor([[1, 2], 3] as never)).toThrow(/ragged.*got a scalar/);
    expect(() => tensor([[1], [[2]]] as never)).toThrow(ValueError);
    expect(() => tensor([1, 'a'] as never)).toThrow(/elements must be numbers or booleans \(got string at \[1\]\)/);
  });
});

describe('filled tensors', () => {
  it('zeros, ones and full: shapes and default dtypes', () => {
    expectAllClose(zeros([2, 3]), new Array<number>(6).fill(0), { ...exact, shape: [2, 3], dtype: 'float32' });
    expectAllClose(ones([3]), [1, 1, 1], { ...exact, dtype: 'float32' });
    expectAllClose(zeros([]), 0, { ...exact, shape: [], dtype: 'float32' });
    expectAllClose(zeros([2, 0]), [], { shape: [2, 0] });
    expectAllClose(full([2, 2], 2.5), [[2.5, 2.5], [2.5, 2.5]], { ...exact, dtype: 'float32' });
    expectAllClose(full([2], 3), [3, 3], { ...exact, dtype: 'float32' });
    expectAllClose(full([2], true), [1, 1], { ...exact, dtype: 'bool' });
    expectAllClose(full([2], false), [0, 0], { ...exact, dtype: 'bool' });
    expectAllClose(full([3], -4, { dtype: 'int32' }), [-4, -4, -4], { ...exact, dtype: 'int32' });
    expectAllClose(full([1], 0.1, { dtype: 'float64' }), [0.1], { ...exact, dtype: 'float64' });
    expectAllClose(ones([2], { dtype: 'bool' }), [1, 1], { ...exact, dtype: 'bool' });
    expectAllClose(zeros([2], { dtype: 'int32' }), [0, 0], { ...exact, dtype: 'int32' });
    expect(() => zeros([2, -1])).toThrow(/zeros|full/);
    expect(() => full([1.5], 1)).toThrow(ValueError);
    expect(() => ones(3 as never)).toThrow(ValueError);
  });

  it('the *Like functions copy shape and dtype (of views too), and accept overrides', () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]], { dtype: 'int32' }).t();
    expectAllClose(zerosLike(x), [[0, 0], [0, 0], [0, 0]], { ...exact, dtype: 'int32' });
    expectAllClose(onesLike(x, { dtype: 'float64' }), [[1, 1], [1, 1], [1, 1]], { ...exact, dtype: 'float64' });
    expectAllClose(fullLike(x, 7), [[7, 7], [7, 7], [7, 7]], { ...exact, dtype: 'int32' });
    expectAllClose(fullLike(tensor([true]), false), [0], { ...exact, dtype: 'bool' });
    expect(zerosLike(x).storage).not.toBe(x.storage);
    expect(zerosLike(x).isContiguous).toBe(true);
  });
});

describe('arange', () => {
  /** PyTorch's arange: ceil((end - start) / step) values start + i·step. */
  function refArange(start: number, end: number, step: number): number[] {
    const n = Math.max(0, Math.ceil((end - start) / step));
    return Array.from({ length: n }, (_, i) => start + i * step);
  }

  it('integer forms give int32', () => {
    expectAllClose(arange(5), [0, 1, 2, 3, 4], { ...exact, dtype: 'int32' });
    expectAllClose(arange(2, 7), [2, 3, 4, 5, 6], { ...exact, dtype: 'int32' });
    expectAllClose(arange(1, 10, 3), [1, 4, 7], { ...exact, dtype: 'int32' });
    expectAllClose(arange(5, 0, -2), [5, 3, 1], { ...exact, dtype: 'int32' });
    expectAllClose(arange(-3, -8, -1), [-3, -4, -5, -6, -7], { ...exact, dtype: 'int32' });
    expectAllClose(arange(4, undefined, 1, { dtype: 'float64' }), [0, 1, 2, 3], { ...exact, dtype: 'float64' });
  });

  it('float forms give float32 values start + i·step rounded once, for random bounds', () => seeded((next) => {
    expectAllClose(arange(0, 1, 0.25), [0, 0.25, 0.5, 0.75], { ...exact, dtype: 'float32' });
    expectAllClose(arange(0, 1, 0.1), refArange(0, 1, 0.1).map(Math.fround), { ...exact, shape: [10], dtype: 'float32' });
    expectAllClose(arange(1, -1, -0.5), [1, 0.5, 0, -0.5], { ...exact, dtype: 'float32' });
    for (let trial = 0; trial < 50; trial++) {
      const start = uniform(next, 1, -10, 10)[0]!;
      const end = uniform(next, 1, -10, 10)[0]!;
      const step = (end >= start ? 1 : -1) * (0.05 + next() * 2);
      const ref = refArange(start, end, step);
      const got = arange(start, end, step);
      expect(got.dtype).toBe('float32');
      expectAllClose(got, ref.map(Math.fround), { ...exact, shape: [ref.length] });
      expectAllClose(arange(start, end, step, { dtype: 'float64' }), ref, { shape: [ref.length], rtol: 1e-15, atol: 1e-14 });
    }
  }));

  it('is empty when start equals end, and throws when end cannot be reached', () => {
    expectAllClose(arange(3, 3), [], { shape: [0], dtype: 'int32' });
    expectAllClose(arange(0), [], { shape: [0] });
    expectAllClose(arange(2.5, 2.5, -1), [], { shape: [0], dtype: 'float32' });
    expect(() => arange(0, 5, -1)).toThrow(/arange: end 5 cannot be reached from start 0 with step -1/);
    expect(() => arange(5, 0)).toThrow(ValueError);
    expect(() => arange(0, 5, 0)).toThrow(/step must be non-zero/);
    expect(() => arange(0, Infinity)).toThrow(/end must be a finite number/);
    expect(() => arange(NaN)).toThrow(ValueError);
  });
});

describe('linspace', () => {
  /** PyTorch's linspace: the first half from start, the second half counted back from end. */
  function refLinspace(start: number, end: number, steps: number): number[] {
    if (steps === 1) return [start];
    const step = (end - start) / (steps - 1);
    return Array.from({ length: steps }, (_, i) => (i < Math.floor(steps / 2) ? start + i * step : end - (steps - 1 - i) * step));
  }

  it('hits both endpoints exactly and spaces the rest evenly', () => seeded((next) => {
    for (let trial = 0; trial < 50; trial++) {
      const [start, end] = uniform(next, 2, -100, 100) as [number, number];
      const steps = 2 + Math.floor(next() * 40);
      const r64 = linspace(start, end, steps, { dtype: 'float64' });
      const v = values(r64);
      expect(v[0]).toBe(start);
      expect(v[steps - 1]).toBe(end);
      expectAllClose(r64, refLinspace(start, end, steps), { shape: [steps], dtype: 'float64', rtol: 1e-15, atol: 1e-13 });
      const r32 = linspace(start, end, steps);
      expect(r32.dtype).toBe('float32');
      expect(r32.data()[0]).toBe(Math.fround(start));
      expect(r32.data()[steps - 1]).toBe(Math.fround(end));
      expectAllClose(r32, refLinspace(start, end, steps).map(Math.fround), { ...exact, shape: [steps] });
    }
    expectAllClose(linspace(0, 1, 5), [0, 0.25, 0.5, 0.75, 1], exact);
    expectAllClose(linspace(1, -1, 3), [1, 0, -1], exact);
  }));

  it('steps 0 is empty, steps 1 is the start; bad steps throw', () => {
    expectAllClose(linspace(-1, 1, 0), [], { shape: [0], dtype: 'float32' });
    expectAllClose(linspace(-1, 1, 1), [-1], { ...exact, dtype: 'float32' });
    expectAllClose(linspace(0.3, 9, 1, { dtype: 'float64' }), [0.3], { ...exact, dtype: 'float64' });
    expect(() => linspace(0, 1, -1)).toThrow(/steps must be a non-negative integer/);
    expect(() => linspace(0, 1, 2.5)).toThrow(ValueError);
    expect(() => linspace(0, NaN, 2)).toThrow(ValueError);
  });
});

describe('eye', () => {
  it('makes n×n and n×m identities in any dtype', () => {
    expectAllClose(eye(3), [[1, 0, 0], [0, 1, 0], [0, 0, 1]], { ...exact, dtype: 'float32' });
    expectAllClose(eye(2, 4), [[1, 0, 0, 0], [0, 1, 0, 0]], exact);
    expectAllClose(eye(4, 2, { dtype: 'int32' }), [[1, 0], [0, 1], [0, 0], [0, 0]], { ...exact, dtype: 'int32' });
    expectAllClose(eye(2, 2, { dtype: 'bool' }), [[1, 0], [0, 1]], { ...exact, dtype: 'bool' });
    expectAllClose(eye(0), [], { shape: [0, 0] });
    expectAllClose(eye(2, 0), [], { shape: [2, 0] });
    expect(() => eye(-1)).toThrow(/eye: n must be a non-negative integer/);
    expect(() => eye(2, 1.5)).toThrow(/eye: m must be/);
  });
});

describe('random tensors', () => {
  const N = 100_000;
  // Bounds are 5 standard errors (or a chi-square quantile with p ≈ 1e-5), so a correct
  // generator fails a check about once in a hundred thousand runs.
  const Z = 5;

  function moments(v: number[]): { mean: number; variance: number; skew: number; kurtosis: number } {
    const n = v.length;
    const mean = v.reduce((a, b) => a + b, 0) / n;
    let m2 = 0, m3 = 0, m4 = 0;
    for (const x of v) {
      const d = x - mean;
      m2 += d * d;
      m3 += d * d * d;
      m4 += d * d * d * d;
    }
    m2 /= n; m3 /= n; m4 /= n;
    return { mean, variance: m2, skew: m3 / m2 ** 1.5, kurtosis: m4 / (m2 * m2) };
  }

  function chiSquare(counts: number[], expected: number): number {
    return counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
  }

  it('rand: float32 in [0, 1) with uniform moments and histogram', () => seeded((next) => {
    const seed = Math.floor(next() * 2 ** 32);
    manualSeed(seed);
    const t = rand([N]);
    expect(t.dtype).toBe('float32');
    expect(t.shape).toEqual([N]);
    const v = values(t);
    expect(Math.min(...v)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...v)).toBeLessThan(1);
    const m = moments(v);
    // Uniform: mean 1/2 (sd sqrt(1/12/N)), variance 1/12 (sd of the estimate sqrt((1/80 - 1/144)/N)).
    expect(Math.abs(m.mean - 0.5)).toBeLessThan(Z * Math.sqrt(1 / 12 / N));
    expect(Math.abs(m.variance - 1 / 12)).toBeLessThan(Z * Math.sqrt((1 / 80 - 1 / 144) / N));
    const bins = new Array<number>(20).fill(0);
    for (const x of v) bins[Math.floor(x * 20)]!++;
    // Chi-square with 19 degrees of freedom: P(> 55) ≈ 2e-5.
    expect(chiSquare(bins, N / 20)).toBeLessThan(55);
    expect(rand([2, 3], { dtype: 'float64' }).dtype).toBe('float64');
    expect(rand([]).shape).toEqual([]);
    expect(rand([0, 3]).shape).toEqual([0, 3]);
    expect(() => rand([2], { dtype: 'int32' })).toThrow(/rand: dtype must be float32 or float64 \(got int32\)/);
  }));

  it('randn: standard normal moments and tail fractions', () => seeded((next) => {
    const seed = Math.floor(next() * 2 ** 32);
    manualSeed(seed);
    const t = randn([400, 250]);
    expect(t.dtype).toBe('float32');
    expect(t.shape).toEqual([400, 250]);
    const v = values(t);
    expect(v.every(Number.isFinite)).toBe(true);
    const m = moments(v);
    expect(Math.abs(m.mean)).toBeLessThan(Z / Math.sqrt(N));
    // The sample variance of N normals has sd sqrt(2/N); skewness sqrt(6/N); kurtosis sqrt(24/N).
    expect(Math.abs(m.variance - 1)).toBeLessThan(Z * Math.sqrt(2 / N));
    expect(Math.abs(m.skew)).toBeLessThan(Z * Math.sqrt(6 / N));
    expect(Math.abs(m.kurtosis - 3)).toBeLessThan(Z * Math.sqrt(24 / N));
    for (const [z, p] of [[1, 0.6826894921370859], [1.959963984540054, 0.95], [3, 0.9973002039367398]] as const) {
      const inside = v.filter((x) => Math.abs(x) < z).length / N;
      expect(Math.abs(inside - p), `P(|z| < ${z})`).toBeLessThan(Z * Math.sqrt((p * (1 - p)) / N));
    }
    expect(randn([3], { dtype: 'float64' }).dtype).toBe('float64');
    expect(() => randn([3], { dtype: 'bool' })).toThrow(DTypeError);
  }));

  // Draws enough samples for a chi-squared check: seconds on a loaded 2-core CI machine.
  it('randint: integers in [low, high), each value equally likely', () => seeded((next) => {
    const seed = Math.floor(next() * 2 ** 32);
    manualSeed(seed);
    const t = randint(-3, 4, [N]);
    expect(t.dtype).toBe('int32');
    const v = values(t);
    const counts = new Array<number>(7).fill(0);
    for (const x of v) {
      expect(Number.isInteger(x) && x >= -3 && x < 4).toBe(true);
      counts[x + 3]!++;
    }
    // Chi-square with 6 degrees of freedom: P(> 33) ≈ 1e-5.
    expect(chiSquare(counts, N / 7)).toBeLessThan(33);
    expectAllClose(randint(5, 6, [4]), [5, 5, 5, 5], { ...exact, dtype: 'int32' });
    expect(randint(0, 10, [3], { dtype: 'float32' }).dtype).toBe('float32');
    expect(() => randint(3, 3, [2])).toThrow(/randint: need integers low < high \(got low=3, high=3\)/);
    expect(() => randint(0, 2.5, [2])).toThrow(ValueError);
  }), 60_000);

  it('randint over a wide range uses every low bit', () => seeded((next) => {
    const seed = Math.floor(next() * 2 ** 32);
    manualSeed(seed);
    const n = 20_000;
    const v = values(randint(0, 2 ** 30, [n]));
    expect(v.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 30)).toBe(true);
    // Each of the low bits is a fair coin when all 2^30 values are equally likely.
    for (let bit = 0; bit < 8; bit++) {
      const ones = v.filter((x) => (x >> bit) & 1).length / n;
      expect(Math.abs(ones - 0.5), `bit ${bit}`).toBeLessThan(Z * Math.sqrt(0.25 / n));
    }
    // The full int32 range: no value escapes [low, high).
    const w = values(randint(-(2 ** 31), 2 ** 31 - 1, [n]));
    expect(w.every((x) => x >= -(2 ** 31) && x < 2 ** 31 - 1)).toBe(true);
    expect(Math.abs(w.filter((x) => x < 0).length / n - 0.5)).toBeLessThan(Z * Math.sqrt(0.25 / n));
  }));
});

describe('manualSeed', () => {
  it('the same seed gives the same numbers; different seeds differ', () => seeded((next) => {
    const seed = Math.floor(next() * 2 ** 32);
    manualSeed(seed);
    const a = values(rand([1000]));
    const an = values(randn([100]));
    const ai = values(randint(0, 1000, [100]));
    manualSeed(seed);
    expect(values(rand([1000]))).toEqual(a);
    expect(values(randn([100]))).toEqual(an);
    expect(values(randint(0, 1000, [100]))).toEqual(ai);
    manualSeed(seed + 1);
    const b = values(rand([1000]));
    // Two independent streams agree on a 24-bit value about once in 16 million draws.
    expect(b.filter((x, i) => x === a[i]).length).toBeLessThan(5);
    // Successive draws without re-seeding continue the stream rather than repeat it.
    expect(values(rand([1000]))).not.toEqual(b);
  }));

  it('rand([n]) then rand([m]) equals the two halves of one rand([n + m])', () => seeded((next) => {
    const seed = Math.floor(next() * 2 ** 32);
    for (let trial = 0; trial < 10; trial++) {
      const n = Math.floor(next() * 50), m = Math.floor(next() * 50);
      manualSeed(seed + trial);
      const first = values(rand([n])), second = values(rand([m]));
      manualSeed(seed + trial);
      const whole = values(rand([n + m]));
      expect(first, `n=${n}`).toEqual(whole.slice(0, n));
      expect(second, `m=${m}`).toEqual(whole.slice(n));
    }
    // Shape does not matter, only the element count.
    manualSeed(seed);
    const grid = values(rand([3, 4]));
    manualSeed(seed);
    expect(values(rand([12]))).toEqual(grid);
  }));

  it('rejects seeds that are not non-negative safe integers', () => {
    for (const bad of [-1, 1.5, 2 ** 53, NaN, Infinity]) {
      expect(() => manualSeed(bad), String(bad)).toThrow(/manualSeed: seed must be a non-negative safe integer/);
    }
    manualSeed(2 ** 53 - 1);
    expect(rand([2]).shape).toEqual([2]);
  });
});

describe('shape arguments', () => {
  it('every creation function validates its shape', () => {
    for (const f of [() => zeros([-1]), () => ones([1, NaN]), () => full([0.5], 1), () => rand([-2]), () => randn([1.5]), () => randint(0, 2, [-1])]) {
      expect(f).toThrow(ValueError);
      expect(f).toThrow(/shape must be an array of non-negative integers/);
    }
  });
});
