/** Seeded permutations and train/test splits over the first dim of tensors. */
import { ShapeError, ValueError, fmtShape } from '../../runtime/errors.js';
import { fillUniform, validateSeed } from '../../compiler/random/philox.js';
import { tensor } from '../ops/creation.js';
import { indexSelect } from '../ops/indexing.js';
import { Tensor } from '../tensor.js';

/**
 * A permutation of 0..n-1 by Fisher–Yates, drawing from element `offset` onward of the
 * Philox stream for `seed`. It does not touch kiln's global random stream, so splitting or
 * shuffling data never changes the numbers a model's initialization draws.
 */
export function permutation(n: number, seed: number, offset = 0): Int32Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new ValueError(`permutation: n must be a non-negative integer (got ${n})`);
  validateSeed(seed, 'permutation');
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  if (n < 2) return out;
  const u = new Float64Array(n - 1);
  fillUniform(u, seed, offset);
  for (let i = n - 1; i > 0; i--) {
    // u has 24 random bits, so j is uniform up to a bias below n / 2^24.
    const j = Math.floor(u[n - 1 - i]! * (i + 1));
    const t = out[i]!;
    out[i] = out[j]!;
    out[j] = t;
  }
  return out;
}

/** The common number of samples (first dim) of `tensors`; throws naming `op` if they differ. */
export function sampleCount(op: string, tensors: readonly Tensor[]): number {
  if (tensors.length === 0) throw new ValueError(`${op}: needs at least one tensor`);
  for (const t of tensors) {
    if (!(t instanceof Tensor)) throw new ValueError(`${op}: every item must be a tensor (got ${typeof t})`);
    if (t.ndim === 0) throw new ShapeError(`${op}: tensors need a sample dim, got a 0-d tensor`);
  }
  const n = tensors[0]!.shape[0]!;
  if (tensors.some((t) => t.shape[0] !== n)) {
    throw new ShapeError(`${op}: tensors must have the same size in dim 0 (got ${tensors.map((t) => fmtShape(t.shape)).join(', ')})`);
  }
  return n;
}

/** Options of `trainTestSplit`. */
export interface SplitOptions {
  /** Fraction of the samples held out for testing, in (0, 1); the count rounds up, as in scikit-learn. Default 0.2. */
  testFraction?: number;
  /** Seed of the shuffle. Default 0. */
  seed?: number;
  /** Shuffle before splitting (default true); false keeps the last samples for testing. */
  shuffle?: boolean;
}

/**
 * Splits tensors that share dim 0 (features, labels, …) into train and test parts with
 * the same seeded row order: `const { train: [xTr, yTr], test: [xTe, yTe] } = trainTestSplit([x, y])`.
 */
export function trainTestSplit<T extends Tensor[]>(tensors: readonly [...T], options: SplitOptions = {}): { train: T; test: T } {
  const { testFraction = 0.2, seed = 0, shuffle = true } = options;
  const n = sampleCount('trainTestSplit', tensors);
  if (!(testFraction > 0 && testFraction < 1)) throw new ValueError(`trainTestSplit: testFraction must be in (0, 1) (got ${testFraction})`);
  const nTest = Math.ceil(testFraction * n);
  const nTrain = n - nTest;
  if (nTrain === 0) throw new ValueError(`trainTestSplit: testFraction ${testFraction} of ${n} samples leaves none for training`);
  let order: Int32Array;
  if (shuffle) order = permutation(n, seed);
  else {
    order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
  }
  const trainIdx = tensor(order.subarray(0, nTrain));
  const testIdx = tensor(order.subarray(nTrain));
  return {
    train: tensors.map((t) => indexSelect(t, 0, trainIdx)) as T,
    test: tensors.map((t) => indexSelect(t, 0, testIdx)) as T,
  };
}
