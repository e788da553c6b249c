/**
 * Tracing a lifted loop over WebGPU tensors without reading its condition. A WebGPU tensor
 * refuses a synchronous read, so the native recording (./loop-hook.ts) cannot learn the
 * trip count on the first call. The loop's iterations are recorded symbolically instead:
 * the condition and the body run SYMBOLIC_ITERATIONS times on the GPU tensors (recording
 * kernels, reading nothing), each condition ending in an observe node whose value nobody
 * waits for, and the recording is compared and collapsed by the same analysis the CPU uses
 * (./loop-lift.ts), giving the same loop node. The loop variables are then set back to
 * their first values and the lifted loop runs on the device from them (./loop-device.ts),
 * which gives the call's results, whatever the trip count (zero included).
 *
 * Why this and not the alternatives: CPU shadows of the loop variables would copy them to
 * the host, which is a readback and so needs an `await` the synchronous function does not
 * have; an async condition that the transform awaits would change the user's function from
 * synchronous to async. Running the body speculatively costs nothing the user sees, since
 * a liftable body is pure tensor code (no guard, write, random draw or `.grad`), and the
 * speculative values are dropped when the recording collapses.
 */
import { Tensor } from '../tensor.js';
import { liftLoop, type LoopEvaluation } from './loop-lift.js';
import { DeviceLoop, deviceLoopNote, planDeviceLoop } from './loop-device.js';
import type { LoopState } from './loop-hook.js';
import type { Trace } from './trace.js';

/** Iterations recorded: two, so that the comparison sees a loop variable's second value come from its first. */
export const SYMBOLIC_ITERATIONS = 2;

/** True when a loop over these values must be traced symbolically: one of them lives on WebGPU. */
export function needsSymbolicTrace(values: readonly unknown[]): boolean {
  return values.some((v) => v instanceof Tensor && v.device === 'webgpu');
}

/**
 * Records the loop at `site` symbolically and, when it lifts into a loop that runs on the
 * device, runs it there; otherwise restores the loop variables and runs `native` (which
 * reads the condition, and so fails as a WebGPU read in a synchronous function does).
 */
export function traceSymbolically(
  trace: Trace, site: string, test: () => unknown, step: () => boolean, state: LoopState, native: () => void,
): void {
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
  let ended = false;
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
      const plan = planDeviceLoop(lift.params);
      const invariants = lift.operands.slice(lift.params.carried).map((id) => trace.loopTensor(id));
      if (plan.kind === 'kernel' && invariants.every((t) => t !== undefined)) {
        const numbers = trace.numbers.map((n) => n ?? 0);
        const loop = new DeviceLoop(lift.params, plan.spec);
        const run = trace.paused(() => loop.run([...initial as Tensor[], ...invariants as Tensor[]], numbers));
        set!(run.results);
        trace.endLoop(mark, { lifted: lift, final: run.results });
        ended = true;
        const { carried } = lift.params;
        trace.controlNotes.set(site, `loop at ${site}: lifted into one loop node (${carried} loop variables, `
          + `${lift.operands.length - carried} loop-invariant tensors; traced symbolically, without reading its `
          + `condition); ${deviceLoopNote(plan)}`);
        return;
      }
      reason = `it lifted into one loop node, but ${deviceLoopNote(plan)}`;
    }
  } finally {
    if (!ended) {
      trace.rollback(mark);
      set?.(initial);
    }
  }
  trace.controlNotes.set(site, `loop at ${site}: not lifted, ${reason}; each iteration's condition is a guard`);
  native();
}
