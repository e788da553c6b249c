/**
 * jit(fn): run once eagerly while recording, confirm the recording with a second identical
 * one (lazily created state, such as optimizer buffers, makes first calls differ), then
 * replay it for every call with the same signature, checking the recorded guards. A failed
 * guard runs the call eagerly and records another variant; past `maxVariants` the signature
 * stays eager with one warning. A replay never returns a stale or partial result; on
 * WebGPU, an async function's replay may check its guards after running speculatively
 * (./speculation.ts), and so settle later. Its options and counters are in jit-options.ts,
 * numbers fed in instead of compiled per value in numbers.ts, messages in explain.ts.
 */
import { JitError, ValueError } from '../../runtime/errors.js';
import { printGraph } from '../../compiler/ir/graph.js';
import { defaultPasses, type NamedPass } from '../../compiler/passes/pipeline.js';
import { activeTrace, runTraced, tracesFollowAwaits } from './context.js';
import { inKernelScope, jitDisabled, log, logs } from './log.js';
import { replay, type ReplayResult } from './replay.js';
import { usesWebGpu, webGpuObstacle } from './webgpu-check.js';
import { changedNumbers, keyOf, walkArgs, type Walked } from './signature.js';
import { Trace } from './trace.js';
import { makeVariant, type Variant } from './variant.js';
import { rewriteForJit, scanFunction, toCode } from './rewriter.js';
import { RecompileBudget } from './recompiles.js';
import { findSizeSibling, sizeFreeKey } from './size-siblings.js';
import { userSite } from './site.js';
import { decoratorMisuse } from './decorator-check.js';
import { plainConditionWarning } from './source-check.js';
import {
  changedGuard, explainVariant, fmtValues, formatExplanation, formatSummary, guardName, sectionsOf, traceDifference,
  type ExplainSections, type ExplanationData,
} from './explain.js';
import { numberLinks, numbersNamed } from './numbers.js';
import type { Explanation, JitFunction, JitOptions, JitStats } from './jit-options.js';
import { explainHtmlDir, explanationHtml, writeExplainPage } from './explain-html.js';
import { checkArgumentsAlive, checkJitOptions } from './arguments.js';

/** The first guard that failed in a call's replays. */
type Failure = Extract<ReplayResult, { ok: false }>;

interface Entry {
  key: string;
  shapeKey: string;
  state: 'confirming' | 'compiled' | 'eager';
  candidate: Variant | null;
  /** Traces before the candidate that differed from their successor (a branch that alternates between calls). */
  earlier: Variant[];
  attempts: number;
  variants: Variant[];
  /** Number positions treated as dynamic when this entry was made. */
  dynamic: number[];
  failures: Map<string, number>;
  /** Equal traces in a row whose dynamic numbers did not change. */
  unchanged: number;
  /** Where each number leaf sits (`args[2]`, `this.scale`, a closure variable), by position. */
  numberPaths: readonly string[];
}

const registry = new Set<WeakRef<JitState>>();

/** Variants whose KILN_EXPLAIN_HTML page is written. */
const pagesWritten = new WeakSet<Variant>();

/** Drops the compiled graphs of every jit'd function. */
export function clearJitCaches(): void {
  for (const ref of registry) {
    const s = ref.deref();
    if (s === undefined) registry.delete(ref);
    else s.clear();
  }
}

class JitState {
  readonly cache = new Map<string, Entry>();
  readonly dynamic = new Map<string, Set<number>>();
  readonly fixed = new Map<string, Set<number>>();
  readonly lastNumbers = new Map<string, number[]>();
  /** The entry last in `cache`'s order (the most recently used), if known. */
  #newest: Entry | undefined;
  readonly events: string[] = [];
  readonly stats: JitStats = { calls: 0, traces: 0, replays: 0, fallbacks: 0, variants: 0, recompiles: 0, untraced: 0 };
  /** Recordings in a row, per signature, that changed JS state a replay would not repeat. */
  readonly #unrecordedRuns = new WeakMap<Entry, number>();
  readonly maxVariants: number;
  readonly cacheSize: number;
  readonly passes: readonly NamedPass[];
  budget: RecompileBudget;
  readonly maxUnroll: number;

