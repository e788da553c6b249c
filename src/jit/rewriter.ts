/**
 * Where jit finds the run-time source transform (./rewrite.ts). The transform brings acorn
 * and magic-string: a minimal Vite app using tensor, jit and nn is 69 kB gzipped without it
 * and 122 kB with it, so the main entry does not import it. `import 'kiln/rewrite'` installs
 * it (Node's `kiln` entry does so itself); apps rewritten at build time (kiln/vite,
 * kiln/register) never need it.
 */
import { ValueError } from '../../runtime/errors.js';

/** The two things jit asks of the run-time transform. */
export interface Rewriter {
  rewriteForJit<F extends (...args: any[]) => any>(fn: F): F;
  toCode(fn: (...args: any[]) => any): string;
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
export function rewriteForJit<F extends (...args: any[]) => any>(fn: F): F {
  return need('jit({ rewrite: true })').rewriteForJit(fn);
}

/** The rewritten source of `fn`; throws naming the import when no transform is installed. */
export function toCode(fn: (...args: any[]) => any): string {
  return need('jit.toCode').toCode(fn);
}
