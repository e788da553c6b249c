/**
 * Replays a variant without running the user's function. Inputs come from the new
 * arguments and from captured tensors read live. Storage that the trace writes in place is
 * shadowed copy-on-write, so nothing outside is touched until every guard has held; then
 * the shadows are committed by swapping their buffers in, and `.grad` assignments applied.
 */
import { ARRAY_OF } from '../../runtime/dtype.js';
import { InternalError } from '../../runtime/errors.js';
import type { EffectParams } from '../../compiler/ir/graph.js';
import { sameShape } from '../../compiler/ir/shape.js';
import type { Prim } from '../../compiler/ir/primitives.js';
import { setGradEnabled } from '../autograd/mode.js';
import { apply, writeInto } from '../dispatch.js';
import { takeCounters } from '../random.js';
import { Tensor, type Storage } from '../tensor.js';
import type { Walked } from './signature.js';
import type { Guard } from './trace.js';
import type { OutputSpec, Variant } from './variant.js';

/** A replay's outcome: the result, or the first guard that did not hold. */
export type ReplayResult = { ok: true; value: unknown } | { ok: false; guard: Guard; got: number[] | 'null' | 'a tensor' };

/** A constant node's tensor, made from its recorded values. */
function materialize(node: { shape: number[]; dtype: Tensor['dtype']; params: object }, numbers: readonly number[]): Tensor {
  const p = node.params as EffectParams['constant'];
  const n = node.shape.reduce((a, b) => a * b, 1);
  const data = new ARRAY_OF[node.dtype](n);
  if (p.data !== undefined) data.set(p.data);
  else data.fill(p.numberSlot !== undefined ? numbers[p.numberSlot]! : p.value!);
  return Tensor.fromData(data, node.shape.slice(), node.dtype);
}

function sameValues(a: ArrayLike<number>, b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i]) && !(a[i] !== a[i] && b[i] !== b[i])) return false;
  return true;
}

/** Runs variant `v` for the arguments `walked`. */
export function replay(v: Variant, walked: Walked): ReplayResult {
  const { trace } = v;
  const nodes = trace.graph.nodes;
  const env = new Array<Tensor | undefined>(nodes.length);
  const real = new Array<Tensor | undefined>(nodes.length);

  // Storages this call writes: each gets one shadow, copied on its first write.
  const written = new Set<Storage>();
  const sourceOf = (i: number): Tensor | undefined => {
    const p = nodes[i]!.params as EffectParams['input'];
    if (p.source.kind === 'arg') return walked.tensors[p.source.slot];
    if (p.source.kind === 'capture') return trace.captures[p.source.slot];
    return undefined;
  };
  for (const root of trace.writtenRoots) {
    const t = nodes[root]!.op === 'input' ? sourceOf(root) : undefined;
    if (t) written.add(t.storage);
  }
  const shadowOfReal = new Map<Storage, Storage>();
  const shadowInfo = new Map<Storage, { real: Storage; copied: boolean; commit: boolean }>();
  /** `t` read through its storage's shadow when this call writes that storage (or always, for cached constants). */
  const shadowed = (t: Tensor, constant = false): Tensor => {
    if (!constant && !written.has(t.storage)) return t;
    let s = shadowOfReal.get(t.storage);
    if (s === undefined) {
      s = { data: t.storage.data, device: t.storage.device, version: 0 };
      shadowOfReal.set(t.storage, s);
      shadowInfo.set(s, { real: t.storage, copied: false, commit: !constant });
    }
    return new Tensor(s, t.shape, t.strides, t.offset, t.dtype);
  };
  const pendingGrads = new Map<Tensor, Tensor | null>();
  const currentGrad = (t: Tensor): Tensor | null => (pendingGrads.has(t) ? pendingGrads.get(t)! : t.grad);

  let counters: { seed: number; offset: number } | undefined;
  const previousMode = setGradEnabled(false);
  try {
    for (let i = 0; i < nodes.length; i++) {
      const node = nodes[i]!;
      if (v.outputsRequireGrad) setGradEnabled(trace.gradModes[i]!);
      switch (node.op) {
        case 'input': {
          const p = node.params as EffectParams['input'];
          let t: Tensor | null | undefined;
          if (p.source.kind === 'grad') {
            const of = real[p.source.of] ?? env[p.source.of]!;
            t = currentGrad(of);
            if (t === null || !sameShape(t.shape, node.shape) || t.dtype !== node.dtype) {
              return { ok: false, guard: { node: i, site: 'unknown location', how: '.grad (a tensor when traced)', expected: [] }, got: t === null ? 'null' : 'a tensor' };
            }
          } else {
            t = sourceOf(i);
          }
          if (t === undefined) throw new InternalError(`jit replay: input node ${i} has no source`);
          real[i] = t;
          env[i] = shadowed(t);
          break;
        }
        case 'constant': {
          const p = node.params as EffectParams['constant'];
          let t: Tensor;
          if (p.numberSlot !== undefined) t = materialize(node, walked.numbers);
          else t = v.constants[i] ??= materialize(node, walked.numbers);
          // A cached constant that the trace writes into must not keep the writes.
          env[i] = trace.writtenRoots.has(i) && p.numberSlot === undefined ? shadowed(t, true) : t;
          break;
        }
        case 'write': {
          const target = env[node.inputs[0]!]!;
          const info = shadowInfo.get(target.storage);
          if (info !== undefined && !info.copied) {
            target.storage.data = target.storage.data.slice();
            info.copied = true;
          }
          writeInto('jit', target, env[node.inputs[1]!]!);
          break;
        }
        case 'observe': {
          const p = node.params as EffectParams['observe'];
          const guard = trace.guards[p.guard]!;
          if (p.gradNull) {
            const of = real[node.inputs[0]!] ?? env[node.inputs[0]!]!;
            if (currentGrad(of) !== null) return { ok: false, guard, got: 'a tensor' };
            break;
          }
          const values = env[node.inputs[0]!]!.data();
          if (!sameValues(values, p.expected)) return { ok: false, guard, got: Array.from(values, Number) };
          break;
        }
        case 'setGrad': {
          const target = real[node.inputs[0]!];
          // Gradients of tensors made inside the call are not visible after it.
          if (target !== undefined) pendingGrads.set(target, node.inputs.length > 1 ? env[node.inputs[1]!]! : null);
          break;
        }
        case 'random': {
          counters ??= takeCounters(trace.randomCount);
          const p = node.params as { shape: number[]; offset: number };
          env[i] = apply('random', [], { shape: p.shape, seed: counters.seed, offset: counters.offset + p.offset });
          break;
        }
        default:
          env[i] = apply(node.op as Prim, node.inputs.map((x) => env[x]!), node.params as never);
      }
    }
  } finally {
    setGradEnabled(previousMode);
  }

  // Every guard held: commit.
  for (const [shadow, info] of shadowInfo) {
    if (!info.copied || !info.commit) continue;
    info.real.data = shadow.data;
    info.real.version++;
  }
  for (const [t, g] of pendingGrads) t.grad = g;
  const build = (spec: OutputSpec): unknown => {
    switch (spec.kind) {
      case 'tensor': {
        const t = env[spec.node]!;
        const info = shadowInfo.get(t.storage);
        return info === undefined || !info.commit ? t : new Tensor(info.real, t.shape, t.strides, t.offset, t.dtype);
      }
      case 'array': return spec.items.map(build);
      case 'object': return Object.fromEntries(spec.entries.map(([k, s]) => [k, build(s)]));
      case 'value': return spec.value;
    }
  };
  return { ok: true, value: build(v.output) };
}
