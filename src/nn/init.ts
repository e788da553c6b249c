/** PyTorch's default initializations, drawn from kiln's seeded generator. */
import { rand, randn } from '../ops/creation.js';
import { mul, sub } from '../ops/elementwise.js';
import type { Tensor } from '../tensor.js';

/** U(-bound, bound). */
export function uniform(shape: number[], bound: number): Tensor {
  return sub(mul(rand(shape), 2 * bound), bound);
}

/** N(0, std²). */
export function normal(shape: number[], std = 1): Tensor {
  return mul(randn(shape), std);
}

/**
 * Kaiming-uniform with a = √5, PyTorch's default for Linear and Conv weights: it works out
 * to U(-1/√fanIn, 1/√fanIn), the same bound PyTorch uses for their biases.
 */
export function defaultBound(fanIn: number): number {
  return fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
}
