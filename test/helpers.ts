/** Shared test utilities: closeness checks and random inputs from a seeded generator. */
import { valuesOf } from '../runtime/stored.js';
import { expect } from 'vitest';
import { Tensor } from '../src/index.js';
import type { DType } from '../src/index.js';

/** Expected values: nested arrays, flat arrays, typed arrays, or a tensor. */
export type Expected = Tensor | ArrayLike<number> | number | boolean | unknown[];

export interface CloseOptions {
  rtol?: number;
  atol?: number;
  /** The expected shape, checked when `expected` is flat. */
  shape?: number[];
  /** The expected dtype of `actual`. */
  dtype?: DType;
  /** Distinguish -0 from +0. */
  signedZero?: boolean;
}

function flatten(x: Expected): { values: number[]; shape: number[] | undefined } {
  if (x instanceof Tensor) return { values: Array.from(valuesOf(x.data(), x.dtype), Number), shape: x.shape };
  if (typeof x === 'number' || typeof x === 'boolean') return { values: [Number(x)], shape: [] };
  if (Array.isArray(x)) {
    const shape: number[] = [];
    let level: unknown = x;
    while (Array.isArray(level)) {
      shape.push(level.length);
      level = level[0];
    }
    return { values: (x.flat(Infinity) as (number | boolean)[]).map(Number), shape };
  }
  return { values: Array.from(x as ArrayLike<number>, Number), shape: undefined };
}

/**
 * Checks shape (and dtype) first, then every element: |a - e| <= atol + rtol·|e|. NaN matches
 * only NaN, an infinity only the same infinity. Reports the first mismatch with its index.
 */
export function expectAllClose(actual: Tensor, expected: Expected, options: CloseOptions = {}): void {
  const { rtol = 1e-5, atol = 1e-6 } = options;
  if (!(actual instanceof Tensor)) throw new Error(`expectAllClose: actual must be a tensor (got ${typeof actual})`);
  if (options.dtype !== undefined) expect(actual.dtype, 'dtype').toBe(options.dtype);
  const exp = flatten(expected);
  const shape = options.shape ?? exp.shape;
  if (shape !== undefined) expect(actual.shape, 'shape').toEqual(shape);
  const got = Array.from(valuesOf(actual.data(), actual.dtype), Number);
  expect(got.length, 'element count').toBe(exp.values.length);
  for (let i = 0; i < got.length; i++) {
    const a = got[i]!, e = exp.values[i]!;
    let ok: boolean;
    if (Number.isNaN(e) || Number.isNaN(a)) ok = Number.isNaN(e) && Number.isNaN(a);
    else if (!Number.isFinite(e) || !Number.isFinite(a)) ok = a === e;
    else ok = Math.abs(a - e) <= atol + rtol * Math.abs(e);
    if (ok && options.signedZero && a === 0 && e === 0) ok = Object.is(a, e);
    if (!ok) {
      throw new Error(`element ${i} (of ${got.length}, shape [${actual.shape}]) differs: got ${Object.is(a, -0) ? '-0' : a}, expected ${Object.is(e, -0) ? '-0' : e} (rtol ${rtol}, atol ${atol})`);
    }
  }
}

/** A small seeded generator (mulberry32) for test inputs, independent of kiln's own RNG. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` values uniform in [lo, hi) from `next`. */
export function uniform(next: () => number, n: number, lo = -1, hi = 1): number[] {
  return Array.from({ length: n }, () => lo + (hi - lo) * next());
}
