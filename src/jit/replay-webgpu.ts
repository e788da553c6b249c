/**
 * Replays a variant whose tensors live on WebGPU. Kernels are recorded into the device's
 * open command batch and nothing waits for the GPU, so every guard the host can decide is
 * decided first (./guard-policy.ts), and then the replay interpreter runs the plan in
 * program order: fused steps as WGSL launches (or generated JS for the CPU scalars of the
 * graph, such as an optimizer's step count), other nodes through `apply`. When no guard is
 * left, in-place writes go straight into the real storage, since nothing can fail any more,
 * and `.grad` assignments are applied at the end. An async variant whose guards read values
 * the graph computes runs speculatively instead (./speculation.ts): writes go to shadows,
 * the observed values come back in one readback, and the replay (a promise) commits only if
 * they match. Values the graph makes from JS (constants) are materialized on the CPU once
 * and uploaded once; intermediates are disposed when the call ends, so GPU memory stays flat.
 */
import { defaultWgslLimits } from '../../compiler/codegen/wgsl.js';
import type { FusedStep } from '../../compiler/passes/fuse.js';
import { wgslOf } from '../../compiler/passes/gpu-launches.js';
import type { NamedPass } from '../../compiler/passes/pipeline.js';
import { InternalError } from '../../runtime/errors.js';
import { setGradEnabled } from '../autograd/mode.js';
import { tidy } from '../memory.js';
import { eagerGpu, isReady } from '../webgpu.js';
import { valueDevices } from './devices.js';
import { launchesOf } from './executor-webgpu.js';
import { checkHostGuards, HostGuards, inputTensor } from './guard-policy.js';
import { readbackLayout, type ReadbackLayout } from './guard-readback.js';
import { Interpretation, type Placement } from './interpreter.js';
import { log, logs } from './log.js';
import { gpuLoopRunner, hasHostLoops, replayWithHostLoops } from './loop-replay.js';
import { planOf, programOf } from './plan.js';
import type { ReplayResult } from './replay-result.js';
import type { Walked } from './signature.js';
import { Speculation } from './speculation.js';
import type { Program, Variant } from './variant.js';
import { hostReadInput } from './webgpu-check.js';

/** What a variant keeps for its WebGPU replays, made on the first one. */
interface GpuVariant extends Placement {
  /** For each guard on values that the host decides before the run, the CPU input node it reads (through views). */
  hostReads: Map<number, number>;
  /** Where the values of the other guards come back from (async variants only); undefined when there are none. */
  deferred: ReadbackLayout | undefined;
  /** Whether a lifted loop runs host-driven (./loop-replay.ts): the replay then settles after its readbacks. */
  hostLoops: boolean;
}

const gpuVariants = new WeakMap<Variant, GpuVariant>();

function gpuVariantOf(v: Variant, prog: Program, walked: Walked): GpuVariant {
  let g = gpuVariants.get(v);
  if (g !== undefined) return g;
  const nodes = prog.graph.nodes;
  const tensorOf = (i: number) => inputTensor(prog, walked, i);
  const devices = valueDevices(nodes, prog.roots, (i) => (nodes[i]!.op === 'input' ? tensorOf(i) : undefined));
  // One storage buffer per kernel arg: the device's limit caps what fusion may merge.
  const plan = planOf(v, walked, () => ({ maxArgs: eagerGpu().gpu.limits.maxStorageBuffersPerShaderStage, devices }));
  const hostReads = new Map<number, number>();
  const deferred: number[] = [];
  nodes.forEach((n, o) => {
    if (n.op !== 'observe' || n.params.numberCompare !== undefined || n.params.gradNull) return;
    const input = hostReadInput(nodes, prog.roots, o, tensorOf);
    if (input !== undefined) hostReads.set(o, input);
    else if (v.trace.isAsync) deferred.push(o);
    // webgpu-check.ts keeps synchronous variants with guards on other values eager.
    else {
      throw new InternalError(
        `jit webgpu replay: guard %${o} of a synchronous function reads a value the host cannot see before the replay`,
      );
    }
  });
  const writes = nodes.filter((n) => n.op === 'write');
  const writtenRoots = new Set(writes.map((n) => prog.roots[n.inputs[0]!] ?? n.inputs[0]!));
  const layout = deferred.length > 0 ? readbackLayout(nodes, deferred, devices) : undefined;
  const hostLoops = hasHostLoops(prog);
  g = { devices, gpuSteps: new Set(), uploads: new WeakMap(), writtenRoots, hostReads, deferred: layout, hostLoops };
  for (const st of plan.steps) {
    if (st.kind !== 'fused' || devices[st.outputs[0]!] !== 'webgpu') continue;
    g.gpuSteps.add(st);
    if (!logs('kernels')) continue;
    const names = st.nodes.map((n) => `%${n}`).join(' ');
    log('kernels', `jit webgpu kernel for ${names}\n${wgslOf(st, eagerGpu().renderer)}`);
  }
  gpuVariants.set(v, g);
  return g;
}

