/** What a replay of a compiled variant returns, and how observed values are compared with traced ones. */
import type { Guard } from './trace.js';

/** A replay's outcome: the result, or the first guard that did not hold. */
export type ReplayResult =
  | { ok: true; value: unknown }
  | { ok: false; guard: Guard; got: number[] | 'null' | 'a tensor' };

/** Whether observed values equal the expected ones (NaN matches NaN). */
export function sameValues(a: ArrayLike<number>, b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i]) && !(a[i] !== a[i] && b[i] !== b[i])) return false;
  return true;
}
