/**
 * How the replay interpreter (./interpreter.ts) checks a program's guards:
 *   - inline (CPU): each guard is checked when the replay reaches it; writes go to shadows
 *     until the end, since a later guard may still fail;
 *   - host (WebGPU): every guard is decided on the host before anything is recorded
 *     (number comparisons, `.grad` checks, values of CPU inputs; see ./webgpu-check.ts),
 *     simulating `.grad` assignments in order, so the replay itself cannot fail and writes
 *     go straight into the real storages;
 *   - speculative (async WebGPU functions whose guards read values the GPU computes): the
 *     host-decided guards first, then a run as if every other guard held (./speculation.ts).
 */
import type { EffectParams, Node } from '../../compiler/ir/graph.js';
import { isViewNode, paramsOf } from '../../compiler/ir/node-params.js';
import { sameShape } from '../../compiler/ir/shape.js';
import { InternalError } from '../../runtime/errors.js';
import { apply } from '../dispatch.js';
import { randomState, takeCounters } from '../random.js';
import { readElementSync } from '../storage.js';
import { Tensor, type Device } from '../tensor.js';
import { compareValues } from './compare.js';
import type { ReplayResult } from './replay-result.js';
import { sameValue, sameValues } from './replay-values.js';
import { Shadows } from './shadows.js';
import type { Walked } from './signature.js';
import type { Guard } from './trace.js';
import type { Program } from './variant.js';

/** Counters of the random stream for one call. */
export interface Counters {
  seed: number;
  offset: number;
}

/** One replay's way of checking guards, shadowing writes and drawing random numbers. */
export interface GuardPolicy {
  /** Shadows of the storages the call writes, or undefined when writes go straight to the real storages. */
  readonly shadows: Shadows | undefined;
  /** The call's random counters (asked for when the replay reaches its first random node). */
  counters(): Counters;
  /** Observe node `node` saw `t`: the failure, or undefined when it held or is decided elsewhere. */
  observe(node: number, t: Tensor): ReplayResult | undefined;
  /** The replay ran to its end and every guard held: what it did becomes visible. */
  commit(): void;
}

/** Guards checked as the replay reaches them (the CPU: values are there as soon as they are computed). */
export class InlineGuards implements GuardPolicy {
  readonly shadows: Shadows | undefined;
  #counters: Counters | undefined;

  /** `shadowed`: false where every guard is checked before the replay's first write (see ./replay.ts). */
  constructor(
    readonly guards: readonly Guard[], readonly nodes: readonly Node[], readonly randomCount: number, shadowed = true,
  ) {
    this.shadows = shadowed ? new Shadows() : undefined;
  }

