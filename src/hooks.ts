/**
 * The runtime side of the control-flow source transform (compiler/source/transform.ts). The
 * transform rewrites conditions in jit'd functions into calls of `__kiln`, imported from
 * `kiln/hooks` (or, for code that imports kiln by a relative path, from the `hooks` file
 * next to the kiln entry it imports, so that both are the same instance of kiln).
 *
 * Plain JavaScript values pass through untouched, so a rewritten function computes what it
 * computed before on numbers, strings and objects. A tensor in a condition means what it
 * means in PyTorch: a one-element tensor is true when its element is nonzero (reading it is
 * a guard under jit, reported at the condition's original file:line:column); a larger one
 * is ambiguous, with the same error as a comparison of it in plain code.
 */
// Transformed modules import the hooks before anything else: loading kiln's entry first keeps
// its modules initializing in their usual order (they import one another in cycles).
import { compareValues, type ComparisonOp } from './jit/compare.js';
import { activeTrace } from './jit/context.js';
import './index.js';
import * as E from './ops/elementwise.js';
import { atSite } from './jit/site.js';
import { runLoop } from './jit/loop-hook.js';
import { runLoopAsync } from './jit/loop-async.js';
import { runSelect } from './jit/select-hook.js';
import { NOT_LIFTABLE } from '../compiler/source/loops.js';
import { Tensor } from './tensor.js';

export type { ComparisonOp };

const tensorOps: Record<ComparisonOp, (a: Tensor | number | boolean, b: Tensor | number | boolean) => Tensor> = {
  lt: E.lt, le: E.le, gt: E.gt, ge: E.ge, eq: E.eq, ne: E.ne, seq: E.eq, sne: E.ne,
};

const plainOps = compareValues;

function isScalar(x: unknown): x is number | boolean {
  return typeof x === 'number' || typeof x === 'boolean';
}

function isObject(x: unknown): boolean {
  return (typeof x === 'object' && x !== null) || typeof x === 'function';
}

/** The truth of a tensor: its one element read as a number (a guard under jit), nonzero and not NaN. */
function truth(t: Tensor, site: string): boolean {
  // Number() goes through Symbol.toPrimitive, which reads one element and calls larger
  // tensors ambiguous: conditions and plain comparisons fail the same way.
  return atSite(site, () => Boolean(Number(t)));
}

/** The hooks the rewritten code calls. */
export interface KilnHooks {
  /** A condition of `if`, `?:`, `!`, `&&`, `||`: a tensor becomes its truth, anything else passes through. */
  cond(value: unknown, site: string): unknown;
  /**
   * The test of a `while`, `do…while` or `for` that the transform could not turn into a
   * `lift` call (`why` indexes NOT_LIFTABLE in compiler/source/loops.ts): `cond`, and under a
   * trace a tensor test notes in explain() why the loop stays a guarded native loop.
   */
  loop(value: unknown, site: string, why?: number): unknown;
  /**
   * A `while` loop the transform restructured (see src/jit/loop-hook.ts): its test, its body
   * (returning 1 for `break`), its loop variables' current values and a setter of them.
   * Runs the loop; under a trace, a loop with a tensor test whose iterations all compute the
   * same thing becomes one loop node.
   */
  lift(site: string, test: () => unknown, body: () => unknown, state: () => unknown[], set?: (values: unknown[]) => void): void;
  /**
   * An `if` whose branches only assign computed values (see src/jit/select-hook.ts): under
   * a trace, a one-element tensor test picks the values with `where` instead of a guard.
   */
  select(site: string, test: () => unknown, then: () => void, otherwise: (() => void) | undefined, get: () => unknown[], set: (values: unknown[]) => void): void;
  /** `lift` for `do…while`: the body runs before the first test. */
  liftDo(site: string, body: () => unknown, test: () => unknown, state: () => unknown[], set?: (values: unknown[]) => void): void;
  /** `lift` for `for (init; test; update)`, after `init` ran: the update runs after each body. */
  liftFor(
    site: string, test: () => unknown, update: (() => void) | undefined, body: () => unknown, state: () => unknown[],
    set?: (values: unknown[]) => void,
  ): void;
  /**
   * `lift`, `liftDo` and `liftFor` as the transform writes them inside an async function,
   * awaited: a loop on WebGPU whose body does not fuse into one kernel reads its condition
   * back in batches (see src/jit/loop-async.ts).
   */
  liftAsync(
    site: string, test: () => unknown, body: () => unknown, state: () => unknown[], set?: (values: unknown[]) => void,
  ): Promise<void>;
  liftDoAsync(
    site: string, body: () => unknown, test: () => unknown, state: () => unknown[], set?: (values: unknown[]) => void,
  ): Promise<void>;
  liftForAsync(
    site: string, test: () => unknown, update: (() => void) | undefined, body: () => unknown, state: () => unknown[],
    set?: (values: unknown[]) => void,
  ): Promise<void>;
  /**
   * A comparison in a condition. With a tensor on either side and a tensor, number or
   * boolean on the other, a tensor comparison (so the guard reads the outcome, not the
   * operands, and a tensor condition stays a tensor). Otherwise the plain JS result; two
   * tensors under `===`/`!==` compare by identity, as in plain code.
   */
  cmp(a: unknown, b: unknown, op: ComparisonOp, site: string): unknown;
  /** Runs `read` with every guard it records reported at `site`. */
  site<R>(site: string, read: () => R): R;
}

