/**
 * The bound on recompiles of one jit'd function (as Dynamo's `cache_size_limit`): every
 * signature costs a trace or two, so a value that changes on every call (a counter, a
 * step number, a number a branch reads) would make each call slower than eager, forever.
 * Past `recompileLimit` signatures the function runs eagerly, without tracing, for every
 * new signature (compiled ones keep replaying), and one warning names the value that kept
 * changing, where the function was called, and the fix.
 *
 * Signatures that differ from one already counted only in sizes are not counted: they
 * compile after one trace into size-generic kernels (see `#sizeSibling` in ./jit.ts).
 */
import type { Leaf } from './signature.js';

/** A limit on signatures: where the function is called, and what changed between them. */
export class RecompileBudget {
  /** Signatures counted so far, with their sizes erased. */
  readonly #counted = new Set<string>();
  /** How often each leaf (argument path, closure variable) differed from the previous new signature's. */
  readonly #changes = new Map<string, { count: number; token: string }>();
  #previous: Leaf[] | undefined;
  /** Set once the limit was reached: the warning given. */
  exhausted: string | undefined;

  constructor(readonly limit: number) {}

  /** Signatures counted so far. */
  get count(): number {
    return this.#counted.size;
  }

  /**
   * Notes a new signature (`sizeFree`: its key with sizes erased; `leaves`: what it is made
   * of, computed only here); false when it is over the limit and must run eagerly.
   */
  admit(sizeFree: string, leaves: () => Leaf[]): boolean {
    if (this.#counted.has(sizeFree)) return true;
    if (this.#counted.size >= this.limit) return false;
    this.#counted.add(sizeFree);
    const now = leaves();
    if (this.#previous !== undefined) {
      const before = new Map(this.#previous.map((l) => [l.path, l.token]));
      // Elements of an array (not the arguments themselves) count as one value: a history
      // that grows is one cause, not many.
      const changed = new Map<string, string>();
      for (const l of now) {
        if (before.get(l.path) !== l.token) changed.set(l.path.replace(/(?<!^args)\[\d+\]/g, '[]'), l.token);
      }
      for (const [path, token] of changed) {
        this.#changes.set(path, { count: (this.#changes.get(path)?.count ?? 0) + 1, token });
      }
    }
    this.#previous = now;
    return true;
  }

  /** The warning for the first call past the limit; `site` is where the function was called. */
  exhaust(name: string, site: string): string {
    const [worst] = [...this.#changes].sort((a, b) => b[1].count - a[1].count);
    const what = worst === undefined ? 'the arguments' : describe(worst[0], worst[1].token);
    const fix = worst === undefined ? 'keep its arguments\' shapes, dtypes and values the same from call to call' : fixFor(worst[0], worst[1].token);
    this.exhausted = `jit(${name}) called at ${site}: ${this.limit} signatures compiled (recompileLimit); ${what} changed `
      + `on ${worst?.[1].count ?? this.limit - 1} of them. Calls with a new signature now run eagerly without tracing. Fix: ${fix}`;
    return this.exhausted;
  }
}

/** Whether `path` names a closure variable (a bare name) rather than an argument or a field of `this`. */
function isClosure(path: string): boolean {
  return !path.startsWith('args[') && !path.startsWith('this');
}

function describe(path: string, token: string): string {
  if (path.endsWith('[]')) return `the elements of ${describe(path.slice(0, -2), '')}`;
  const kind = token.startsWith('N') ? 'number ' : token.startsWith('T') ? 'tensor ' : '';
  return isClosure(path) ? `${kind}closure variable ${path}` : `${kind}${path}`;
}

function fixFor(path: string, token: string): string {
  if (path.endsWith('[]')) {
    const array = path.replace(/(\[\])+$/, '');
    return `if ${array} is a history or other data the function does not read, keep it out of its arguments and \`this\`; `
      + 'pass what it reads as a tensor; or raise recompileLimit';
  }
  if (token.startsWith('N')) {
    const counter = isClosure(path) ? `if ${path} is a counter or other JS side effect, keep it outside the jit'd function; ` : '';
    return `${counter}pass ${path} as a tensor, or, if no branch reads it, jit(fn, { dynamicNumbers: true }) feeds it in per call; `
      + 'or raise recompileLimit';
  }
  if (token.startsWith('T')) return `give ${path} the same dtype, device and number of dimensions on every call, or raise recompileLimit`;
  return `keep ${path} the same from call to call (pass what changes as a tensor), or raise recompileLimit`;
}
