/** Multi-index helpers shared by the op tests' plain-loop references. */
import { expect } from 'vitest';
import { withSeed } from './random-inputs.js';

/** Runs `body` on random inputs seeded for the running test; a failure says how to replay them. */
export const seeded = (body: (next: () => number) => void): void => withSeed(expect.getState().currentTestName ?? '', body);

/** Number of elements of a shape. */
export const sizeOf = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);

/** Row-major multi-index of flat position `i`. */
export function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d]!;
    i = Math.floor(i / shape[d]!);
  }
  return idx;
}

/** Flat row-major position of a multi-index. */
export function ravel(idx: readonly number[], shape: readonly number[]): number {
  let p = 0;
  for (let d = 0; d < shape.length; d++) p = p * shape[d]! + idx[d]!;
  return p;
}

/** Row-major values of a tensor of `shape` whose element at a multi-index is `f(index)`. */
export function values(shape: readonly number[], f: (idx: number[]) => number): number[] {
  return Array.from({ length: sizeOf(shape) }, (_, i) => f(unravel(i, shape)));
}
