/**
 * What jit learns from the text of the function it compiles, once per `jit(...)`: whether
 * its conditions go through the control-flow hooks (rewritten at build time by kiln/vite or
 * kiln/register, or at run time by `rewrite: true`), which decides whether changing
 * numbers may be fed in (a replay sees a branch on one only through the hooks); and, for a
 * function traced as written, the conditions plain JavaScript gets wrong, named once.
 */
import type { ConditionNote, ConditionScan } from '../../compiler/source/conditions.js';

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