  /** Said once, at the first trace: conditions of the function that plain JavaScript gets wrong. */
  plainWarning: string | undefined;

  /** The object a method was last called on, for `explain` without one. */
  lastThis: WeakRef<object> | undefined;

  /** Whether traces lift loops (turned off when a lifted loop's value escaped it). */
  liftLoops: boolean;

  /** Settles when the latest call that replayed speculatively has committed or fallen back. */
  #speculating: Promise<void> | undefined;

  /** Whether changing numbers are fed in (see JitOptions.dynamicNumbers). */
  readonly dynamicNumbers: boolean;

  /**
   * `rewritten`: the function's conditions go through the control-flow hooks (or, rewritten
   * at run time, it has none), so a replay sees its branches and the transform its loops.
   */
  constructor(readonly fn: (...args: any[]) => any, readonly options: JitOptions, readonly rewritten: boolean) {
    this.dynamicNumbers = options.dynamicNumbers ?? rewritten;
    this.maxVariants = options.maxVariants ?? 8;
    const limit = options.recompileLimit ?? 8;
    if (!Number.isInteger(limit) || limit < 1) {
      throw new ValueError(`jit: recompileLimit must be a positive integer (got ${options.recompileLimit})`);
    }
    this.budget = new RecompileBudget(limit);
    this.maxUnroll = options.maxUnroll ?? 32;
    if (!(this.maxUnroll >= 2)) {
      throw new ValueError(`jit: maxUnroll must be a number of iterations, at least 2 (got ${options.maxUnroll})`);
    }
    this.cacheSize = options.cacheSize ?? 64;
    this.passes = options.passes ?? defaultPasses;
    this.liftLoops = options.liftLoops ?? true;
    if (!Number.isInteger(this.maxVariants) || this.maxVariants < 1) throw new ValueError(`jit: maxVariants must be a positive integer (got ${options.maxVariants})`);
    if (!Number.isInteger(this.cacheSize) || this.cacheSize < 1) throw new ValueError(`jit: cacheSize must be a positive integer (got ${options.cacheSize})`);
  }

  get name(): string {
    return this.fn.name || 'anonymous';
  }

  clear(): void {
    this.budget = new RecompileBudget(this.budget.limit);
    this.cache.clear();
    this.#newest = undefined;
    this.dynamic.clear();
    this.fixed.clear();
    this.lastNumbers.clear();
    this.stats.variants = 0;
  }

