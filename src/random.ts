/**
 * The global random stream: a seed and a position in Philox's counter space. Every draw
 * takes the next `size` counters, so the same seed gives the same numbers in eager and
 * jit, on every backend, however the draws are split.
 */
import { validateSeed } from '../compiler/random/philox.js';
import { ValueError } from '../runtime/errors.js';

/** PyTorch's default seed, so an unseeded program is still reproducible. */
const DEFAULT_SEED = 67280421310721;

const state = { seed: DEFAULT_SEED, offset: 0 };

/** Restarts the random stream from `seed` (a non-negative safe integer). */
export function manualSeed(seed: number): void {
  try {
    validateSeed(seed, 'manualSeed');
  } catch (e) {
    // The generator's own check throws RangeError; users get kiln's error type for a bad value.
    throw e instanceof RangeError ? new ValueError(e.message) : e;
  }
  state.seed = seed;
  state.offset = 0;
}

/** The seed and the first counter of the next `count` random elements; advances the stream. */
export function takeCounters(count: number): { seed: number; offset: number } {
  const at = { seed: state.seed, offset: state.offset };
  state.offset += count;
  return at;
}

/** The current position of the random stream (save it to replay draws). */
export function randomState(): { seed: number; offset: number } {
  return { ...state };
}

/** Restores a position saved by `randomState`. */
export function setRandomState(s: { seed: number; offset: number }): void {
  validateSeed(s.seed, 'setRandomState');
  if (!Number.isSafeInteger(s.offset) || s.offset < 0) throw new RangeError(`setRandomState: offset must be a non-negative safe integer (got ${s.offset})`);
  state.seed = s.seed;
  state.offset = s.offset;
}
