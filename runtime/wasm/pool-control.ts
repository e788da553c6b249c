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
 * A worker's slot: job sequence number, ready flag, kernel id, argument count, then the
 * arguments as float64s (two int32s each; HEADER and SLOT are even, so they are 8-byte aligned).
 */
export const SEQ = 0, READY = 1, KERNEL = 2, ARGC = 3, ARGS = 4, SLOT = ARGS + 2 * MAX_ARGS;
/** Workers a pool can have. */
export const MAX_WORKERS = 64;

/** The Float64Array index of the first argument of the slot at int32 index `slot`. */
export function argIndex(slot: number): number {
  return (slot + ARGS) / 2;
}