  #event(kind: 'recompiles' | 'guards' | 'graphs', message: string): void {
    this.events.push(message);
    if (this.events.length > 200) this.events.shift();
    log(kind, `${this.name}: ${message}`);
  }

  walk(thisArg: unknown, args: readonly unknown[], paths = false): Walked {
    const all: unknown[] = [];
    const self = thisArg !== undefined && thisArg !== null && thisArg !== globalThis;
    if (self) all.push(thisArg);
    all.push(...args);
    if (this.options.captures) all.push(this.options.captures());
    return walkArgs(all, { self, captures: this.options.captures !== undefined, paths });
  }

  /**
   * The cache entry for a call, noticing numbers that changed since the last call of this
   * shape; undefined when the call has a new signature past `recompileLimit`. `describe`
   * walks the call again, naming each leaf (only for a new signature).
   */
  entryFor(walked: Walked, describe: () => Walked): Entry | undefined {
    // A call with no numbers keys on its structure alone, so the newest entry of that
    // structure is its entry: no key to build and no lookups (the three lookups by string
    // below measured ~15% of a jit call of 10 ops on [16]).
    const newest = this.#newest;
    if (walked.numbers.length === 0 && newest !== undefined && newest.shapeKey === walked.shapeKey) return newest;
    const dyn = this.dynamic.get(walked.shapeKey);
    const key = keyOf(walked, dyn);
    const entry = this.cache.get(key);
    if (entry === undefined) return this.#entryOnMiss(walked, describe, dyn, key);
    this.lastNumbers.set(walked.shapeKey, walked.numbers);
    // Least recently used goes first when the cache is full: a hit moves its entry last,
    // unless it is last already (a loop calling one signature moves nothing).
    if (entry !== this.#newest) {
      this.cache.delete(key);
      this.cache.set(key, entry);
      this.#newest = entry;
    }
    return entry;
  }

  /** Drops `entry` from the cache: its next call makes another. */
  #forget(entry: Entry): void {
    this.cache.delete(entry.key);
    if (this.#newest === entry) this.#newest = undefined;
  }

  /** `entryFor` for a call whose key has no entry. */
  #entryOnMiss(
    walked: Walked, describe: () => Walked, dynamic: Set<number> | undefined, missed: string,
  ): Entry | undefined {
    let dyn = dynamic, key = missed;
    let entry: Entry | undefined;
    let described: Walked | undefined;
    const leaves = () => (described ??= describe()).leaves ?? [];
    const numberPaths = () => leaves().filter((l) => l.token.startsWith('N')).map((l) => l.path);
    const last = this.lastNumbers.get(walked.shapeKey);
    const fixed = this.fixed.get(walked.shapeKey);
    const changed = last && this.dynamicNumbers
      ? changedNumbers(last, walked.numbers).filter((i) => !fixed?.has(i) && !dyn?.has(i))
      : [];
    if (changed.length > 0) {
      dyn = new Set([...(dyn ?? []), ...changed]);
      this.dynamic.set(walked.shapeKey, dyn);
      key = keyOf(walked, dyn);
      entry = this.cache.get(key);
      const named = numbersNamed(numberPaths(), changed);
      this.#event('recompiles', `${named} changed; treating them as dynamic inputs instead of recompiling per value`);
    }
    this.lastNumbers.set(walked.shapeKey, walked.numbers);
    if (entry === undefined) {
      if (!this.budget.admit(sizeFreeKey(walked.shapeKey) + key.slice(walked.shapeKey.length), leaves)) {
        if (this.budget.exhausted === undefined) {
          const message = this.budget.exhaust(this.name, userSite());
          this.#event('recompiles', message);
          console.warn(`[kiln] ${message}`);
        }
        return undefined;
      }
      this.stats.recompiles = Math.max(this.stats.recompiles, this.budget.count - 1);
      entry = {
        key, shapeKey: walked.shapeKey, state: 'confirming', candidate: null, earlier: [], attempts: 0, variants: [],
        dynamic: [...(dyn ?? [])], failures: new Map(), unchanged: 0, numberPaths: numberPaths(),
      };
      if (this.cache.size > 0) this.#event('recompiles', `new signature ${key}`);
      this.cache.set(key, entry);
      this.#newest = entry;
      if (this.cache.size > this.cacheSize) {
        const oldest = this.cache.keys().next().value!;
        this.stats.variants -= this.cache.get(oldest)!.variants.length;
        this.cache.delete(oldest);
      }
    } else if (entry !== this.#newest) {
      this.cache.delete(key);
      this.cache.set(key, entry);
      this.#newest = entry;
    }
    return entry;
  }

  call(thisArg: unknown, args: unknown[]): unknown {
    // Inside another trace, run inline so the outer recording sees these ops.
    if (activeTrace() !== undefined) {
      this.stats.calls++;
      return this.fn.apply(thisArg, args);
    }
    // A speculative replay writes parameters only once its guards come back: a call made
    // meanwhile waits for that, so it sees the writes as it would after an eager call.
    if (this.#speculating !== undefined) return this.#speculating.then(() => this.call(thisArg, args));
    this.stats.calls++;
    if (typeof thisArg === 'object' && thisArg !== null && this.lastThis?.deref() !== thisArg) this.lastThis = new WeakRef(thisArg);
    const walked = this.walk(thisArg, args);
    checkArgumentsAlive(this.name, walked.tensors, args);
    const entry = this.entryFor(walked, () => this.walk(thisArg, args, true));
    if (entry === undefined) {
      this.stats.untraced++;
      return this.fn.apply(thisArg, args);
    }
    switch (entry.state) {
      case 'eager':
        return this.fn.apply(thisArg, args);
      case 'confirming':
        return this.trace(entry, walked, thisArg, args, (v) => this.confirm(entry, v));
      case 'compiled':
        return this.replayOrFallback(entry, walked, thisArg, args);
    }
  }

  replayOrFallback(entry: Entry, walked: Walked, thisArg: unknown, args: unknown[]): unknown {
    return this.#replayFrom(entry, entry.variants.slice(), 0, walked, thisArg, args, undefined);
  }

  /**
   * Replays the first of `variants` from index `from` whose guards hold, or falls back.
   * A speculative (WebGPU) replay settles later: the next variants are tried after it.
   */
  #replayFrom(entry: Entry, variants: readonly Variant[], from: number, walked: Walked, thisArg: unknown, args: unknown[], failure: Failure | undefined): unknown {
    for (let i = from; i < variants.length; i++) {
      const v = variants[i]!;
      const r = logs('kernels')
        ? inKernelScope(`jit(${this.name}) variant ${entry.variants.indexOf(v) + 1} of ${entry.key}`, () => replay(v, walked, this.passes))
        : replay(v, walked, this.passes);
      if (r instanceof Promise) {
        return this.#holdCallsUntil(r.then((settled) => (settled.ok
          ? this.#replayed(entry, v, settled.value)
          : this.#replayFrom(entry, variants, i + 1, walked, thisArg, args, failure ?? settled))));
      }
      if (r.ok) {
        const value = this.#replayed(entry, v, r.value);
        return v.trace.isAsync ? Promise.resolve(value) : value;
      }
      failure ??= r;
    }
    return this.#fallback(entry, walked, thisArg, args, failure);
  }

  /** Counts a replay of `v` and moves it to the front, where the next call tries it first. */
  #replayed(entry: Entry, v: Variant, value: unknown): unknown {
    this.stats.replays++;
    if (explainHtmlDir !== undefined && !pagesWritten.has(v)) {
      pagesWritten.add(v);
      writeExplainPage(explainHtmlDir, this.#explanationData(entry.key, entry));
    }
    const i = entry.variants.indexOf(v);
    if (i > 0) entry.variants.unshift(...entry.variants.splice(i, 1));
    return value;
  }

  /** Makes calls of this function wait until `result` (a speculative replay and what follows it) settles. */
  #holdCallsUntil(result: Promise<unknown>): Promise<unknown> {
    const settled = result.then(() => undefined, () => undefined);
    this.#speculating = settled;
    void settled.then(() => {
      if (this.#speculating === settled) this.#speculating = undefined;
    });
    return result;
  }

  /** No variant replayed: strict mode throws; otherwise the call runs eagerly and is recorded as a new variant. */
  #fallback(entry: Entry, walked: Walked, thisArg: unknown, args: unknown[], failure: Failure | undefined): unknown {
    const what = failure ? `guard ${guardName(failure.guard)} failed: traced ${fmtValues(failure.guard.expected)}, this call ${fmtValues(failure.got)}` : 'no variant matched';
    if (this.options.strict) {
      const error = new JitError(`jit(${this.name}): ${what} (strict mode; without strict, this call would run eagerly and be recorded as a new variant)`);
      // An async function reports errors through the promise it returns, never by throwing.
      if (entry.variants[0]?.trace.isAsync) return Promise.reject(error);
      throw error;
    }
    this.stats.fallbacks++;
    if (failure) entry.failures.set(guardName(failure.guard), (entry.failures.get(guardName(failure.guard)) ?? 0) + 1);
    this.#event('guards', `${what}; running eagerly`);
    return this.trace(entry, walked, thisArg, args, (v) => this.addVariant(entry, v));
  }

  trace(entry: Entry, walked: Walked, thisArg: unknown, args: unknown[], done: (v: Variant) => void): unknown {
    if (this.plainWarning !== undefined) {
      console.warn(`[kiln] ${this.plainWarning}`);
      this.plainWarning = undefined;
    }
    const dyn = this.dynamic.get(entry.shapeKey);
    const numbers = walked.numbers.map((n, i) => (dyn?.has(i) ? n : undefined));
    const trace = new Trace(walked.tensors, numbers);
    trace.liftLoops = this.liftLoops;
    trace.passes = this.passes;
    // Loops the transform saw are lifted, or stay guarded native loops as explain() says.
    trace.maxUnroll = this.rewritten ? Infinity : this.maxUnroll;
    // A trace that explain may compare with an earlier one records each node's source line.
    trace.recordSites = entry.candidate !== null || entry.state === 'compiled';
    this.stats.traces++;
    const result = runTraced(trace, () => this.fn.apply(thisArg, args));
    const finish = (value: unknown): void => {
      // The call ran right (eagerly); a loop it would have unrolled keeps the signature eager.
      if (trace.abandoned !== undefined) return this.#giveUp(entry, trace.abandoned);
      const v = makeVariant(trace, value);
      if (!this.#replayable(entry, trace)) return;
      if (trace.invalid === undefined) return done(v);
      // The call's result is right (it ran eagerly); only its recording is unusable.
      this.liftLoops = false;
      this.#event('recompiles', `${trace.invalid}: loops are no longer lifted, the next call traces again`);
    };
    if (result instanceof Promise) {
      trace.isAsync = true;
      if (!tracesFollowAwaits) {
        this.#giveUp(entry, 'async functions cannot be traced across await on this platform');
        return result;
      }
      return result.then((value) => {
        finish(value);
        return value;
      });
    }
    finish(result);
    return result;
  }

  /**
   * False when `trace` changed JS state that its graph does not record (trace.ts
   * unrecordedWrite): the recording is dropped. One such call is forgiven (a first step
   * creates its optimizer state); two in a row and the signature stays eager, with a warning.
   */
  #replayable(entry: Entry, trace: Trace): boolean {
    const write = trace.unrecordedWrite();
    if (write === undefined) {
      this.#unrecordedRuns.delete(entry);
      return true;
    }
    const runs = (this.#unrecordedRuns.get(entry) ?? 0) + 1;
    this.#unrecordedRuns.set(entry, runs);
    if (runs >= 2) this.#giveUp(entry, `the function ${write}, which a replay cannot repeat (it runs no JavaScript); do that outside the jit'd function`);
    else this.#event('recompiles', `not compiling this call's recording: it ${write}; tracing again`);
    return false;
  }

  confirm(entry: Entry, v: Variant): void {
    if (entry.state !== 'confirming' || this.#cannotReplay(entry, v)) return;
    if (entry.candidate === null && entry.dynamic.length === 0) {
      // Another size of a computation already confirmed (the last, smaller batch): this one
      // trace is enough, and its kernels come from the size-generic templates.
      const sibling = findSizeSibling(this.cache.values(), entry, v);
      if (sibling !== undefined) {
        return this.#compiled(entry, v, `compiled ${entry.key} after one trace: it records what ${sibling} records, with other sizes`);
      }
    }
    if (entry.candidate !== null && entry.candidate.fingerprint === v.fingerprint) {
      if (entry.dynamic.length > 0) {
        const { unlinked, proven } = numberLinks(entry.dynamic, entry.candidate.trace, v.trace);
        if (unlinked.length > 0) {
          // A number that changes but is never a tensor operand is read only by JS (a
          // branch, a loop bound) where a replay cannot see it: key on its value instead.
          this.#fixNumbers(entry, unlinked, 'reach no tensor as an operand (JS reads them, in a branch say)');
          return;
        }
        // Equal traces whose numbers did not change (or equal each other) cannot tell a
        // number from a literal of the same value: wait for a trace with other values.
        if (!proven) {
          entry.candidate = v;
          // Numbers that stopped changing are keyed on their values again, so they compile.
          if (++entry.unchanged >= this.maxVariants) {
            const rest = [...(this.dynamic.get(entry.shapeKey) ?? [])].filter((i) => !entry.dynamic.includes(i));
            if (rest.length > 0) this.dynamic.set(entry.shapeKey, new Set(rest));
            else this.dynamic.delete(entry.shapeKey);
            this.#forget(entry);
            const named = numbersNamed(entry.numberPaths, entry.dynamic);
            this.#event('recompiles', `${named} kept their values for ${entry.unchanged} calls; keying on their values again`);
          }
          return;
        }
      }
      this.#compiled(entry, v, `compiled ${entry.key}: ${v.trace.graph.nodes.length} nodes, ${v.trace.guards.length} guards`);
      if (logs('graphs')) log('graphs', `${this.name}:\n${printGraph(v.trace.graph)}`);
      return;
    }
    if (entry.candidate !== null && entry.dynamic.length > 0) {
      // A number that changes between calls also changed a constant it was not equal to: it
      // reaches tensors through JS arithmetic, so each value must be compiled on its own.
      this.#fixNumbers(entry, entry.dynamic, 'are used in JS arithmetic before reaching tensors');
      return;
    }
    // A branch that alternates between calls never gives two equal traces in a row: a trace
    // equal to an earlier one confirms it all the same (the other branch becomes a variant
    // at its next call, through the fallback).
    if (entry.dynamic.length === 0 && entry.earlier.some((e) => e.fingerprint === v.fingerprint)) {
      return this.#compiled(entry, v, `compiled ${entry.key}: trace ${entry.attempts + 1} equals an earlier one (a branch that alternates between calls)`);
    }
    const previous = entry.candidate;
    if (previous !== null) entry.earlier = [...entry.earlier, previous].slice(-this.maxVariants);
    entry.candidate = v;
    entry.attempts++;
    if (entry.attempts > 1 && previous !== null) {
      this.#event('recompiles', `trace ${entry.attempts} of ${entry.key} differs from the previous one, ${traceDifference(previous, v, v.trace.sites)}; tracing again`);
    }
    if (entry.attempts >= this.maxVariants) {
      const changing = previous ? changedGuard(previous.trace, v.trace) : undefined;
      this.#giveUp(entry, `${entry.attempts} consecutive traces all differed${changing ? `; the guard that keeps changing is ${guardName(changing)}` : ' (a value read with item() or a comparison changes every call?)'}`);
    }
  }

  /** Confirms `v`: the signature replays it from the next call on. */
  #compiled(entry: Entry, v: Variant, event: string): void {
    entry.state = 'compiled';
    entry.variants = [v];
    entry.earlier = [];
    this.stats.variants++;
    this.#event('recompiles', event);
  }

  /** Makes number positions part of the key again, for good: each value compiles on its own. */
  #fixNumbers(entry: Entry, positions: readonly number[], why: string): void {
    const fixed = this.fixed.get(entry.shapeKey) ?? new Set<number>();
    for (const i of positions) fixed.add(i);
    this.fixed.set(entry.shapeKey, fixed);
    const rest = [...(this.dynamic.get(entry.shapeKey) ?? [])].filter((i) => !fixed.has(i));
    if (rest.length > 0) this.dynamic.set(entry.shapeKey, new Set(rest));
    else this.dynamic.delete(entry.shapeKey);
    this.#forget(entry);
    const named = numbersNamed(entry.numberPaths, positions);
    this.#event('recompiles', `${named} ${why}; compiling each value separately (pass them as tensors to avoid this)`);
  }

  addVariant(entry: Entry, v: Variant): void {
    if (entry.state !== 'compiled' || this.#cannotReplay(entry, v)) return;
    if (entry.variants.length >= this.maxVariants) {
      const [worst] = [...entry.failures].sort((a, b) => b[1] - a[1]);
      this.#giveUp(entry, `${entry.variants.length} variants recorded and guards still fail${worst ? `; the guard that keeps changing is ${worst[0]}` : ''}`);
      return;
    }
    entry.variants.unshift(v);
    this.stats.variants++;
    this.#event('recompiles', `variant ${entry.variants.length} of ${entry.key}`);
  }

  /** Gives up on `entry` when variant `v` runs on WebGPU and cannot replay there. */
  #cannotReplay(entry: Entry, v: Variant): boolean {
    const why = usesWebGpu(v) ? webGpuObstacle(v) : undefined;
    if (why !== undefined) this.#giveUp(entry, why);
    return why !== undefined;
  }

  #giveUp(entry: Entry, why: string): void {
    if (entry.state === 'eager') return;
    this.stats.variants -= entry.variants.length;
    entry.state = 'eager';
    entry.variants = [];
    entry.candidate = null;
    entry.earlier = [];
    const message = `jit(${this.name}): signature ${entry.key} stays eager: ${why}`;
    this.#event('recompiles', message);
    console.warn(`[kiln] ${message}`);
  }

  #explanationData(key: string, entry: Entry | undefined): ExplanationData {
    const variants = (entry?.state === 'compiled' ? entry.variants : entry?.candidate ? [entry.candidate] : []).map((v) => explainVariant(v, this.passes));
    return { name: this.name, signature: key, state: entry?.state ?? 'not traced', variants, events: this.events.slice(), stats: { ...this.stats } };
  }

  explain(thisArg: unknown, args: unknown[]): Explanation {
    // `obj.method.explain(x)` cannot say which object: a method explains the one it last ran on.
    const walked = this.walk(thisArg ?? this.lastThis?.deref(), args);
    const key = keyOf(walked, this.dynamic.get(walked.shapeKey));
    const data = this.#explanationData(key, this.cache.get(key));
    return {
      signature: key, state: data.state as Explanation['state'], variants: data.variants, events: data.events, stats: data.stats,
      sections: sectionsOf(data),
      format: (sections?: ExplainSections) => formatExplanation(data, sections),
      html: () => explanationHtml(data),
      toString: () => formatSummary(data),
    };
  }
}

