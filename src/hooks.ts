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
   * The test of `while`, `do…while` or `for`, called once per evaluation. Today it is
   * `cond`; it is kept apart so that lifting a loop with a tensor condition into one
   * compiled loop can start here: it sees every iteration's condition, still a tensor.
   */
  loop(value: unknown, site: string): unknown;
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
  loop: cond,
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
