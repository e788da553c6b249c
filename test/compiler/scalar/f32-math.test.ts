import { describe, expect, it } from 'vitest';
import {
  cos,
  erf,
  exp,
  expm1,
  f32Math,
  log,
  log1p,
  sigmoid,
  sin,
  tanh,
} from '../../../compiler/scalar/f32-math.js';

// Accuracy is measured in float32 ulps against float64 references rounded to
// float32 (Math.* is accurate to < 1 float64 ulp, so the rounded reference is
// the correctly rounded float32 result except in vanishingly rare ties).

const f32 = new Float32Array(1);
const i32 = new Int32Array(f32.buffer);

/** float32 bits mapped to a monotonic integer line (+0 and -0 both map to 0), so ulp distance is a subtraction. */
function ordinal(v: number): number {
  f32[0] = v;
  const b = i32[0]!;
  return b < 0 ? -(b & 0x7fffffff) : b;
}

/** Distance in float32 ulps; NaN only matches NaN. */
function ulpDistance(got: number, want: number): number {
  if (got !== got || want !== want) return got !== got && want !== want ? 0 : Infinity;
  return Math.abs(ordinal(got) - ordinal(want));
}

function fromBits(b: number): number {
  i32[0] = b;
  return f32[0]!;
}

/** Small deterministic PRNG (mulberry32) so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * ~1M float32 inputs: random bit patterns over all finite values (every binade,
 * subnormals included), log-uniform magnitudes over [2^lo, 2^hi] of both signs
 * (many binades of the interesting range), and uniform samples on [a, b].
 */
function samples(seed: number, a: number, b: number, lo: number, hi: number): Float32Array {
  const next = rng(seed);
  const n = 1 << 20;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const pick = i % 4;
    let v: number;
    if (pick === 0) {
      do v = fromBits((next() * 4294967296) | 0);
      while (!Number.isFinite(v));
    } else if (pick === 1) {
      v = 2 ** (lo + (hi - lo) * next()) * (next() < 0.5 ? -1 : 1);
    } else {
      v = a + (b - a) * next();
    }
    out[i] = v;
  }
  return out;
}

interface Report {
  maxUlp: number;
  worst: number;
  notF32: number;
}

function measure(f: (x: number) => number, ref: (x: number) => number, xs: ArrayLike<number>): Report {
  let maxUlp = 0;
  let worst = NaN;
  let notF32 = 0;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!;
    const got = f(x);
    if (got === got && Math.fround(got) !== got) notF32++;
    const d = ulpDistance(got, Math.fround(ref(x)));
    if (d > maxUlp) {
      maxUlp = d;
      worst = x;
    }
  }
  return { maxUlp, worst, notF32 };
}

// ---- independent float64 erf reference ----------------------------------------

/**
 * erf for |x| < 3 from erf(x) = 2/sqrt(pi) e^{-x^2} sum_n 2^n x^(2n+1) / (1*3*...*(2n+1)):
 * every term is positive, so the sum has no cancellation.
 */