function wrap<F extends (...args: any[]) => any>(fn: F, options: JitOptions): JitFunction<F> {
  if (typeof fn !== 'function') throw new ValueError(`jit: expects a function (got ${typeof fn})`);
  checkJitOptions(options);
  const where = userSite();
  // The run-time source transform (./rewrite.ts), when asked for.
  if (options.rewrite) fn = rewriteForJit(fn, where);
  const scan = scanFunction(fn);
  // A replay sees a branch on a number only through the hooks: numbers are fed in by default
  // when the function's conditions go through them (or, asked to rewrite, it has none).
  const seen = scan !== undefined && (scan.rewritten || (options.rewrite === true && scan.conditions.length === 0));
  const state = new JitState(fn, options, seen);
  // A failed run-time rewrite has warned about its conditions already.
  if (!options.rewrite) state.plainWarning = plainConditionWarning(state.name, scan, where);
  registry.add(new WeakRef(state));
  const compiled = jitDisabled
    ? function (this: unknown, ...args: unknown[]) { state.stats.calls++; return fn.apply(this, args); }
    : function (this: unknown, ...args: unknown[]) { return state.call(this, args); };
  Object.defineProperty(compiled, 'name', { value: fn.name });
  return Object.assign(compiled, {
    get stats() { return state.stats; },
    explain: (...args: unknown[]) => state.explain(undefined, args),
    clearCache: () => state.clear(),
  }) as unknown as JitFunction<F>;
}