/** The WGSL of a fused step of `v` that runs on the GPU (for explain); undefined for other steps. */
export function webGpuKernelSource(v: Variant, step: FusedStep): string | undefined {
  if (!gpuVariants.get(v)?.gpuSteps.has(step)) return undefined;
  return wgslOf(step, isReady() ? eagerGpu().renderer : defaultWgslLimits);
}

/**
 * Kernel launches of one WebGPU replay of `v` (a merged kernel launches each of its parts);
 * undefined for other variants.
 */
export function webGpuLaunchCount(v: Variant): number | undefined {
  const g = gpuVariants.get(v);
  if (g === undefined || v.plan === undefined) return undefined;
  // A lifted loop is one launch of its loop kernel (./loop-device.ts).
  let extra = v.program?.graph.nodes.filter((n) => n.op === 'loop').length ?? 0;
  for (const step of g.gpuSteps) extra += launchesOf(step).length - 1;
  return v.plan.kernelCount + extra;
}

/**
 * Runs variant `v` on WebGPU for the arguments `walked`: the result at once, or, for a
 * variant with guards on values the GPU computes, a promise of it (see ./speculation.ts).
 */
export function replayWebGpu(
  v: Variant, walked: Walked, passes: readonly NamedPass[],
): ReplayResult | Promise<ReplayResult> {
  const prog = programOf(v, passes);
  const g = gpuVariantOf(v, prog, walked);
  if (g.hostLoops) {
    const failed = checkHostGuards(prog, walked, g.devices, g.hostReads);
    return failed ?? replayWithHostLoops(v, prog, walked, g, passes);
  }
  const previousMode = setGradEnabled(false);
  try {
    // The call's scope disposes every tensor made during it except what the result reaches,
    // the gradients it assigns and what the variant caches; a speculative run also keeps
    // its shadows and its results until its guards come back.
    const { result } = tidy(() => {
      const failed = checkHostGuards(prog, walked, g.devices, g.hostReads);
      if (failed !== undefined) return { result: failed as ReplayResult, kept: [] };
      if (g.deferred === undefined) {
        const options = { placement: g, loopRunner: gpuLoopRunner(passes) };
        const run = new Interpretation(v, prog, walked, new HostGuards(prog.randomCount), options);
        const value = run.record() ?? { ok: true, value: run.finish() };
        return { result: value, kept: [[...run.pendingGrads.values()], run.keep] };
      }
      return speculate(v, prog, g, walked, passes);
    });
    return result;
  } finally {
    setGradEnabled(previousMode);
  }
}

/**
 * Records a speculative run of `v` (./speculation.ts): the promise of its result, and what
 * the call's scope must keep until that settles (results, gradients, shadows, caches).
 */
function speculate(
  v: Variant, prog: Program, g: GpuVariant, walked: Walked, passes: readonly NamedPass[],
): { result: Promise<ReplayResult>; kept: unknown[] } {
  const speculation = new Speculation(g.deferred!, prog.graph.nodes, prog.guards, prog.randomCount);
  const run = new Interpretation(v, prog, walked, speculation, { placement: g, loopRunner: gpuLoopRunner(passes) });
  try {
    // The host decided every guard a speculative run could fail on its own.
    const failed = run.record();
    if (failed !== undefined) {
      throw new InternalError('jit webgpu replay: a guard the host checked failed during the run');
    }
  } catch (e) {
    speculation.abandon([]);
    throw e;
  }
  const grads = [...run.pendingGrads.values()].flatMap((t) => (t === null ? [] : [t]));
  const computed = [...run.resultTensors(prog.output), ...grads];
  // The caller's own tensors (an argument returned as is) are never disposed.
  const made = computed.filter((t) => !run.real.includes(t) && !run.cached.has(t.storage));
  const kept = [computed, run.keep, speculation.shadows.holders()];
  return { result: speculation.settle(() => run.finish(), made), kept };
}