  // The stream advances only when the replay commits: a failed guard reruns the call
  // eagerly, which must draw the same numbers eager execution would.
  counters(): Counters {
    return (this.#counters ??= randomState());
  }

  observe(node: number, t: Tensor): ReplayResult | undefined {
    const p = paramsOf(this.nodes[node]!, 'observe', 'jit replay');
    if (t.size === 1 && t.device === 'cpu' && p.expected.length === 1) {
      // One element (a loop's condition, most guards) is read in place: no array per guard.
      const value = readElementSync(t.storage, t.dtype, t.offset);
      return sameValue(value, p.expected[0]!) ? undefined : { ok: false, guard: this.guards[p.guard]!, got: [value] };
    }
    const values = t.data();
    if (sameValues(values, p.expected)) return undefined;
    return { ok: false, guard: this.guards[p.guard]!, got: Array.from(values, Number) };
  }

  commit(): void {
    this.shadows?.commit();
    if (this.#counters !== undefined) takeCounters(this.randomCount);
  }
}

/** Guards decided before the replay (see checkHostGuards): the replay cannot fail. */
export class HostGuards implements GuardPolicy {
  readonly shadows = undefined;
  // Every guard held already, so the call draws its random numbers now.
  readonly #counters: Counters;

  constructor(randomCount: number) {
    this.#counters = takeCounters(randomCount);
  }

  counters(): Counters {
    return this.#counters;
  }

  observe(): undefined {
    return undefined;
  }

  commit(): void {}
}

/** The tensor of input node `i` for this call (undefined for gradient inputs). */
export function inputTensor(prog: Pick<Program, 'graph' | 'captures'>, walked: Walked, i: number): Tensor | undefined {
  const { source } = paramsOf(prog.graph.nodes[i]!, 'input', 'jit replay');
  if (source.kind === 'arg') return walked.tensors[source.slot];
  return source.kind === 'capture' ? prog.captures[source.slot] : undefined;
}

/** A tensor of this call, or the node whose value the replay is going to compute. */
type Identity = Tensor | number;

/**
 * Decides every guard of `prog` that the host can decide before anything runs, simulating
 * `.grad` assignments in order: number comparisons, `.grad` checks, and the observe nodes
 * of `hostReads` (each with the CPU input node it reads through views). Returns the first
 * that fails.
 */
export function checkHostGuards(
  prog: Program, walked: Walked, devices: readonly (Device | undefined)[], hostReads: ReadonlyMap<number, number>,
): ReplayResult | undefined {
  const nodes = prog.graph.nodes;
  const real: (Identity | undefined)[] = [];
  const grads = new Map<Identity, Identity | null>();
  const identityOf = (n: number): Identity => real[n] ?? n;
  const gradOf = (x: Identity): Identity | null => (grads.has(x) ? grads.get(x)! : x instanceof Tensor ? x.grad : null);
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i]!;
    if (node.op === 'input') {
      const { source } = node.params;
      if (source.kind !== 'grad') {
        real[i] = inputTensor(prog, walked, i);
        continue;
      }
      const grad = gradOf(identityOf(source.of));
      const guard = gradGuard(i);
      if (grad === null) return { ok: false, guard, got: 'null' };
      const meta = grad instanceof Tensor ? grad : { ...nodes[grad]!, device: devices[grad] };
      const same = sameShape(meta.shape, node.shape) && meta.dtype === node.dtype && meta.device === devices[i];
      if (!same) return { ok: false, guard, got: 'a tensor' };
      real[i] = grad;
    } else if (node.op === 'setGrad') {
      const target = real[node.inputs[0]!];
      // Gradients of tensors made inside the call are not visible after it.
      if (target !== undefined) grads.set(target, node.inputs.length > 1 ? identityOf(node.inputs[1]!) : null);
    } else if (node.op === 'observe') {
      const p = node.params;
      const guard = prog.guards[p.guard]!;
      if (p.numberCompare !== undefined) {
        const outcome = numberOutcome(p.numberCompare, walked.numbers);
        if (outcome !== p.expected[0]) return { ok: false, guard, got: [outcome] };
      } else if (p.gradNull) {
        if (gradOf(identityOf(node.inputs[0]!)) !== null) return { ok: false, guard, got: 'a tensor' };
      } else if (hostReads.has(i)) {
        const input = hostReads.get(i)!;
        const values = hostValue(nodes, node.inputs[0]!, input, inputTensor(prog, walked, input)!).data();
        if (!sameValues(values, p.expected)) return { ok: false, guard, got: Array.from(values, Number) };
      }
    }
  }
  return undefined;
}

/** The guard a gradient input stands for: the gradient is a tensor of the traced shape, dtype and device. */
export function gradGuard(node: number): Guard {
  return { node, site: 'unknown location', how: '.grad (a tensor when traced)', expected: [] };
}

/** 1 when the number comparison of an observe node holds for this call's numbers, else 0. */
export function numberOutcome(
  c: NonNullable<EffectParams['observe']['numberCompare']>, numbers: readonly number[],
): number {
  const n = numbers[c.slot]!;
  return (c.swap ? compareValues[c.op](c.other, n) : compareValues[c.op](n, c.other)) ? 1 : 0;
}

/** Value `x`: the tensor of input node `input` seen through the views recorded between them. */
function hostValue(nodes: readonly Node[], x: number, input: number, tensor: Tensor): Tensor {
  if (x === input) return tensor;
  const n = nodes[x]!;
  if (!isViewNode(n)) throw new InternalError(`jit: a guarded value is read through ${n.op}, not a view`);
  return apply(n.op, [hostValue(nodes, n.inputs[0]!, input, tensor)], n.params);
}