function erfSeries(x: number): number {
  const x2 = 2 * x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= x2 / (2 * n + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum;
}

/** erfc for x >= 3 from the continued fraction e^{-x^2}/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))). */
function erfcContinuedFraction(x: number): number {
  let t = x;
  for (let n = 80; n >= 1; n--) t = x + n / 2 / t;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / t;
}

function erfReference(x: number): number {
  if (x !== x) return x;
  const a = Math.abs(x);
  const r = a < 3 ? erfSeries(a) : 1 - erfcContinuedFraction(a);
  return x < 0 ? -r : r;
}

// ---- per-function cases ---------------------------------------------------------

interface Case {
  name: keyof typeof f32Math;
  f: (x: number) => number;
  ref: (x: number) => number;
  /** uniform range, then log-uniform exponent range */
  range: [number, number, number, number];
  bound: number;
}

const cases: Case[] = [
  { name: 'exp', f: exp, ref: Math.exp, range: [-105, 90, -30, 7], bound: 1 },
  { name: 'expm1', f: expm1, ref: Math.expm1, range: [-20, 90, -30, 7], bound: 1 },
  { name: 'log', f: log, ref: Math.log, range: [0, 4, -149, 128], bound: 1 },
  { name: 'log1p', f: log1p, ref: Math.log1p, range: [-1, 4, -40, 128], bound: 1 },
  { name: 'tanh', f: tanh, ref: Math.tanh, range: [-10, 10, -20, 4], bound: 1 },
  { name: 'sigmoid', f: sigmoid, ref: (x) => 1 / (1 + Math.exp(-x)), range: [-110, 20, -20, 7], bound: 1 },
  { name: 'sin', f: sin, ref: Math.sin, range: [-20, 20, -20, 24], bound: 1 },
  { name: 'cos', f: cos, ref: Math.cos, range: [-20, 20, -20, 24], bound: 1 },
  { name: 'erf', f: erf, ref: erfReference, range: [-4.5, 4.5, -20, 3], bound: 1 },
];

describe('f32 math accuracy (float32 ulps over ~1M inputs)', () => {
  it('ulp metric counts float32 steps, across zero too', () => {
    expect(ulpDistance(Math.fround(1 + 2 ** -23), 1)).toBe(1);
    expect(ulpDistance(2 ** -149, -(2 ** -149))).toBe(2);
    expect(ulpDistance(-0, 0)).toBe(0);
    expect(ulpDistance(Infinity, Math.fround(3.4028234663852886e38))).toBe(1);
    expect(ulpDistance(NaN, 1)).toBe(Infinity);
  });

  cases.forEach((c, idx) => {
    it(`${c.name} is within ${c.bound} ulp`, () => {
      const [a, b, lo, hi] = c.range;
      const r = measure(c.f, c.ref, samples(1234 + idx, a, b, lo, hi));
      expect(r.notF32, 'results must be float32 values').toBe(0);
      expect(r.maxUlp, `${c.name}: worst input ${r.worst}`).toBeLessThanOrEqual(c.bound);
    });
  });

  it('sin/cos stay accurate next to multiples of pi/2 up to the reduction limit', () => {
    const xs: number[] = [];
    for (let k = 1; k < 667_600; k += 3) {
      const v = Math.fround((k * Math.PI) / 2);
      xs.push(v, Math.fround(v * (1 + 2 ** -23)), Math.fround(v * (1 - 2 ** -23)), -v);
    }
    expect(measure(sin, Math.sin, xs).maxUlp).toBeLessThanOrEqual(1);
    expect(measure(cos, Math.cos, xs).maxUlp).toBeLessThanOrEqual(1);
  });

  it('erf is within 1 ulp on a sweep of every 997th float32 in [0, 4], both signs', () => {
    // erf's table has nodes every 1/64: the sweep visits each node interval ~2000 times.
    const xs: number[] = [];
    for (let b = 0; b <= 0x40800000; b += 997) {
      const x = fromBits(b);
      xs.push(x, -x);
    }
    const r = measure(erf, erfReference, xs);
    expect(r.notF32).toBe(0);
    expect(r.maxUlp, `worst input ${r.worst}`).toBeLessThanOrEqual(1);
  });

  it('erf is within 1 ulp next to its table nodes and halfway between them', () => {
    // Halfway points have the largest |x - node| (1/128) and are where the nearest node
    // switches; the nodes have d = 0. A few float32 steps either side of each.
    const xs: number[] = [];
    for (let k = -512; k <= 512; k++) {
      const c = Math.fround(k / 128);
      f32[0] = c;
      const b = i32[0]!;
      for (let s = -3; s <= 3; s++) xs.push(fromBits(b + s));
    }
    const finite = xs.filter((x) => Number.isFinite(x) && Math.abs(x) <= 4);
    expect(measure(erf, erfReference, finite).maxUlp).toBeLessThanOrEqual(1);
  });

  it('erf is odd bit for bit', () => {
    const xs = samples(99, -4.5, 4.5, -20, 3);
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i]!;
      if (!Object.is(erf(-x), -erf(x))) expect.fail(`erf(${-x}) is not -erf(${x})`);
    }
  });

  it('erf reference agrees with published values', () => {
    // erf values from tables (A&S 7.1 / mpmath)
    const table: [number, number][] = [
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [2, 0.9953222650189527],
      [3, 0.9999779095030014],
      [3.5, 0.9999992569016277],
    ];
    for (const [x, want] of table) expect(Math.abs(erfReference(x) - want)).toBeLessThan(1e-15);
  });
});

// ---- special values -------------------------------------------------------------

const MIN_SUB = 2 ** -149;
const MAX_SUB = 2 ** -126 - 2 ** -149;
const FLT_MAX = Math.fround(3.4028234663852886e38);

