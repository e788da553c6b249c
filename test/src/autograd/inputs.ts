/**
 * Inputs for gradient tests. Seeds are fixed: each input is built to stay in the smooth
 * domain of the function under test (away from kinks, poles and ties), and a fixed draw keeps
 * every finite-difference comparison reproducible.
 */
import { tensor, type NestedInput, type Tensor } from '../../../src/index.js';
import { rng, uniform } from '../../helpers.js';

const sizeOf = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);

/** A float64 tensor from nested values. */
export function t64(data: NestedInput, requiresGrad = false): Tensor {
  return tensor(data, { dtype: 'float64', requiresGrad });
}

/** A float64 tensor of `shape`, uniform in [lo, hi). */
export function f64(shape: number[], seed: number, lo = -1, hi = 1): Tensor {
  return tensor(Float64Array.from(uniform(rng(seed), sizeOf(shape), lo, hi)), { shape });
}

/** Magnitudes uniform in [lo, hi) with random signs: clear of a kink or pole at 0. */
export function f64AwayFromZero(shape: number[], seed: number, lo = 0.3, hi = 1.5): Tensor {
  const next = rng(seed);
  const values = Array.from({ length: sizeOf(shape) }, () => (next() < 0.5 ? -1 : 1) * (lo + (hi - lo) * next()));
  return tensor(Float64Array.from(values), { shape });
}

/**
 * Pairwise distinct values: a shuffled grid of spacing `gap` with jitter below gap/4, so no
 * two elements come within gap/2 of each other (no near-ties for max, min, maximum).
 */
export function f64Distinct(shape: number[], seed: number, gap = 0.1): Tensor {
  const next = rng(seed);
  const n = sizeOf(shape);
  const grid = Array.from({ length: n }, (_, i) => (i - n / 2) * gap);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [grid[i], grid[j]] = [grid[j]!, grid[i]!];
  }
  return tensor(Float64Array.from(grid.map((v) => v + (next() - 0.5) * (gap / 4))), { shape });
}

/** An int32 tensor from nested values. */
export function i32(data: NestedInput): Tensor {
  return tensor(data, { dtype: 'int32' });
}
