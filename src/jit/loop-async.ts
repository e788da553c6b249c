/**
 * Lifted loops in async functions: the runtime of `await __kiln.liftAsync(...)`, which the
 * source transform writes for a liftable tensor loop inside an async function (and
 * `liftDoAsync`, `liftForAsync` for `do…while` and `for`).
 *
 * Why the async function and not another way: a loop on WebGPU whose body does not fuse into
 * one kernel (a matmul, a reduction) needs its condition on the host, and the host gets it
 * only by waiting for a readback. A synchronous function cannot wait (there is no blocking
 * readback in WebGPU), and returning the loop variables lazily would make every later read
 * of them wait on work the user cannot see. An async function can: the loop it awaits runs
 * host-driven (./loop-host.ts), many iterations per readback, and jit of an async function
 * returns a promise already. A synchronous function with such a loop gets an error that
 * names the loop and says to make the function async (./loop-symbolic.ts).
 *
 * Loops over CPU tensors run as in a synchronous function (./loop-hook.ts): their reads are
 * synchronous, and the promise is settled when the loop is done.
 */
import { Tensor } from '../tensor.js';
import { activeTrace } from './context.js';
import { HostLoop, hostLoopNote } from './loop-host.js';
import { runLoop, BREAK, type LoopKind, type LoopState } from './loop-hook.js';
import { endSymbolic, needsSymbolicTrace, noteNotLifted, recordSymbolically } from './loop-symbolic.js';
import { DeviceLoop, KERNEL_LOOP_NOTE } from './loop-device.js';
import { atSite } from './site.js';
import type { Trace } from './trace.js';

/** A loop condition's truth, read asynchronously: a tensor's one element (nonzero, not NaN), else the value's. */
async function truthAsync(
  value: unknown, site: string, truth: (value: unknown, site: string) => unknown,
): Promise<boolean> {
  if (!(value instanceof Tensor) || value.device === 'cpu') return Boolean(truth(value, site));
  return Boolean(await atSite(site, () => value.itemAsync()));
}

/** Runs the loop as `runLoop` does (./loop-hook.ts), awaiting conditions that live on WebGPU. */
export async function runLoopAsync(
  site: string, test: () => unknown, body: () => unknown, state: LoopState, kind: LoopKind,
  update: (() => void) | undefined, truth: (value: unknown, site: string) => unknown,
): Promise<void> {
  if (!needsSymbolicTrace(state.get())) return runLoop(site, test, body, state, kind, update, truth);
  /** One pass of body and update; false after `break`. */
  const step = (): boolean => {
    if (body() === BREAK) return false;
    update?.();
    return true;
  };
  const native = async (): Promise<void> => {
    while (await truthAsync(test(), site, truth)) if (!step()) return;
  };
  if (kind === 1 && !step()) return;
  const trace = activeTrace();
  if (trace === undefined || !trace.liftLoops) return native();
  return traceAsync(trace, site, test, step, state, native);
}

/**
 * Records the loop symbolically (./loop-symbolic.ts) and runs it on the device: as one
 * kernel when it fits one, host-driven otherwise; a loop that does not lift runs natively,
 * each condition a guard.
 */
async function traceAsync(
  trace: Trace, site: string, test: () => unknown, step: () => boolean, state: LoopState, native: () => Promise<void>,
): Promise<void> {
  const loop = recordSymbolically(trace, site, test, step, state);
  if (!loop.ok) {
    noteNotLifted(trace, site, loop.reason);
    return native();
  }
  const numbers = trace.numbers.map((n) => n ?? 0);
  const { plan, lift } = loop;
  if (plan.kind === 'kernel') {
    const run = trace.paused(() => new DeviceLoop(lift.params, plan.spec).run(loop.operands, numbers));
    state.set!(run.results);
    return endSymbolic(trace, site, loop, run.results, KERNEL_LOOP_NOTE);
  }
  let results: Tensor[];
  try {
    const host = new HostLoop(lift.params, trace.passes);
    ({ results } = await host.run(loop.operands, numbers, (record) => trace.paused(record)));
  } catch (e) {
    trace.rollback(loop.mark);
    throw e;
  }
  state.set!(results);
  endSymbolic(trace, site, loop, results, hostLoopNote(plan.reason));
}
