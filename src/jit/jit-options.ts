/** The public types of jit(): its options, its counters and what explain() returns. */
import type { NamedPass } from '../../compiler/passes/pipeline.js';
import type { ExplainSections, ExplainedVariant, SectionName } from './explain.js';

/** Options of jit. */
export interface JitOptions {
  /** Recorded paths kept per signature before it stays eager (default 8). */
  maxVariants?: number;
  /** Throw a JitError when a guard fails instead of running eagerly. */
  strict?: boolean;
  /** Signatures kept, least recently used dropped first (default 64). */
  cacheSize?: number;
  /**
   * Values the function reads from its closure, returned fresh on each call: tensors in
   * them are inputs of the signature, so reassigning such a variable is seen. (The source
   * transform fills this in; without it, captured tensors are read live by identity.)
   */
  captures?: () => unknown;
  /**
   * Feed numbers that change between calls (arguments, fields of arguments and of `this`,
   * closure variables in `captures`) into the graph instead of compiling each value. A
   * replay cannot see plain JavaScript branch on such a number, so the default is true only
   * when the function's conditions are rewritten (kiln/vite, kiln/register or `rewrite:
   * true`): there a comparison of such a number in a condition is a guard on it, re-checked
   * on every replay. Otherwise each value compiles on its own (up to `recompileLimit`);
   * `true` promises that no branch reads these numbers.
   */
  dynamicNumbers?: boolean;
  /**
   * Signatures compiled per function before new ones run eagerly without tracing (default
   * 8, as Dynamo's cache_size_limit); one warning then names the value that kept changing.
   * Signatures that differ only in sizes are not counted.
   */
  recompileLimit?: number;
  /**
   * Identical iterations of a loop the source transform did not see (a plain `while` on
   * tensors compared through valueOf, say) a trace records before it stops unrolling it
   * (default 32): the call finishes eagerly and the signature stays eager, with one warning
   * naming the loop's line. (Loops the transform saw are lifted, or stay guarded.)
   */
  maxUnroll?: number;
  /**
   * Rewrite the function's conditions at run time, as kiln/vite and kiln/register do at
   * build time (default false). Only a function that reads nothing but its own variables
   * and standard globals can be recompiled from its text; any other is traced as written,
   * with one warning naming the conditions that stay plain JavaScript.
   */
  rewrite?: boolean;
  /**
   * Graph passes run on each compiled variant before it is fused and lowered (default
   * `defaultPasses`: simplify, CSE, DCE, copy elision, ReLU masks). Extend or replace the
   * list; each pass must keep results bit-identical.
   */
  passes?: readonly NamedPass[];
  /**
   * Lift loops whose condition is a tensor into one compiled loop node when every iteration
   * computes the same thing, and turn `if`s whose branches only assign computed values into
   * selects (default true; needs the source transform, which hands both to the tracer).
   * Off, each condition is a guard.
   */
  liftLoops?: boolean;
}

/** Counters of what a jit'd function did. */
export interface JitStats {
  calls: number;
  traces: number;
  replays: number;
  fallbacks: number;
  /** Compiled variants across all signatures. */
  variants: number;
  /** Signatures traced after the first (sizes aside), counted against `recompileLimit`. */
  recompiles: number;
  /** Calls run eagerly without tracing because `recompileLimit` was reached. */
  untraced: number;
}

/** What jit knows about one signature: a summary (`toString()`), sections on request, and the data behind them. */
export interface Explanation {
  signature: string;
  state: 'not traced' | 'confirming' | 'compiled' | 'eager';
  variants: ExplainedVariant[];
  /** Retraces, fallbacks and other decisions so far, oldest first. */
  events: string[];
  stats: JitStats;
  /** The long parts by name: `sections.ir`, `sections.kernels`, … */
  sections: Record<SectionName, string>;
  /** The summary followed by the sections asked for (`{ ir: true, kernels: true }`, or `{ all: true }`). */
  format(sections?: ExplainSections): string;
  /** A self-contained HTML page: passes before and after, fusion groups, kernel code, guards, timings. */
  html(): string;
  /** The summary: signature, calls, variants and the guards that separate them, kernels, memory, why it retraced. */
  toString(): string;
}

/** A jit-compiled function: the same call signature, plus stats, explain and clearCache. */
export type JitFunction<F extends (...args: any[]) => any> = F & {
  readonly stats: JitStats;
  explain(...args: Parameters<F>): Explanation;
  clearCache(): void;
};
