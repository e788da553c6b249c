/** Helpers for the jit suites: bit-exact comparison of results, random inputs, guard sites. */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { Tensor, tensor } from '../../../src/index.js';
import { uniform } from '../../helpers.js';

/**
 * Checks that two tensors are identical: dtype, shape and every element, compared with
 * Object.is (so NaN matches NaN and -0 differs from +0: on the CPU jit must equal eager bit
 * for bit, not just closely).
 */
export function expectSameTensor(actual: unknown, expected: Tensor, what = 'result'): void {
  if (!(actual instanceof Tensor)) throw new Error(`${what}: expected a tensor, got ${typeof actual}`);
  expect(actual.dtype, `${what}: dtype`).toBe(expected.dtype);
  expect(actual.shape, `${what}: shape`).toEqual(expected.shape);
  const a = actual.data(), e = expected.data();
  for (let i = 0; i < e.length; i++) {
    if (!Object.is(a[i], e[i])) throw new Error(`${what}: element ${i} of ${e.length} (shape [${expected.shape}]) differs: got ${fmt(a[i]!)}, expected ${fmt(e[i]!)}`);
  }
}

function fmt(v: number): string {
  return Object.is(v, -0) ? '-0' : String(v);
}

/** Like expectSameTensor over nested arrays and plain objects of tensors and other values. */
export function expectSameTree(actual: unknown, expected: unknown, what = 'result'): void {
  if (expected instanceof Tensor) return expectSameTensor(actual, expected, what);
  if (Array.isArray(expected)) {
    expect(Array.isArray(actual), `${what}: an array`).toBe(true);
    const a = actual as unknown[];
    expect(a.length, `${what}: length`).toBe(expected.length);
    expected.forEach((e, i) => expectSameTree(a[i], e, `${what}[${i}]`));
    return;
  }
  if (expected !== null && typeof expected === 'object') {
    expect(actual !== null && typeof actual === 'object', `${what}: an object`).toBe(true);
    const a = actual as Record<string, unknown>;
    expect(Object.keys(a), `${what}: keys`).toEqual(Object.keys(expected));
    for (const [k, e] of Object.entries(expected)) expectSameTree(a[k], e, `${what}.${k}`);
    return;
  }
  expect(Object.is(actual, expected), `${what}: ${String(actual)} vs ${String(expected)}`).toBe(true);
}

/** A float32 tensor of `shape` with values uniform in [lo, hi) drawn from `next`. */
export function randTensor(next: () => number, shape: number[], lo = -1, hi = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(Float32Array.from(uniform(next, n, lo, hi)), { shape });
}

/** An int32 tensor of `shape` with values in 0..high-1. */
export function randIndex(next: () => number, shape: number[], high: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(Int32Array.from({ length: n }, () => Math.floor(next() * high)), { shape });
}

/** A copy that shares nothing with `t` (to remember values across later calls). */
export function snapshot(t: Tensor): Tensor {
  return tensor(t.data().slice(), { shape: t.shape.slice(), dtype: t.dtype });
}

/**
 * The 1-based line of `file` that contains `marker` (a comment on the line of a guard), so
 * tests can check that explanations point at the user's own source line.
 */
export function lineOf(file: string, marker: string): number {
  const lines = readFileSync(file, 'utf8').split('\n');
  const hits = lines.flatMap((l, i) => (l.includes(marker) ? [i + 1] : []));
  // The marker also appears in the call to lineOf itself; the guard's line is the other one.
  const own = hits.filter((n) => !lines[n - 1]!.includes('lineOf('));
  if (own.length !== 1) throw new Error(`lineOf: marker ${marker} found on lines ${own.join(', ') || 'none'} of ${file}`);
  return own[0]!;
}
