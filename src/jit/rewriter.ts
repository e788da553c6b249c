/**
 * Where jit finds the run-time source transform (./rewrite.ts). The transform brings acorn
 * and magic-string: a minimal Vite app using tensor, jit and nn is 69 kB gzipped without it
 * and 122 kB with it, so the main entry does not import it. `import 'kiln/rewrite'` installs
 * it (Node's `kiln` entry does so itself); apps rewritten at build time (kiln/vite,
 * kiln/register) never need it.
 */
import type { ConditionScan } from '../../compiler/source/conditions.js';
import { ValueError } from '../../runtime/errors.js';

/** What jit asks of the run-time transform. */
export interface Rewriter {
  rewriteForJit<F extends (...args: any[]) => any>(fn: F, where: string): F;
  toCode(fn: (...args: any[]) => any): string;
  /** The conditions of `fn`'s text, or undefined when it has none to read (no source, no parse). */
  scanFunction(fn: Function): ConditionScan | undefined;
}

let installed: Rewriter | undefined;

/** Makes `rewriter` the run-time transform of `jit(fn, { rewrite: true })` and `jit.toCode`. */
export function installRewriter(rewriter: Rewriter): void {
  installed = rewriter;
}

function need(op: string): Rewriter {
  if (installed === undefined) {
    throw new ValueError(
      `${op}: the run-time source transform is not loaded; add \`import 'kiln/rewrite'\` once ` +
        "(Node's 'kiln' entry includes it), or rewrite at build time with kiln/vite",
    );
  }
  return installed;
}

/** `fn` rewritten by the installed transform; throws naming the import when none is installed. */
export function rewriteForJit<F extends (...args: any[]) => any>(fn: F, where: string): F {
  return need('jit({ rewrite: true })').rewriteForJit(fn, where);
}

// A call of one of the control-flow hooks as the build-time transform writes it (`__kiln.cond(`,
// `__kiln2.lift(`): how a rewritten function is told apart without a parser. A bundler that
// renames the binding makes it fail safe (numbers are then compiled per value).
const HOOK_CALL = /\b__kiln\d*\.(?:cond|loop|lift|liftDo|liftFor|liftAsync|liftDoAsync|liftForAsync|select|cmp)\(/;

/**
 * The scan of `fn`'s conditions by the installed transform. Without one (a browser bundle
 * that does not import kiln/rewrite), only whether its text calls the hooks; no conditions.
 */
export function scanFunction(fn: Function): ConditionScan | undefined {
  if (installed !== undefined) return installed.scanFunction(fn);
  return { rewritten: HOOK_CALL.test(Function.prototype.toString.call(fn)), conditions: [] };
}

/** The rewritten source of `fn`; throws naming the import when no transform is installed. */
export function toCode(fn: (...args: any[]) => any): string {
  return need('jit.toCode').toCode(fn);
}
