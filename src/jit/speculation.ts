/**
 * The speculative guard policy, for async WebGPU variants whose guards read values the GPU
 * computes. The whole variant is recorded at once, as if every guard held; in-place writes
 * go to copy-on-write shadows (./shadows.ts) and every observed value is packed for one
 * readback (./guard-readback.ts). When the values come back they are compared with the
 * traced ones: if all match, the shadows are committed and the result is built; if one does
 * not, nothing the caller can see has changed, and the caller falls back to eager as it
 * does on the CPU.
 */
import type { Node } from '../../compiler/ir/graph.js';
import { paramsOf } from '../../compiler/ir/node-params.js';
import { randomState, setRandomState, takeCounters } from '../random.js';
import type { Tensor } from '../tensor.js';
import type { Counters, GuardPolicy } from './guard-policy.js';
import { GuardReadback, type ReadbackLayout } from './guard-readback.js';
import type { ReplayResult } from './replay-result.js';
import { sameValues } from './replay-values.js';
import { Shadows } from './shadows.js';
import type { Guard } from './trace.js';

/** One speculative replay's shadows, pending readback and random draws. */
export class Speculation implements GuardPolicy {
  readonly shadows = new Shadows();
  readonly readback: GuardReadback;
  /** The host-decided guards held, so the call draws its random numbers now (given back if a guard fails). */
  readonly #counters: Counters;

  constructor(
    layout: ReadbackLayout,
    readonly nodes: readonly Node[],
    readonly guards: readonly Guard[],
    readonly randomCount: number,
  ) {
    this.readback = new GuardReadback(layout);
    this.#counters = takeCounters(randomCount);
  }

  counters(): Counters {
    return this.#counters;
  }

  observe(node: number, t: Tensor): undefined {
    // Guards decided before the run need nothing more; the others' values are read back after it.
    if (this.readback.reads(node)) this.readback.record(node, t);
  }

  commit(): void {
    this.shadows.commit();
  }

  /**
   * Waits for the observed values. When every one is as traced: returns `finish()`'s result
   * (which commits, and builds it over the real storages); tensors of `made` that are over
   * shadows were replaced by it and are disposed. Otherwise: discards the shadows, disposes
   * `made` (the results and gradients this call computed) and returns the first guard, in
   * program order, that failed.
   */
  async settle(finish: () => unknown, made: readonly Tensor[]): Promise<ReplayResult> {
    let failed: ReplayResult | undefined;
    try {
      failed = this.#firstFailure(await this.readback.values());
    } catch (e) {
      this.abandon(made);
      throw e;
    }
    if (failed !== undefined) {
      this.abandon(made);
      return failed;
    }
    const value = finish();
    for (const t of made) if (this.shadows.isShadowed(t)) t.dispose();
    return { ok: true, value };
  }

  /** Undoes everything the replay did that the caller could see: shadows, packed buffer, random draws, `made`. */
  abandon(made: readonly Tensor[]): void {
    this.readback.release();
    this.shadows.discard();
    for (const t of made) t.dispose();
    // The eager rerun must draw the numbers eager execution would: give the counters back,
    // unless something drew after them meanwhile (then the stream moves on, never repeating).
    const { seed, offset } = this.#counters;
    const now = randomState();
    const untouched = now.seed === seed && now.offset === offset + this.randomCount;
    if (this.randomCount > 0 && untouched) setRandomState({ seed, offset });
  }

  #firstFailure(values: Map<number, ArrayLike<number>>): ReplayResult | undefined {
    for (const o of [...values.keys()].sort((a, b) => a - b)) {
      const p = paramsOf(this.nodes[o]!, 'observe', 'jit webgpu replay');
      const got = values.get(o)!;
      if (sameValues(got, p.expected)) continue;
      return { ok: false, guard: this.guards[p.guard]!, got: Array.from(got, Number) };
    }
    return undefined;
  }
}
