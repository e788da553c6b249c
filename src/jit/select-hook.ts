/**
 * The runtime side of selects. The source transform turns an `if` whose branches only
 * assign computed values to variables (compiler/source/selects.ts) into
 *
 *   __kiln.select(site, () => (test), () => { then }, () => { else }, () => [a, b], (v) => { [a, b] = v; })
 *
 * Outside a trace, or when the test is not a one-element CPU tensor, this is the `if` as
 * written. Under a trace, both branches run and each variable gets `where(test, then-value,
 * else-value)`: the same values the branch taken gives, bit for bit, with no guard, so
 * calls that take the other branch replay the same variant (and a loop whose body has such
 * an `if` can be lifted). A branch that records anything but computation (a guard, a write,
 * a random draw), assigns something other than a tensor of one shape and dtype on both
 * sides, throws, or computes more than SELECT_MAX_ELEMENTS elements is rolled back, and the
 * `if` runs as written with its condition as a guard; explain() says which it was.
 */
import type { Node } from '../../compiler/ir/graph.js';
import { sizeOf } from '../../compiler/ir/shape.js';
import { logicalAnd, ne, eq, where } from '../ops/elementwise.js';
import { Tensor } from '../tensor.js';
import { activeTrace } from './context.js';

/** Past this many elements computed by the two branches together, a guard is the cheaper choice. */
export const SELECT_MAX_ELEMENTS = 1 << 20;

function impurity(n: Node): string | undefined {
  switch (n.op) {
    case 'write': return 'a branch writes a tensor in place';
    case 'observe': return 'a branch reads a tensor value';
    case 'setGrad': return "a branch assigns a `.grad`";
    case 'random': return 'a branch draws random numbers';
    case 'loop': case 'loopResult': return 'a branch contains a lifted loop';
    default: return undefined;
  }
}

/** Runs the `if`; under a trace, as a select when it can be one. `truth`: the hooks' condition conversion. */
export function runSelect(
  site: string, test: () => unknown, then: () => void, otherwise: (() => void) | undefined,
  get: () => unknown[], set: (values: unknown[]) => void, truth: (value: unknown, site: string) => unknown,
): void {
  const value = test();
  const trace = activeTrace();
  const plain = (): void => {
    if (truth(value, site)) then();
    else otherwise?.();
  };
  if (trace === undefined || !trace.liftLoops || !(value instanceof Tensor) || value.size !== 1 || value.device !== 'cpu') return plain();
  const before = get();
  const mark = trace.beginLoop();
  let reason: string | undefined;
  let a: unknown[] = [], b: unknown[] = [];
  try {
    then();
    a = get();
    set(before);
    otherwise?.();
    b = get();
    set(before);
    const nodes = trace.graph.nodes.slice(mark.nodes);
    reason = nodes.map(impurity).find((r) => r !== undefined);
    const elements = nodes.reduce((n, x) => n + sizeOf(x.shape), 0);
    if (reason === undefined && elements > SELECT_MAX_ELEMENTS) reason = `its branches compute ${elements} elements, more than a guard costs`;
    reason ??= a.map((x, j) => {
      const y = b[j];
      if (x === y) return undefined;
      if (!(x instanceof Tensor) || !(y instanceof Tensor)) return `variable ${j + 1} is not a tensor in both branches`;
      if (x.dtype !== y.dtype || x.shape.join() !== y.shape.join()) return `variable ${j + 1} is ${x.dtype}[${x.shape}] in one branch and ${y.dtype}[${y.shape}] in the other`;
      return undefined;
    }).find((r) => r !== undefined);
  } catch (error) {
    set(before);
    reason = `a branch threw (${error instanceof Error ? error.message : String(error)})`;
  }
  if (reason !== undefined) {
    trace.rollback(mark);
    trace.controlNotes.set(site, `if at ${site}: a guard, not a select: ${reason}`);
    return plain();
  }
  trace.endLoop(mark);
  // The truth of a tensor: nonzero and not NaN, as one bool that `where` broadcasts.
  const c = (value.dtype === 'bool' ? value : logicalAnd(ne(value, 0), eq(value, value))).reshape([]);
  set(a.map((x, j) => (x === b[j] ? x : where(c, x as Tensor, b[j] as Tensor))));
  trace.controlNotes.set(site, `if at ${site}: a select (both branches computed, where picks the values); no guard`);
}
