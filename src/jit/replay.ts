/**
 * Replays a variant without running the user's function. Inputs come from the new
 * arguments and from captured tensors read live. Storage that the trace writes in place is
 * shadowed copy-on-write, so nothing outside is touched until every guard has held; then
 * the shadows are committed by swapping their buffers in, and `.grad` assignments applied.
 */
import type { TypedArray } from '../../runtime/dtype.js';
import { cpuKernel } from '../../compiler/execute.js';
import type { FusedStep } from '../../compiler/passes/fuse.js';
import { InternalError } from '../../runtime/errors.js';
import type { EffectParams } from '../../compiler/ir/graph.js';
import { sameShape } from '../../compiler/ir/shape.js';
import type { Prim } from '../../compiler/ir/primitives.js';
import { noGrad, setGradEnabled } from '../autograd/mode.js';
import { apply, empty, writeInto } from '../dispatch.js';
import { contiguous } from '../ops/shape.js';
import { planOf, programOf } from './plan.js';
import { forNodes } from './log.js';
import { compareValues } from './compare.js';
import { LoopRunner } from './loop-run.js';
import { materialize, sameValues } from './replay-values.js';
import type { NamedPass } from '../../compiler/passes/pipeline.js';
import { randomState, takeCounters } from '../random.js';
import { Tensor, type Storage } from '../tensor.js';
import type { Walked } from './signature.js';
import type { Guard } from './trace.js';
import type { OutputSpec, Variant } from './variant.js';
import { replayWebGpu } from './replay-webgpu.js';
import { usesWebGpu } from './webgpu-check.js';

/** A replay's outcome: the result, or the first guard that did not hold. */
export type ReplayResult = { ok: true; value: unknown } | { ok: false; guard: Guard; got: number[] | 'null' | 'a tensor' };

