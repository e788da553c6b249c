import { describe, it, expect } from 'vitest';
import {
  fillUniform,
  mulhi32,
  mullo32,
  philox4x32,
  philox4x32Into,
  seedKey,
  u32ToUniform,
  uniformAt,
  validateSeed,
} from '../../../compiler/random/philox.js';

// Independent reference: plain BigInt Philox4x32-10, straight from the Random123 definition.
const MASK = 0xffffffffn;
function refPhilox(ctr: readonly bigint[], key: readonly bigint[]): bigint[] {
  let [c0, c1, c2, c3] = ctr as [bigint, bigint, bigint, bigint];
  let [k0, k1] = key as [bigint, bigint];
  for (let r = 0; r < 10; r++) {
    if (r > 0) {
      k0 = (k0 + 0x9e3779b9n) & MASK;
      k1 = (k1 + 0xbb67ae85n) & MASK;
    }
    const p0 = 0xd2511f53n * c0;
    const p1 = 0xcd9e8d57n * c2;
    [c0, c1, c2, c3] = [(p1 >> 32n) ^ c1 ^ k0, p1 & MASK, (p0 >> 32n) ^ c3 ^ k1, p0 & MASK];
  }
  return [c0, c1, c2, c3];
}

// Reference for the documented stream scheme, element n of the stream for `seed`.
function refUniform(seed: number, n: number): number {
  const s = BigInt(seed);
  const idx = BigInt(n);
  const block = idx >> 2n;
  const words = refPhilox([block & MASK, block >> 32n, 0n, 0n], [s & MASK, s >> 32n]);
  return Number(words[Number(idx & 3n)]! >> 8n) / 2 ** 24;
}

const hex = (xs: readonly (number | bigint)[]): string[] =>
  xs.map((x) => x.toString(16).padStart(8, '0'));

// Deterministic xorshift32 so that failures are reproducible.
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>>= 0);
  };
}

