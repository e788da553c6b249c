/**
 * Shrinking a failing program: fewer outputs, fewer statements (a removed statement's uses
 * take one of its operands of the same shape and dtype), unused inputs dropped, simpler
 * input values, as long as the same failure (check and message, numbers aside) remains.
 */
import type { Failure } from './runners.js';
import type { Program } from './program.js';

/** A failure's class: its check and message with the numbers taken out. */
export function signature(f: Failure): string {
  const numbersOut = f.detail.replace(/-?\b\d+(\.\d+)?(e[-+]?\d+)?\b|-?Infinity|NaN|-0\b/g, '#');
  return `${f.check}: ${numbersOut.replace(/\[[#,]*\]/g, '[…]')}`;
}

function clone(p: Program): Program {
  return structuredClone(p);
}

/** Removes inputs that nothing reads. */
function dropUnusedInputs(p: Program): Program {
  const used = new Set<number>([...p.outputs, ...p.stmts.flatMap((s) => s.args)]);
  return { ...p, inputs: p.inputs.filter((x) => used.has(x.id)) };
}

/** `p` without statement `i`, its uses rewired to an operand of the same meta; undefined when none fits. */
function withoutStmt(p: Program, i: number): Program | undefined {
  const s = p.stmts[i]!;
  const ids = new Map([...p.inputs.map((x) => [x.id, x.meta] as const), ...p.stmts.map((t) => [t.id, t.meta] as const)]);
  const same = s.args.find((a) => {
    const m = ids.get(a)!;
    return m.dtype === s.meta.dtype && m.shape.join() === s.meta.shape.join();
  });
  // Statements need an operand of the same meta in its place; an output can return any operand instead.
  if (p.stmts.some((t) => t.args.includes(s.id)) && same === undefined) return undefined;
  const q = clone(p);
  q.stmts.splice(i, 1);
  const swap = (a: number) => (a === s.id ? same! : a);
  for (const t of q.stmts) t.args = t.args.map(swap);
  q.outputs = [...new Set(q.outputs.map((a) => (a === s.id ? same ?? s.args[0]! : a)))];
  return dropUnusedInputs(q);
}

/** Simpler elements for an input: all ones, or all the first element. */
function simplerValues(values: number[]): number[][] {
  return [values.map(() => 1), values.map(() => values[0]!), values.map((v) => (Number.isFinite(v) ? Math.round(v) : v))];
}

/** The smallest program found within `budget` attempts that still fails the same way. */
export async function shrink(
  p: Program, failure: Failure, run: (q: Program) => Promise<Failure | undefined>, budget = 120,
): Promise<{ program: Program; failure: Failure }> {
  const want = signature(failure);
  let best = p, bestFailure = failure, tries = 0;
  const attempt = async (q: Program | undefined): Promise<boolean> => {
    if (q === undefined || tries >= budget) return false;
    tries++;
    const f = await run(q);
    if (f === undefined || signature(f) !== want) return false;
    best = q;
    bestFailure = f;
    return true;
  };
  for (const o of best.outputs) if (best.outputs.length > 1 && (await attempt({ ...clone(best), outputs: [o] }))) break;
  for (let progress = true; progress && tries < budget; ) {
    progress = false;
    for (let i = best.stmts.length - 1; i >= 0; i--) if (await attempt(withoutStmt(best, i))) progress = true;
  }
  for (let i = 0; i < best.inputs.length; i++) {
    for (const values of simplerValues(best.inputs[i]!.values)) {
      const q = clone(best);
      q.inputs[i]!.values = values;
      if (await attempt(q)) break;
    }
  }
  return { program: best, failure: bestFailure };
}