describe('f32 math special values', () => {
  it('propagates NaN everywhere', () => {
    for (const f of Object.values(f32Math)) expect(f(NaN)).toBeNaN();
  });

  it('exp', () => {
    expect(exp(Infinity)).toBe(Infinity);
    expect(exp(-Infinity)).toBe(0);
    expect(exp(0)).toBe(1);
    expect(exp(-0)).toBe(1);
    expect(exp(Math.fround(88.72283))).toBe(Math.fround(Math.exp(Math.fround(88.72283))));
    expect(exp(Math.fround(88.72284))).toBe(Infinity);
    expect(exp(FLT_MAX)).toBe(Infinity);
    expect(exp(-FLT_MAX)).toBe(0);
    // underflow through the subnormals to zero
    expect(exp(Math.fround(-103.9))).toBe(Math.fround(Math.exp(Math.fround(-103.9))));
    expect(exp(Math.fround(-103.9))).toBeGreaterThan(0);
    expect(exp(Math.fround(-95))).toBe(Math.fround(Math.exp(Math.fround(-95))));
    expect(exp(Math.fround(-103.98))).toBe(0);
    expect(exp(MIN_SUB)).toBe(1);
  });

  it('expm1', () => {
    expect(Object.is(expm1(-0), -0)).toBe(true);
    expect(Object.is(expm1(0), 0)).toBe(true);
    expect(expm1(MIN_SUB)).toBe(MIN_SUB);
    expect(expm1(-MAX_SUB)).toBe(-MAX_SUB);
    expect(expm1(Infinity)).toBe(Infinity);
    expect(expm1(-Infinity)).toBe(-1);
    expect(expm1(-FLT_MAX)).toBe(-1);
    expect(expm1(FLT_MAX)).toBe(Infinity);
    expect(expm1(Math.fround(88.72284))).toBe(Infinity);
  });

  it('log', () => {
    expect(log(0)).toBe(-Infinity);
    expect(log(-0)).toBe(-Infinity);
    expect(log(-1)).toBeNaN();
    expect(log(-Infinity)).toBeNaN();
    expect(log(Infinity)).toBe(Infinity);
    expect(Object.is(log(1), 0)).toBe(true);
    expect(log(MIN_SUB)).toBe(Math.fround(Math.log(MIN_SUB)));
    expect(log(MAX_SUB)).toBe(Math.fround(Math.log(MAX_SUB)));
    expect(log(FLT_MAX)).toBe(Math.fround(Math.log(FLT_MAX)));
  });

  it('log1p', () => {
    expect(Object.is(log1p(-0), -0)).toBe(true);
    expect(Object.is(log1p(0), 0)).toBe(true);
    expect(log1p(MIN_SUB)).toBe(MIN_SUB);
    expect(log1p(-MIN_SUB)).toBe(-MIN_SUB);
    expect(log1p(-1)).toBe(-Infinity);
    expect(log1p(-2)).toBeNaN();
    expect(log1p(-Infinity)).toBeNaN();
    expect(log1p(Infinity)).toBe(Infinity);
    expect(log1p(FLT_MAX)).toBe(Math.fround(Math.log1p(FLT_MAX)));
    const nearMinusOne = Math.fround(-1 + 2 ** -24);
    expect(log1p(nearMinusOne)).toBe(Math.fround(Math.log1p(nearMinusOne)));
  });

  it('tanh', () => {
    expect(Object.is(tanh(-0), -0)).toBe(true);
    expect(tanh(Infinity)).toBe(1);
    expect(tanh(-Infinity)).toBe(-1);
    expect(tanh(FLT_MAX)).toBe(1);
    expect(tanh(-MIN_SUB)).toBe(-MIN_SUB);
    expect(tanh(9.2)).toBe(1);
  });

  it('sigmoid', () => {
    expect(sigmoid(0)).toBe(0.5);
    expect(sigmoid(-0)).toBe(0.5);
    expect(sigmoid(Infinity)).toBe(1);
    expect(sigmoid(-Infinity)).toBe(0);
    expect(sigmoid(FLT_MAX)).toBe(1);
    expect(sigmoid(-FLT_MAX)).toBe(0);
    // no overflow: e^100 is fine in float64, and the result is a float32 subnormal
    expect(sigmoid(-100)).toBe(Math.fround(1 / (1 + Math.exp(100))));
    expect(sigmoid(-100)).toBeGreaterThan(0);
  });

  it('sin and cos', () => {
    expect(Object.is(sin(-0), -0)).toBe(true);
    expect(Object.is(sin(0), 0)).toBe(true);
    expect(sin(-MIN_SUB)).toBe(-MIN_SUB);
    expect(cos(-0)).toBe(1);
    expect(cos(MIN_SUB)).toBe(1);
    for (const v of [Infinity, -Infinity]) {
      expect(sin(v)).toBeNaN();
      expect(cos(v)).toBeNaN();
    }
    // huge arguments (past the Cody-Waite range) match Math's exact reduction
    for (const v of [1048576, 1e7, 1e20, -3e30, FLT_MAX]) {
      const x = Math.fround(v);
      expect(sin(x)).toBe(Math.fround(Math.sin(x)));
      expect(cos(x)).toBe(Math.fround(Math.cos(x)));
    }
  });

  it('erf', () => {
    expect(Object.is(erf(-0), -0)).toBe(true);
    expect(Object.is(erf(0), 0)).toBe(true);
    expect(erf(Infinity)).toBe(1);
    expect(erf(-Infinity)).toBe(-1);
    expect(erf(FLT_MAX)).toBe(1);
    expect(erf(-FLT_MAX)).toBe(-1);
    expect(erf(MIN_SUB)).toBe(Math.fround((2 / Math.sqrt(Math.PI)) * MIN_SUB));
    expect(erf(Math.fround(3.92))).toBe(1);
    expect(erf(Math.fround(3.9))).toBe(Math.fround(1 - 2 ** -24));
  });

  it('f32Math holds exactly the primitives', () => {
    expect(Object.keys(f32Math).sort()).toEqual(
      ['cos', 'erf', 'exp', 'expm1', 'log', 'log1p', 'sigmoid', 'sin', 'tanh'].sort(),
    );
  });
});
