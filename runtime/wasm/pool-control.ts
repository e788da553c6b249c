/**
 * The layout of the control block that kiln's worker pool shares between the calling thread
 * and its workers (runtime/wasm/threads.ts, and the browser's worker program in
 * runtime/wasm/web-worker.ts), in int32s: the count of jobs still running, a failure flag,
 * then one slot per worker.
 */

/** Header fields: jobs still running, and whether one failed. */
export const PENDING = 0, FAILED = 1, HEADER = 2;
/** A worker's slot: job sequence number, ready flag, kernel id, argument count, arguments. */
export const SEQ = 0, READY = 1, KERNEL = 2, ARGC = 3, ARGS = 4, MAX_ARGS = 12, SLOT = ARGS + MAX_ARGS;
/** Workers a pool can have. */
export const MAX_WORKERS = 64;
