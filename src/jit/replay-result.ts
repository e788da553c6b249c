/** What a replay of a compiled variant returns. */
import type { Guard } from './trace.js';

/** A replay's outcome: the result, or the first guard that did not hold. */
export type ReplayResult =
  | { ok: true; value: unknown }
  | { ok: false; guard: Guard; got: number[] | 'null' | 'a tensor' };

