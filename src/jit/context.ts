/**
 * Which trace, if any, is recording right now. Async functions keep their trace across
 * awaits through AsyncLocalStorage where the platform has it (Node); elsewhere traced async
 * calls of one jit'd function are serialized by the caller.
 */
import type { Trace } from './trace.js';

interface Store<T> {
  getStore(): T | undefined;
  run<R>(store: T, fn: () => R): R;
}

type ALSConstructor = new <T>() => Store<T>;

function asyncLocalStorage(): ALSConstructor | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => { AsyncLocalStorage?: ALSConstructor } } }).process;
  return proc?.getBuiltinModule?.('node:async_hooks')?.AsyncLocalStorage;
}

const ALS = asyncLocalStorage();
const als: Store<Trace> | undefined = ALS ? new ALS<Trace>() : undefined;
let syncTrace: Trace | undefined;
let running = 0;

/** The trace recording in this (async) context, if any (none while it is paused or abandoned). */
export function activeTrace(): Trace | undefined {
  if (running === 0) return undefined;
  const trace = als ? als.getStore() : syncTrace;
  return trace?.recording ? trace : undefined;
}

/** True when the platform keeps a trace across awaits. */
export const tracesFollowAwaits = als !== undefined;

/** Runs `fn` with `trace` recording; for async functions, until the returned promise settles. */
export function runTraced<R>(trace: Trace, fn: () => R): R {
  running++;
  const previous = syncTrace;
  syncTrace = trace;
  let settled = true;
  try {
    const result = als ? als.run(trace, fn) : fn();
    if (result instanceof Promise) {
      settled = false;
      return result.finally(() => running--) as R;
    }
    return result;
  } finally {
    syncTrace = previous;
    if (settled) running--;
  }
}