function cond(value: unknown, site: string): unknown {
  return value instanceof Tensor ? truth(value, site) : value;
}

/** The hooks object that transformed modules import. */
export const __kiln: KilnHooks = Object.freeze({
  cond,
  loop(value: unknown, site: string, why?: number): unknown {
    if (value instanceof Tensor && why !== undefined) {
      const trace = activeTrace();
      const reason = NOT_LIFTABLE[why];
      if (trace !== undefined && reason !== undefined && !trace.controlNotes.has(site)) trace.controlNotes.set(site, `loop at ${site}: not lifted, ${reason}; each iteration's condition is a guard`);
    }
    return cond(value, site);
  },
  lift(site: string, test: () => unknown, body: () => unknown, state: () => unknown[], set?: (values: unknown[]) => void): void {
    runLoop(site, test, body, { get: state, set }, 0, undefined, cond);
  },
  liftDo(site: string, body: () => unknown, test: () => unknown, state: () => unknown[], set?: (values: unknown[]) => void): void {
    runLoop(site, test, body, { get: state, set }, 1, undefined, cond);
  },
  select(site: string, test: () => unknown, then: () => void, otherwise: (() => void) | undefined, get: () => unknown[], set: (values: unknown[]) => void): void {
    runSelect(site, test, then, otherwise, get, set, cond);
  },
  liftFor(
    site: string, test: () => unknown, update: (() => void) | undefined, body: () => unknown, state: () => unknown[],
    set?: (values: unknown[]) => void,
  ): void {
    runLoop(site, test, body, { get: state, set }, 0, update, cond);
  },
  liftAsync(
    site: string, test: () => unknown, body: () => unknown, state: () => unknown[], set?: (values: unknown[]) => void,
  ): Promise<void> {
    return runLoopAsync(site, test, body, { get: state, set }, 0, undefined, cond);
  },
  liftDoAsync(
    site: string, body: () => unknown, test: () => unknown, state: () => unknown[], set?: (values: unknown[]) => void,
  ): Promise<void> {
    return runLoopAsync(site, test, body, { get: state, set }, 1, undefined, cond);
  },
  liftForAsync(
    site: string, test: () => unknown, update: (() => void) | undefined, body: () => unknown, state: () => unknown[],
    set?: (values: unknown[]) => void,
  ): Promise<void> {
    return runLoopAsync(site, test, body, { get: state, set }, 0, update, cond);
  },
  cmp(a: unknown, b: unknown, op: ComparisonOp, site: string): unknown {
    const ta = a instanceof Tensor, tb = b instanceof Tensor;
    if (ta && tb ? op !== 'seq' && op !== 'sne' : (ta && isScalar(b)) || (tb && isScalar(a))) {
      return tensorOps[op](a as Tensor | number | boolean, b as Tensor | number | boolean);
    }
    // An object operand may convert itself (a tensor against a string, say): report its reads here.
    if (isObject(a) || isObject(b)) return atSite(site, () => plainOps[op](a, b));
    const result = plainOps[op](a, b);
    // A number argument the JIT feeds in per call: the branch this outcome picks is a guard on it.
    if (typeof a === 'number' && typeof b === 'number') atSite(site, () => activeTrace()?.onNumberCompare(a, b, op, result));
    return result;
  },
  site: atSite,
});
