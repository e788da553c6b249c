/**
 * Tracing a lifted loop over WebGPU tensors without reading its condition. A WebGPU tensor
 * refuses a synchronous read, so the native recording (./loop-hook.ts) cannot learn the
 * trip count on the first call. The loop's iterations are recorded symbolically instead:
 * the condition and the body run SYMBOLIC_ITERATIONS times on the GPU tensors (recording
 * kernels, reading nothing), each condition ending in an observe node whose value nobody
 * waits for, and the recording is compared and collapsed by the same analysis the CPU uses
 * (./loop-lift.ts), giving the same loop node. The loop variables are then set back to
 * their first values and the lifted loop runs on the device from them: as one kernel
 * (./loop-device.ts), which gives the call's results whatever the trip count (zero
 * included); a loop that does not fit one kernel needs the host to read its condition,
 * which only an async function can wait for (./loop-async.ts, ./loop-host.ts).
 *
 * Why this and not the alternatives: CPU shadows of the loop variables would copy them to
 * the host, which is a readback and so needs an `await` the synchronous function does not
 * have; an async condition that the transform awaits would change the user's function from
 * synchronous to async. Running the body speculatively costs nothing the user sees, since
 * a liftable body is pure tensor code (no guard, write, random draw or `.grad`), and the
 * speculative values are dropped when the recording collapses.
 */
import { Tensor } from '../tensor.js';
import { JitError } from '../../runtime/errors.js';
import { liftLoop, type LoopEvaluation, type LoopLift } from './loop-lift.js';
import { DeviceLoop, KERNEL_LOOP_NOTE, planDeviceLoop, type DeviceLoopPlan } from './loop-device.js';
import type { LoopState } from './loop-hook.js';
import type { Trace, TraceMark } from './trace.js';

/** Iterations recorded: two, so that the comparison sees a loop variable's second value come from its first. */
export const SYMBOLIC_ITERATIONS = 2;

/** True when a loop over these values must be traced symbolically: one of them lives on WebGPU. */
export function needsSymbolicTrace(values: readonly unknown[]): boolean {
  return values.some((v) => v instanceof Tensor && v.device === 'webgpu');
}

/** A symbolic recording that lifted (its mark still open: the caller ends or rolls it back), or why it did not. */
export type SymbolicLoop =
  | { ok: true; mark: TraceMark; lift: Extract<LoopLift, { ok: true }>; plan: DeviceLoopPlan; operands: Tensor[] }
  | { ok: false; reason: string };

/**
 * Records the loop at `site` symbolically. When it lifts, the loop variables are back at
 * their first values and the result says how the loop runs on the device; otherwise the
 * recording is rolled back, the loop variables restored, and the result says why.
 */
export function recordSymbolically(
  trace: Trace, site: string, test: () => unknown, step: () => boolean, state: LoopState,
): SymbolicLoop {
  const initial = state.get();
  const set = state.set;
  const nodes = trace.graph.nodes;
  let reason: string | undefined;
  const ids = (values: readonly unknown[]): number[] => values.map((v, j) => {
    if (v instanceof Tensor) return trace.idOf(v);
    reason ??= `loop variable ${j + 1} holds ${v === undefined ? 'undefined' : `a ${typeof v}`}, not a tensor`;
    return -1;
  });
  if (set === undefined) reason = 'its loop variables cannot be assigned from outside it';
  else if (initial.some((v) => v instanceof Tensor && v.requiresGrad)) {
    reason = 'its tensors require grad (autograd does not see inside a lifted loop; run it under noGrad to lift it)';
  }
  const mark = trace.beginLoop();
  try {
    const evals: LoopEvaluation[] = [];
    let current = ids(initial);
    for (let k = 0; reason === undefined; k++) {
      const testStart = nodes.length;
      const value = test();
      if (!(value instanceof Tensor)) {
        reason = 'its condition is not a tensor';
        break;
      }
      // The condition's value is never waited for: the node only marks where it was taken.
      trace.onRead(value, [], 'a loop condition (traced without reading it)');
      const e: LoopEvaluation = { state: current, testStart, testEnd: nodes.length, afterTest: ids(state.get()) };
      evals.push(e);
      if (k === SYMBOLIC_ITERATIONS) break;
      if (!step()) reason = 'it was left with break';
      e.bodyEnd = nodes.length;
      current = ids(state.get());
    }
    const lift = reason === undefined ? liftLoop(trace.graph, mark.nodes, evals, current, site) : undefined;
    if (lift !== undefined && !lift.ok) reason = lift.reason;
    if (lift?.ok === true) {
      const invariants = lift.operands.slice(lift.params.carried).map((id) => trace.loopTensor(id));
      if (invariants.every((t) => t !== undefined)) {
        set!(initial);
        const operands = [...initial as Tensor[], ...invariants as Tensor[]];
        return { ok: true, mark, lift, plan: planDeviceLoop(lift.params), operands };
      }
      reason = 'a loop-invariant tensor it reads was not seen while tracing';
    }
  } catch (e) {
    trace.rollback(mark);
    set?.(initial);
    throw e;
  }
  trace.rollback(mark);
  set?.(initial);
  return { ok: false, reason: reason! };
}

/** Ends the recording of a loop that lifted: its loop node with `final` as the values after it, and its note. */
export function endSymbolic(
  trace: Trace, site: string, loop: Extract<SymbolicLoop, { ok: true }>, final: Tensor[], how: string,
): void {
  trace.endLoop(loop.mark, { lifted: loop.lift, final });
  const { carried } = loop.lift.params;
  trace.controlNotes.set(site, `loop at ${site}: lifted into one loop node (${carried} loop variables, `
    + `${loop.lift.operands.length - carried} loop-invariant tensors; traced symbolically, without reading its `
    + `condition); ${how}`);
}

/** Notes why the loop at `site` was not lifted. */
export function noteNotLifted(trace: Trace, site: string, reason: string): void {
  trace.controlNotes.set(site, `loop at ${site}: not lifted, ${reason}; each iteration's condition is a guard`);
}

/**
 * Records the loop at `site` symbolically and, when it lifts into a loop that runs on the
 * device as one kernel, runs it there; when it lifts but needs the host to read its
 * condition, throws (a synchronous function cannot wait for a readback; see
 * ./loop-async.ts); otherwise runs `native` (which reads the condition, and so fails as a
 * WebGPU read in a synchronous function does).
 */
export function traceSymbolically(
  trace: Trace, site: string, test: () => unknown, step: () => boolean, state: LoopState, native: () => void,
): void {
  const loop = recordSymbolically(trace, site, test, step, state);
  if (!loop.ok) {
    noteNotLifted(trace, site, loop.reason);
    return native();
  }
  const { plan } = loop;
  if (plan.kind === 'none') {
    trace.rollback(loop.mark);
    throw new JitError(`jit: the loop at ${site} runs on WebGPU and does not fuse into one kernel (${plan.reason}), so `
      + 'the host must read its condition, which a synchronous function cannot wait for; make the function async '
      + '(the source transform then awaits the loop, which runs host-driven with batched condition readbacks), or '
      + 'keep its condition and body elementwise over one element so that the whole loop runs as one kernel');
  }
  const numbers = trace.numbers.map((n) => n ?? 0);
  const run = trace.paused(() => new DeviceLoop(loop.lift.params, plan.spec).run(loop.operands, numbers));
  state.set!(run.results);
  endSymbolic(trace, site, loop, run.results, KERNEL_LOOP_NOTE);
}