const KATS = [
  {
    name: 'zero counter, zero key',
    ctr: [0, 0, 0, 0],
    key: [0, 0],
    expected: ['6627e8d5', 'e169c58d', 'bc57ac4c', '9b00dbd8'],
  },
  {
    name: 'all-ones counter and key',
    ctr: [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
    key: [0xffffffff, 0xffffffff],
    expected: ['408f276d', '41c83b0e', 'a20bc7c6', '6d5451fd'],
  },
  {
    name: 'pi digits',
    ctr: [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
    key: [0xa4093822, 0x299f31d0],
    expected: ['d16cfe09', '94fdcceb', '5001e420', '24126ea1'],
  },
] as const;

describe('philox4x32-10 known answers (Random123 kat_vectors)', () => {
  for (const { name, ctr, key, expected } of KATS) {
    it(`BigInt reference: ${name}`, () => {
      expect(hex(refPhilox(ctr.map(BigInt), key.map(BigInt)))).toEqual(expected);
    });
    it(`philox4x32: ${name}`, () => {
      const got = philox4x32(ctr[0], ctr[1], ctr[2], ctr[3], key[0], key[1]);
      expect(hex(got)).toEqual(expected);
      for (const w of got) expect(w).toBeGreaterThanOrEqual(0);
    });
    it(`philox4x32Into: ${name}`, () => {
      const out = new Uint32Array(4);
      const ret = philox4x32Into(out, ctr[0], ctr[1], ctr[2], ctr[3], key[0], key[1]);
      expect(ret).toBe(out);
      expect(hex(Array.from(out))).toEqual(expected);
    });
  }

  it('matches the BigInt reference on random counters and keys', () => {
    const next = rng(0xc0ffee);
    const out = new Uint32Array(4);
    for (let t = 0; t < 500; t++) {
      const ctr = [next(), next(), next(), next()] as const;
      const key = [next(), next()] as const;
      const want = hex(refPhilox(ctr.map(BigInt), key.map(BigInt)));
      expect(hex(philox4x32(ctr[0], ctr[1], ctr[2], ctr[3], key[0], key[1]))).toEqual(want);
      philox4x32Into(out, ctr[0], ctr[1], ctr[2], ctr[3], key[0], key[1]);
      expect(hex(Array.from(out))).toEqual(want);
    }
  });
});

describe('32-bit hi/lo multiply', () => {
  const check = (a: number, b: number): void => {
    const p = BigInt(a) * BigInt(b);
    expect([mulhi32(a, b), mullo32(a, b)]).toEqual([Number(p >> 32n), Number(p & MASK)]);
  };

  it('matches BigInt on edge cases', () => {
    const edges = [0, 1, 2, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
      0xd2511f53, 0xcd9e8d57];
    for (const a of edges) for (const b of edges) check(a, b);
  });

  it('matches BigInt on 20000 random pairs', () => {
    const next = rng(12345);
    for (let t = 0; t < 20000; t++) check(next(), next());
  });
});

describe('uniform stream scheme', () => {
  it('maps words to float32-exact values in [0, 1)', () => {
    expect(u32ToUniform(0)).toBe(0);
    expect(u32ToUniform(0xff)).toBe(0);
    expect(u32ToUniform(0x100)).toBe(2 ** -24);
    expect(u32ToUniform(0xffffffff)).toBe(1 - 2 ** -24);
    expect(Math.fround(u32ToUniform(0xffffffff))).toBeLessThan(1);
  });

  it('splits seeds into low and high key words', () => {
    expect(seedKey(0)).toEqual([0, 0]);
    expect(seedKey(0x1234_5678_9abc)).toEqual([0x5678_9abc, 0x1234]);
    expect(seedKey(Number.MAX_SAFE_INTEGER)).toEqual([0xffffffff, 0x1fffff]);
  });

  it('fillUniform and uniformAt follow the documented scheme (BigInt reference)', () => {
    const cases = [
      { seed: 0, offset: 0, len: 37 },
      { seed: 42, offset: 3, len: 21 },
      { seed: 0x1234_5678_9abc, offset: 1_000_001, len: 18 },
      { seed: Number.MAX_SAFE_INTEGER, offset: 7, len: 9 },
      // Crosses block 2^32 - 1 -> 2^32, where the low counter word carries into the high one.
      { seed: 99, offset: 4 * 2 ** 32 - 10, len: 23 },
      // Deep into the 53-bit index range.
      { seed: 5, offset: Number.MAX_SAFE_INTEGER - 40, len: 40 },
    ];
    for (const { seed, offset, len } of cases) {
      const got = new Float32Array(len);
      fillUniform(got, seed, offset);
      for (let i = 0; i < len; i++) {
        const want = refUniform(seed, offset + i);
        expect(got[i]).toBe(want);
        expect(uniformAt(seed, offset + i)).toBe(want);
      }
    }
  });

  it('offset k gives the tail of offset 0 from element k, for any alignment and length', () => {
    const seed = 2024;
    const base = new Float32Array(80);
    fillUniform(base, seed, 0);
    for (let k = 0; k <= 13; k++) {
      for (const len of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 16, 31, 64]) {
        const part = new Float32Array(len);
        fillUniform(part, seed, k);
        expect(Array.from(part)).toEqual(Array.from(base.subarray(k, k + len)));
      }
    }
  });

  it('drawing a stream in arbitrary pieces equals drawing it at once', () => {
    const seed = 7;
    const whole = new Float32Array(1000);
    fillUniform(whole, seed, 0);
    const pieces = new Float32Array(1000);
    const next = rng(99);
    for (let pos = 0; pos < 1000; ) {
      const len = Math.min(1 + (next() % 11), 1000 - pos);
      fillUniform(pieces.subarray(pos, pos + len), seed, pos);
      pos += len;
    }
    expect(pieces).toEqual(whole);
  });

  it('Float64Array output holds the same (float32-exact) values as Float32Array', () => {
    const a = new Float32Array(1003);
    const b = new Float64Array(1003);
    fillUniform(a, 31337, 5);
    fillUniform(b, 31337, 5);
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  it('is deterministic and depends on both key words of the seed', () => {
    const draw = (seed: number, offset = 0): number[] => {
      const out = new Float32Array(64);
      fillUniform(out, seed, offset);
      return Array.from(out);
    };
    expect(draw(123)).toEqual(draw(123));
    expect(draw(123)).not.toEqual(draw(124));
    expect(draw(0)).not.toEqual(draw(2 ** 32)); // high key word matters
    expect(draw(123, 0)).not.toEqual(draw(123, 64));
  });

  it('handles an empty output', () => {
    fillUniform(new Float32Array(0), 1, 0);
    fillUniform(new Float64Array(0), 1, Number.MAX_SAFE_INTEGER);
  });
});

describe('uniform statistics over 1M samples', () => {
  const N = 1 << 20;
  const xs = new Float32Array(N);
  fillUniform(xs, 20240601, 0);

  it('lies in [0, 1) on the 2^-24 grid', () => {
    let min = 1;
    let max = 0;
    let offGrid = 0;
    for (let i = 0; i < N; i++) {
      const x = xs[i]!;
      if (x < min) min = x;
      if (x > max) max = x;
      if (!Number.isInteger(x * 2 ** 24)) offGrid++;
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(offGrid).toBe(0);
    // With 2^20 samples the extremes are within ~2^-20 * a few of the ends.
    expect(min).toBeLessThan(1e-4);
    expect(max).toBeGreaterThan(1 - 1e-4);
  });

  it('has mean ~ 1/2 and variance ~ 1/12 (within 5 standard errors)', () => {
    let sum = 0;
    for (let i = 0; i < N; i++) sum += xs[i]!;
    const mean = sum / N;
    let ss = 0;
    for (let i = 0; i < N; i++) ss += (xs[i]! - mean) ** 2;
    const variance = ss / (N - 1);
    // SE(mean) = sqrt(1/12 / N); SE(var) = sqrt((mu4 - sigma^4) / N) = sqrt(1/180 / N).
    expect(Math.abs(mean - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / N));
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(5 * Math.sqrt(1 / 180 / N));
  });

  it('passes a 256-bucket chi-square test', () => {
    const B = 256;
    const counts = new Float64Array(B);
    for (let i = 0; i < N; i++) counts[Math.floor(xs[i]! * B)]!++;
    const expected = N / B;
    let chi2 = 0;
    for (let b = 0; b < B; b++) chi2 += (counts[b]! - expected) ** 2 / expected;
    // df = 255: mean 255, sd ~ 22.6; 5 sd either side.
    expect(chi2).toBeGreaterThan(255 - 5 * Math.sqrt(2 * 255));
    expect(chi2).toBeLessThan(255 + 5 * Math.sqrt(2 * 255));
  });

  it('has no lag-1 correlation across word and block boundaries', () => {
    let s = 0;
    for (let i = 0; i + 1 < N; i++) s += (xs[i]! - 0.5) * (xs[i + 1]! - 0.5);
    const corr = s / (N - 1) / (1 / 12);
    expect(Math.abs(corr)).toBeLessThan(5 / Math.sqrt(N));
  });
});

describe('seed validation', () => {
  it('accepts non-negative safe integers', () => {
    for (const s of [0, 1, 2 ** 32, Number.MAX_SAFE_INTEGER]) {
      expect(() => validateSeed(s)).not.toThrow();
    }
  });

  it.each([
    [NaN, 'NaN'],
    [-1, '-1'],
    [1.5, '1.5'],
    [Infinity, 'Infinity'],
    [-Infinity, '-Infinity'],
    [2 ** 53, '9007199254740992'],
  ])('rejects %s with a RangeError naming the function and value', (seed, shown) => {
    expect(() => validateSeed(seed)).toThrow(RangeError);
    expect(() => validateSeed(seed)).toThrow(
      `manualSeed: seed must be a non-negative safe integer (got ${shown})`,
    );
    expect(() => validateSeed(seed, 'randn')).toThrow(
      `randn: seed must be a non-negative safe integer (got ${shown})`,
    );
  });

  it('rejects non-number seeds from untyped callers', () => {
    expect(() => validateSeed('7')).toThrow(
      'manualSeed: seed must be a non-negative safe integer (got "7")',
    );
    expect(() => validateSeed(7n)).toThrow('(got 7n)');
    expect(() => validateSeed(undefined)).toThrow('(got undefined)');
  });

  it('fillUniform and uniformAt validate their seed, offset and index', () => {
    const out = new Float32Array(4);
    expect(() => fillUniform(out, NaN, 0)).toThrow(
      'fillUniform: seed must be a non-negative safe integer (got NaN)',
    );
    expect(() => fillUniform(out, 1, -1)).toThrow(RangeError);
    expect(() => fillUniform(out, 1, 0.5)).toThrow('fillUniform: offset');
    expect(() => fillUniform(out, 1, Number.MAX_SAFE_INTEGER - 2)).toThrow(RangeError);
    expect(() => uniformAt(-3, 0)).toThrow(
      'uniformAt: seed must be a non-negative safe integer (got -3)',
    );
    expect(() => uniformAt(1, NaN)).toThrow('uniformAt: index');
  });
});
