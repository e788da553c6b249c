/**
 * The scan of a function's conditions (compiler/source/conditions.ts), which parses with
 * acorn: it lives beside the run-time rewrite (kiln/rewrite, part of Node's `kiln`), so a
 * browser bundle without the rewrite carries no parser. Without it, jit sees no scan: numbers
 * are then compiled per value (never fed in unseen) and no always-true condition is named.
 */
import { scanConditions, type ConditionScan } from '../../compiler/source/conditions.js';
import { Tensor } from '../tensor.js';

// Methods whose result is not a tensor (or an object, which JS also calls true).
const NOT_TENSOR = new Set([
  'constructor', 'backward', 'dispose', 'item', 'toString', 'setGradFn', 'requiresGrad_', 'retainGrad',
]);

let tensorMethods: ReadonlySet<string> | undefined;

/** Names of Tensor methods that return a tensor (read once, when the first function is scanned). */
function methodsReturningTensors(): ReadonlySet<string> {
  tensorMethods ??= new Set(Object.getOwnPropertyNames(Tensor.prototype).filter((n) => {
    const d = Object.getOwnPropertyDescriptor(Tensor.prototype, n);
    return typeof d?.value === 'function' && !NOT_TENSOR.has(n);
  }));
  return tensorMethods;
}

/** The scan of `fn`'s text, or undefined for a function without source (built-in, bound) or one that does not parse. */
export function scanFunction(fn: Function): ConditionScan | undefined {
  const text = Function.prototype.toString.call(fn);
  if (/\{\s*\[native code\]\s*\}\s*$/.test(text)) return undefined;
  return scanConditions(text, methodsReturningTensors());
}
