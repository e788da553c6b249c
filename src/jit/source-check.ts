/**
 * What jit learns from the text of the function it compiles, once per `jit(...)`: whether
 * its conditions go through the control-flow hooks (rewritten at build time by kiln/vite or
 * kiln/register, or at run time by `rewrite: true`), which decides whether changing
 * numbers may be fed in (a replay sees a branch on one only through the hooks); and, for a
 * function traced as written, the conditions plain JavaScript gets wrong, named once.
 */
import { scanConditions, type ConditionNote, type ConditionScan } from '../../compiler/source/conditions.js';
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

/** A condition as warnings name it: its text, construct and line. */
export function fmtCondition(c: ConditionNote): string {
  const negated = c.construct === '!';
  return `\`${negated ? '!' : ''}${c.text}\` (${negated ? 'operand of !' : c.construct}, line ${c.line} of the function)`;
}

/**
 * The warning for a function traced as written whose conditions call a tensor method (always
 * true in plain JavaScript), or undefined when it has none. `where`: where jit was called.
 */
export function plainConditionWarning(
  name: string, scan: ConditionScan | undefined, where: string,
): string | undefined {
  if (scan === undefined || scan.rewritten) return undefined;
  const calls = scan.conditions.filter((c) => c.kind === 'tensor-call');
  if (calls.length === 0) return undefined;
  return `jit(${name}) at ${where}: ${calls.map(fmtCondition).join(', ')} ${calls.length > 1 ? 'are' : 'is'} always true in plain `
    + 'JavaScript (a tensor object is truthy), in eager code and under jit alike. Rewrite the function\'s conditions with '
    + 'node --import kiln/register or the kiln/vite plugin, or read the value in the condition (`.item()`, or compare '
    + 'a one-element tensor with `<`, `<=`, `>`, `>=`).';
}
