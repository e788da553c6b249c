/**
 * A throttle for Dawn's event polling in Node.
 *
 * While a mapAsync or onSubmittedWorkDone promise is pending, dawn.node polls for GPU
 * events by handing a native callback to `globalThis.setImmediate`, and the callback
 * re-arms itself on every tick. An otherwise idle JS thread therefore spins through the
 * event loop at full speed, taking a whole core from the GPU driver; with a CPU driver
 * (Mesa's lavapipe) that core is exactly what the shader would have run on.
 *
 * The throttle wraps setImmediate and recognises Dawn's callbacks (native functions
 * without a name that carry a `prototype`, as N-API creates them; JS callbacks, bound
 * functions and built-ins never match). For those only: a wait that has spun for longer
 * than `spinMs` starts sleeping in Atomics.wait before each poll, from `minSleepMs`
 * doubling up to `maxSleepMs`, so short waits keep their latency and long ones leave the
 * core to the driver. Any other JS work between two polls (a gap over `gapMs`) counts as
 * progress and restarts the spin, so the thread is never put to sleep while it is busy.
 */

/** How the throttle backs off. */
export interface ThrottleOptions {
  /** Spin this long at full speed before sleeping (ms). */
  spinMs?: number;
  /** First sleep (ms); each further poll of the same wait doubles it. */
  minSleepMs?: number;
  /** Longest sleep (ms): bounds the latency added to a wait. */
  maxSleepMs?: number;
  /** A gap this long between two polls means other work ran: the wait starts over (ms). */
  gapMs?: number;
}

/** Counters of the throttle's activity since it was first installed. */
export interface ThrottleStats {
  /** Dawn polls seen. */
  polls: number;
  /** Polls that slept first. */
  sleeps: number;
  /** Total time slept (ms). */
  sleptMs: number;
}

type SetImmediate = typeof globalThis.setImmediate;

// Measured on a 2-core machine with lavapipe (4M-element map kernel): sleeping from 0.05 ms
// up to 0.25 ms halved the wait against no throttle; caps of 1-2 ms gained nothing more and
// add latency to every wait that ends mid-sleep.
const DEFAULTS: Required<ThrottleOptions> = { spinMs: 0.1, minSleepMs: 0.05, maxSleepMs: 0.25, gapMs: 1 };

interface State {
  original: SetImmediate;
  patched: SetImmediate;
  installs: number;
  options: Required<ThrottleOptions>;
  lastEnd: number;
  waitStart: number;
  sleep: number;
  stats: ThrottleStats;
}

let state: State | undefined;
// Atomics.wait needs a shared Int32Array; nothing ever notifies it, so every wait times out.
// Made on first use: a page that is not cross-origin isolated has no SharedArrayBuffer, and
// only Dawn in Node (which always has one) ever sleeps here.
let cell: Int32Array | undefined;
const NATIVE = /^function\s*\(\)\s*\{\s*\[native code\]\s*\}$/;

/** True for the callbacks dawn.node's event polling passes to setImmediate. */
export function isDawnPoll(callback: unknown): boolean {
  return typeof callback === 'function' && callback.name === '' && Object.hasOwn(callback, 'prototype') &&
    NATIVE.test(Function.prototype.toString.call(callback));
}

function poll(s: State, callback: () => void): void {
  const now = performance.now();
  s.stats.polls++;
  if (now - s.lastEnd > s.options.gapMs) {
    s.waitStart = now;
    s.sleep = s.options.minSleepMs;
  } else if (now - s.waitStart > s.options.spinMs) {
    Atomics.wait((cell ??= new Int32Array(new SharedArrayBuffer(4))), 0, 0, s.sleep);
    s.stats.sleeps++;
    s.stats.sleptMs += s.sleep;
    s.sleep = Math.min(s.sleep * 2, s.options.maxSleepMs);
  }
  try {
    callback();
  } finally {
    s.lastEnd = performance.now();
  }
}

/**
 * Installs the throttle on `globalThis.setImmediate` (once; later calls count references)
 * and returns a function that removes this installation. Options of the first install win.
 */
export function installEventWaitThrottle(options: ThrottleOptions = {}): () => void {
  if (state === undefined) {
    const original = globalThis.setImmediate;
    const s: State = {
      original, patched: original, installs: 0, options: { ...DEFAULTS, ...options },
      lastEnd: -Infinity, waitStart: 0, sleep: 0, stats: { polls: 0, sleeps: 0, sleptMs: 0 },
    };
    const patched = function setImmediate(callback: unknown, ...args: unknown[]) {
      if (s.installs > 0 && args.length === 0 && isDawnPoll(callback)) return original(poll, s, callback as () => void);
      return (original as (cb: unknown, ...rest: unknown[]) => ReturnType<SetImmediate>)(callback, ...args);
    };
    // Keep util.promisify's custom hook and anything else keyed on the original.
    for (const key of Reflect.ownKeys(original)) {
      if (typeof key === 'symbol' || key === '__promisify__') Object.defineProperty(patched, key, Object.getOwnPropertyDescriptor(original, key)!);
    }
    s.patched = patched as SetImmediate;
    globalThis.setImmediate = s.patched;
    state = s;
  }
  const s = state;
  s.installs++;
  let removed = false;
  return () => {
    if (removed) return;
    removed = true;
    s.installs--;
    // Only undo our own patch: if something wrapped it since, the patch stays as a pass-through.
    if (s.installs === 0 && globalThis.setImmediate === s.patched) {
      globalThis.setImmediate = s.original;
      state = undefined;
    }
  };
}

/** True while at least one installation of the throttle is active. */
export function eventWaitThrottleActive(): boolean {
  return state !== undefined && state.installs > 0;
}

/** The throttle's counters (zeros when it is not installed). */
export function eventWaitThrottleStats(): ThrottleStats {
  return state ? { ...state.stats } : { polls: 0, sleeps: 0, sleptMs: 0 };
}
