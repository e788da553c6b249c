/**
 * The layout of the control block that kiln's worker pool shares between the calling thread
 * and its workers (runtime/wasm/threads.ts, and the browser's worker program in
 * runtime/wasm/web-worker.ts), in int32s: the count of jobs still running, a failure flag,
 * then one slot per worker. A job's arguments are float64s (a kernel's scalars are f64 and
 * every i32 argument is exact as one), read through a Float64Array over the same block.
 */

/** Header fields: jobs still running, and whether one failed. */
export const PENDING = 0, FAILED = 1, HEADER = 2;
/** Job arguments a slot holds. */
export const MAX_ARGS = 40;
/**
 * A worker's slot: job sequence number, ready flag, kernel id, argument count, the job's
 * state, then the arguments as float64s (two int32s each; HEADER, ARGS and SLOT are even, so
 * they are 8-byte aligned).
 */
export const SEQ = 0, READY = 1, KERNEL = 2, ARGC = 3, STATE = 4, ARGS = 6, SLOT = ARGS + 2 * MAX_ARGS;
/**
 * A job's state: posted, then taken by whichever thread swaps it first (its worker, or the
 * calling thread once its own job is done, so a worker that is not on a core yet delays
 * nothing).
 */
export const POSTED = 1, TAKEN = 2;
/** Workers a pool can have. */
export const MAX_WORKERS = 64;

/** The Float64Array index of the first argument of the slot at int32 index `slot`. */
export function argIndex(slot: number): number {
  return (slot + ARGS) / 2;
}