/**
 * Compiles `fn` by tracing: `jit(fn, options?)`; as a method decorator, `@jit` or
 * `@jit({ ...options })` (the object's modules' parameters become live inputs). The result
 * computes what `fn` computes.
 */
export function jit<F extends (...args: any[]) => any>(fn: F, options?: JitOptions): JitFunction<F>;
export function jit<F extends (...args: any[]) => any>(fn: F, context: ClassMethodDecoratorContext): F;
export function jit(options: JitOptions): <F extends (...args: any[]) => any>(fn: F, context: ClassMethodDecoratorContext) => F;
export function jit<F extends (...args: any[]) => any>(
  fn: F | JitOptions, second?: JitOptions | ClassMethodDecoratorContext, ...rest: unknown[]
): JitFunction<F> | F | ((fn: F, context: ClassMethodDecoratorContext) => F) {
  const misuse = decoratorMisuse([fn, second, ...rest]);
  if (misuse !== undefined) throw misuse;
  if (typeof fn !== 'function') {
    if (fn === null || typeof fn !== 'object') throw new ValueError(`jit: expects a function or an options object (got ${fn === null ? 'null' : typeof fn})`);
    const options = fn;
    return (method: F, ...decoratorArgs: unknown[]) => {
      const wrong = decoratorMisuse([method, ...decoratorArgs]);
      if (wrong !== undefined) throw wrong;
      return wrap(method, options);
    };
  }
  if (second !== undefined && 'kind' in second && second.kind === 'method') return wrap(fn, {});
  return wrap(fn, (second as JitOptions | undefined) ?? {});
}

/** The source of a function with its conditions rewritten as jit's source transform does (to look at). */
jit.toCode = toCode;
