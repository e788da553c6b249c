/**
 * The runtime side of loop lifting. The source transform turns a loop whose shape allows it
 * (compiler/source/loops.ts: no `return`, `await` or `var` in its body, no jump out of it)
 * into closures, `while (test) body` becoming
 *
 *   __kiln.lift(site, () => (test), () => { body }, () => [a, b])
 *
 * where `a, b` are the variables the loop assigns that live outside it (`break` in the body
 * becomes `return 1`, `continue` a plain `return`); a sixth argument, `(v) => { [a, b] = v; }`,
 * sets them. Outside a trace this is the loop as written. While tracing, it is still the
 * loop as written (so results are right at once), and each evaluation of the test and of
 * the body is marked in the recording; when the loop ends, src/jit/loop-lift.ts decides
 * whether the iterations collapse into one loop node, and the trace notes what it decided
 * for explain().
 *
 * Recording costs O(1) iterations: once CONFIRMING iterations agree (the loop lifts as far
 * as it has run), the remaining ones run as the lifted loop would on replay, compiled
 * (./loop-run.ts), and the setter hands their results to the loop variables. That is sound
 * for the same reason lifting is: a liftable body has no guard, and JavaScript values it
 * branches on are loop-invariant (a JS value the loop changes is a loop variable, which
 * keeps it from lifting). The seed loop with 100,000 iterations: 7.4 s to trace recorded
 * in full, a few milliseconds this way.
 */
import { Tensor } from '../tensor.js';
import { activeTrace } from './context.js';
import { liftLoop, type LoopEvaluation } from './loop-lift.js';
import { LoopRunner } from './loop-run.js';
import { needsSymbolicTrace, traceSymbolically } from './loop-symbolic.js';
import type { Trace } from './trace.js';

/** Iterations recorded and compared before the rest of a liftable loop runs compiled. */
export const CONFIRMING = 4;

/** A loop's variables: their current values, and (from the transform) a setter. */
export interface LoopState {
  get: () => unknown[];
  set: ((values: unknown[]) => void) | undefined;
}

/** What the body closure returns for `break` (`continue` returns nothing, like falling off the end). */
export const BREAK = 1;

/** 0: `while` and `for` (test first); 1: `do…while` (body first). */
export type LoopKind = 0 | 1;

/** Runs the loop; under a trace, records it so it can be lifted. `truth`: the hooks' condition conversion. */
export function runLoop(
  site: string, test: () => unknown, body: () => unknown, state: LoopState, kind: LoopKind,
  update: (() => void) | undefined, truth: (value: unknown, site: string) => unknown,
): void {
  /** One pass of body and update; false after `break`. */
  const step = (): boolean => {
    if (body() === BREAK) return false;
    update?.();
    return true;
  };
  if (kind === 1 && !step()) return;
  const trace = activeTrace();
  if (trace === undefined || !trace.liftLoops) {
    while (truth(test(), site)) if (!step()) return;
    return;
  }
  recordLoop(trace, site, test, step, state, truth);
}

/**
 * Runs the rest of a loop compiled, from `values` (the loop variables when the condition
 * was last evaluated), if the iterations recorded so far lift; returns the lift and the
 * iterations run, or undefined (then the loop goes on natively).
 */
function fastForward(
  trace: Trace, site: string, start: number, evals: readonly LoopEvaluation[], current: number[], values: readonly Tensor[],
  state: LoopState,
) {
  if (state.set === undefined || values.some((t) => t.requiresGrad || t.device !== 'cpu')) return undefined;
  const lift = liftLoop(trace.graph, start, evals, current, site);
  if (!lift.ok) return undefined;
  const invariants = lift.operands.slice(lift.params.carried).map((id) => trace.loopTensor(id));
  if (invariants.some((t) => t === undefined || t.device !== 'cpu')) return undefined;
  const numbers = trace.numbers.map((n) => n ?? 0);
  const runner = new LoopRunner(lift.params, trace.passes);
  const run = trace.paused(() => runner.run([...values, ...invariants as Tensor[]], numbers));
  state.set(run.results);
  return { lift, final: run.results, iterations: run.iterations };
}

function recordLoop(
  trace: Trace, site: string, test: () => unknown, step: () => boolean, state: LoopState,
  truth: (value: unknown, site: string) => unknown,
): void {
  const native = () => {
    while (truth(test(), site)) if (!step()) break;
  };
  // A loop over WebGPU tensors cannot read its condition while tracing (./loop-symbolic.ts).
  if (needsSymbolicTrace(state.get())) return traceSymbolically(trace, site, test, step, state, native);
  const nodes = trace.graph.nodes;
  let reason: string | undefined;
  let values: unknown[] = [];
  const ids = (): number[] => (values = state.get()).map((v, j) => {
    if (v instanceof Tensor) return trace.idOf(v);
    reason ??= `loop variable ${j + 1} holds ${v === undefined ? 'undefined' : `a ${typeof v}`}, not a tensor`;
    return -1;
  });
  const initial = ids();
  const mark = trace.beginLoop();
  const evals: LoopEvaluation[] = [];
  let ended = false;
  try {
    let current = initial;
    for (;;) {
      // A trace that gave up (./unroll.ts) records nothing more: the loop finishes natively.
      if (!trace.recording) {
        reason ??= 'the trace stopped recording';
        native();
        break;
      }
      const before = values;
      const testStart = nodes.length;
      const value = test();
      if (evals.length === 0 && !(value instanceof Tensor)) {
        // A loop on JS values (a counter, say) is plain JavaScript: nothing to lift or note.
        trace.endLoop(mark);
        ended = true;
        if (truth(value, site) && step()) while (truth(test(), site)) if (!step()) break;
        return;
      }
      if (!(value instanceof Tensor)) reason ??= 'its condition is not always a tensor';
      const holds = truth(value, site);
      const testEnd = nodes.length;
      const e: LoopEvaluation = { state: current, testStart, testEnd, afterTest: ids() };
      evals.push(e);
      if (!holds) break;
      if (reason === undefined && evals.length === CONFIRMING + 1) {
        const done = fastForward(trace, site, mark.nodes, evals, current, before as Tensor[], state);
        if (done !== undefined) {
          trace.endLoop(mark, { lifted: done.lift, final: done.final });
          ended = true;
          const total = CONFIRMING + done.iterations;
          const { carried } = done.lift.params;
          trace.controlNotes.set(site, `loop at ${site}: lifted into one loop node (${carried} loop variables, `
            + `${done.lift.operands.length - carried} loop-invariant tensors; traced with ${total} iterations)`);
          return;
        }
      }
      if (!step()) {
        reason ??= 'it was left with break';
        break;
      }
      e.bodyEnd = nodes.length;
      current = ids();
    }
    const finalValues = state.get() as Tensor[];
    if (reason === undefined && finalValues.some((t) => t.requiresGrad)) reason = 'its tensors require grad (autograd does not see inside a lifted loop; run it under noGrad to lift it)';
    if (reason === undefined) {
      const lift = liftLoop(trace.graph, mark.nodes, evals, current, site);
      if (lift.ok) {
        trace.endLoop(mark, { lifted: lift, final: finalValues });
        ended = true;
        trace.controlNotes.set(site, `loop at ${site}: lifted into one loop node (${lift.params.carried} loop variables, ${lift.operands.length - lift.params.carried} loop-invariant tensors; traced with ${evals.length - 1} iterations)`);
        return;
      }
      reason = lift.reason;
    }
  } finally {
    if (!ended) trace.endLoop(mark);
  }
  trace.controlNotes.set(site, `loop at ${site}: not lifted, ${reason}; each iteration's condition is a guard`);
}
