/** Mini-batches over in-memory tensors, in the manner of PyTorch's DataLoader over a TensorDataset. */
import { ValueError } from '../../runtime/errors.js';
import { validateSeed } from '../../compiler/random/philox.js';
import { tensor } from '../ops/creation.js';
import { indexSelect } from '../ops/indexing.js';
import type { Tensor } from '../tensor.js';
import { permutation, sampleCount } from './split.js';

/** Options of `DataLoader`. */
export interface DataLoaderOptions {
  /** Samples per batch (the last batch may be smaller unless `dropLast`). */
  batchSize: number;
  /** Visit the samples in a fresh seeded order every epoch. Default false. */
  shuffle?: boolean;
  /** Seed of the shuffles; epoch e uses its own stretch of this seed's stream. Default 0. */
  seed?: number;
  /** Skip the last batch when it would be smaller than batchSize. Default false. */
  dropLast?: boolean;
}

/**
 * Iterates over tensors that share dim 0 in batches: `for (const [x, y] of loader)`. Each
 * iteration is one epoch; with `shuffle`, epoch e's order depends only on (seed, e), so a
 * run is reproducible and can be resumed at an epoch by setting `epoch`.
 */
export class DataLoader<T extends Tensor[]> implements Iterable<T> {
  readonly tensors: T;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  /** The epoch the next iteration runs; each iteration advances it. */
  epoch = 0;
  readonly #n: number;

  constructor(tensors: readonly [...T], options: DataLoaderOptions) {
    this.#n = sampleCount('DataLoader', tensors);
    const { batchSize, shuffle = false, seed = 0, dropLast = false } = options;
    if (!Number.isSafeInteger(batchSize) || batchSize <= 0) throw new ValueError(`DataLoader: batchSize must be a positive integer (got ${batchSize})`);
    validateSeed(seed, 'DataLoader');
    this.tensors = tensors.slice() as T;
    this.batchSize = batchSize;
    this.shuffle = shuffle;
    this.seed = seed;
    this.dropLast = dropLast;
  }

  /** Number of samples. */
  get numSamples(): number {
    return this.#n;
  }

  /** Batches per epoch. */
  get length(): number {
    return this.dropLast ? Math.floor(this.#n / this.batchSize) : Math.ceil(this.#n / this.batchSize);
  }

  /** The sample order of `epoch`. */
  order(epoch = this.epoch): Int32Array {
    if (this.shuffle) return permutation(this.#n, this.seed, epoch * this.#n);
    const out = new Int32Array(this.#n);
    for (let i = 0; i < this.#n; i++) out[i] = i;
    return out;
  }

  [Symbol.iterator](): Iterator<T> {
    // The epoch is taken when iteration starts, not at the first next(), so two loops
    // started one after the other always see consecutive epochs.
    const order = this.order(this.epoch++);
    return this.#batches(order);
  }

  *#batches(order: Int32Array): Generator<T> {
    const batches = this.length;
    for (let b = 0; b < batches; b++) {
      const index = tensor(order.subarray(b * this.batchSize, Math.min((b + 1) * this.batchSize, this.#n)));
      yield this.tensors.map((t) => indexSelect(t, 0, index)) as T;
    }
  }
}