/** Runs variant `v` for the arguments `walked` (a promise for a speculative WebGPU replay, see ./speculation.ts). */
export function replay(v: Variant, walked: Walked, passes: readonly NamedPass[]): ReplayResult | Promise<ReplayResult> {
  // Variants on WebGPU record their kernels into the device's command batch instead.
  if (usesWebGpu(v)) return replayWebGpu(v, walked, passes);
  const trace = programOf(v, passes);
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
  const loopResults = new Map<number, Tensor[]>();
  /** Runs node i as recorded; a guard that does not hold ends the replay. */
  const runNode = (i: number): ReplayResult | undefined => {
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
          // Compiled kernels assume the contiguous layout a gradient normally has.
          if (!t.isContiguous) t = noGrad(() => contiguous(t!));
          // A gradient the trace writes in place (p.grad.mul_(…)) is shadowed like any other
          // written input: a guard that fails later must leave it as it was.
          if (trace.writtenRoots.has(i)) written.add(t.storage);
        } else {
          t = sourceOf(i);
        }
        if (t === undefined) throw new InternalError(`jit replay: input node ${i} has no source`);
        real[i] = t;
        env[i] = shadowed(t);
        return undefined;
      }
      case 'constant': {
        const p = node.params as EffectParams['constant'];
        let t: Tensor;
        if (p.numberSlot !== undefined) t = materialize(node, walked.numbers);
        else t = v.constants[i] ??= materialize(node, walked.numbers);
        // A cached constant that the trace writes into must not keep the writes.
        env[i] = trace.writtenRoots.has(i) && p.numberSlot === undefined ? shadowed(t, true) : t;
        return undefined;
      }
      case 'write': {
        const target = env[node.inputs[0]!]!;
        const info = shadowInfo.get(target.storage);
        if (info !== undefined && !info.copied) {
          target.storage.data = target.storage.data.slice();
          info.copied = true;
        }
        writeInto('jit', target, env[node.inputs[1]!]!);
        return undefined;
      }
      case 'observe': {
        const p = node.params as EffectParams['observe'];
        const guard = trace.guards[p.guard]!;
        if (p.numberCompare !== undefined) {
          const { slot, op, other, swap } = p.numberCompare;
          const n = walked.numbers[slot]!;
          const outcome = (swap ? compareValues[op](other, n) : compareValues[op](n, other)) ? 1 : 0;
          return outcome === p.expected[0] ? undefined : { ok: false, guard, got: [outcome] };
        }
        if (p.gradNull) {
          const of = real[node.inputs[0]!] ?? env[node.inputs[0]!]!;
          return currentGrad(of) !== null ? { ok: false, guard, got: 'a tensor' } : undefined;
        }
        const values = env[node.inputs[0]!]!.data();
        return sameValues(values, p.expected) ? undefined : { ok: false, guard, got: Array.from(values, Number) };
      }
      case 'setGrad': {
        // A tensor made inside the call has its .grad set too: the call may return it.
        // (One that a kernel kept in registers was not returned, and needs none.)
        const target = real[node.inputs[0]!] ?? env[node.inputs[0]!];
        if (target !== undefined) pendingGrads.set(target, node.inputs.length > 1 ? env[node.inputs[1]!]! : null);
        return undefined;
      }
      case 'loop': {
        let runner = v.loops.get(i);
        if (runner === undefined) v.loops.set(i, (runner = new LoopRunner(node.params as EffectParams['loop'], passes)));
        const { results, iterations } = runner.run(node.inputs.map((x) => env[x]!), walked.numbers);
        loopResults.set(i, results);
        env[i] = Tensor.fromData(Int32Array.of(iterations), [], 'int32');
        return undefined;
      }
      case 'loopResult':
        env[i] = loopResults.get(node.inputs[0]!)![(node.params as EffectParams['loopResult']).index]!;
        return undefined;
      case 'random': {
        // The stream advances only when the replay commits: a failed guard reruns the call
        // eagerly, which must draw the same numbers eager execution would.
        counters ??= randomState();
        const p = node.params as { shape: number[]; offset: number };
        env[i] = apply('random', [], { shape: p.shape, seed: counters.seed, offset: counters.offset + p.offset });
        return undefined;
      }
      default:
        env[i] = apply(node.op as Prim, node.inputs.map((x) => env[x]!), node.params as never);
        return undefined;
    }
  };
  /** Runs a fused kernel: fresh buffers for the values it stores, the rest stay in registers. */
  const runFused = (step: FusedStep): void => {
    const outs = step.outputs.map((o, k) => {
      const target = step.targets[k];
      if (target === undefined) {
        // Buffers that never leave the call are reused from one replay to the next.
        if (plan.persistent.has(o)) return (v.buffers[o] ??= empty(nodes[o]!.shape.slice(), nodes[o]!.dtype));
        return empty(nodes[o]!.shape.slice(), nodes[o]!.dtype);
      }
      // Stored in place (an absorbed write): copy-on-write first, as a write node would.
      const t = env[target]!;
      const info = shadowInfo.get(t.storage);
      if (info !== undefined && !info.copied) {
        t.storage.data = t.storage.data.slice();
        info.copied = true;
      }
      t.storage.version++;
      return t;
    });
    const ins = step.inputs.map((x) => env[x]!);
    const argv: (TypedArray | number)[] = [];
    for (const t of outs) argv.push(t.storage.data);
    for (const t of ins) argv.push(t.storage.data);
    for (const t of outs) argv.push(t.offset);
    for (const t of ins) argv.push(t.offset);
    forNodes(step.nodes, () => cpuKernel({ key: step.key, build: () => step.spec })).apply(undefined, argv);
    step.outputs.forEach((o, k) => { if (step.targets[k] === undefined) env[o] = outs[k]; });
  };

  const plan = planOf(v, walked);
  const previousMode = setGradEnabled(false);
  try {
    if (v.outputsRequireGrad) {
      // Autograd needs every op as a recorded node: no fusion.
      for (let i = 0; i < nodes.length; i++) {
        const failed = runNode(i);
        if (failed) return failed;
      }
    } else {
      for (const step of plan.steps) {
        if (step.kind === 'fused') runFused(step);
        else {
          const failed = runNode(step.node);
          if (failed) return failed;
        }
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
  // Constants are cached across replays: an output or a gradient holding one (or a view of
  // one) gets its own copy, since the caller may write into it.
  const cached = new Set(v.constants.flatMap((t) => (t ? [t.storage] : [])));
  const copies = new Map<Storage, Storage>();
  const own = (t: Tensor): Tensor => {
    if (!cached.has(t.storage)) return t;
    let copy = copies.get(t.storage);
    if (copy === undefined) copies.set(t.storage, (copy = { data: t.storage.data.slice(), device: t.storage.device, version: 0 }));
    return new Tensor(copy, t.shape, t.strides, t.offset, t.dtype);
  };
  for (const [t, g] of pendingGrads) t.grad = g === null ? null : own(g);
  if (counters !== undefined) takeCounters(trace.randomCount);
  const build = (spec: OutputSpec): unknown => {
    switch (spec.kind) {
      case 'tensor': {
        const t = env[spec.node]!;
        if (cached.has(t.storage)) return own(t);
        const info = shadowInfo.get(t.storage);
        return info === undefined || !info.commit ? t : new Tensor(info.real, t.shape, t.strides, t.offset, t.dtype);
      }
      case 'array': return spec.items.map(build);
      case 'object': return Object.fromEntries(spec.entries.map(([k, s]) => [k, build(s)]));
      case 'value': return spec.value;
    }
  };
  return { ok: true, value: build(trace.output) };
}
