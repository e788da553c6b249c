/**
 * Replays a variant whose tensors live on WebGPU. Kernels are recorded into the device's
 * open command batch and nothing waits for the GPU, so the replay is split in two:
 *   1. every guard the host can decide is decided first (number comparisons, `.grad`
 *      checks, values of CPU inputs; see ./webgpu-check.ts), simulating `.grad` assignments
 *      in order, so a failing guard falls back to eager with nothing recorded or written;
 *   2. then the plan runs in program order: fused steps as WGSL launches (or generated JS
 *      for the CPU scalars of the graph, such as an optimizer's step count), other nodes
 *      through `apply`. When no guard is left, in-place writes go straight into the real
 *      storage, since nothing can fail any more, and `.grad` assignments are applied at the
 *      end. An async variant whose guards read values the graph computes runs
 *      speculatively instead (./speculation.ts): writes go to shadows, the observed values
 *      come back in one readback, and the replay (a promise) commits only if they match.
 * Values the graph makes from JS (constants) are materialized on the CPU once and uploaded
 * once; intermediates are disposed when the call ends, so GPU memory stays flat.
 */
import type { EffectParams, Node } from '../../compiler/ir/graph.js';
import { defaultWgslLimits } from '../../compiler/codegen/wgsl.js';
import { cpuKernel } from '../../compiler/execute.js';
import type { Prim } from '../../compiler/ir/primitives.js';
import { sameShape } from '../../compiler/ir/shape.js';
import type { FusedStep } from '../../compiler/passes/fuse.js';
import type { NamedPass } from '../../compiler/passes/pipeline.js';
import { ARRAY_OF, type TypedArray } from '../../runtime/dtype.js';
import { InternalError } from '../../runtime/errors.js';
import { noGrad, setGradEnabled } from '../autograd/mode.js';
import { gpuEmpty, gpuOperand, toGpu, uploadGpuStorage } from '../device.js';
import { apply, empty, onDevice, writeInto } from '../dispatch.js';
import { tidy } from '../memory.js';
import { contiguous } from '../ops/shape.js';
import { takeCounters } from '../random.js';
import { Tensor, type Device, type Storage } from '../tensor.js';
import { eagerGpu, isReady } from '../webgpu.js';
import { compareValues } from './compare.js';
import { isMoveToGpu, valueDevices } from './devices.js';
import { gpuLaunches, wgslOf, type GpuLaunch } from './gpu-kernels.js';
import { log, logs } from './log.js';
import { planOf, programOf } from './plan.js';
import { materialize, sameValues, type ReplayResult } from './replay.js';
import type { Walked } from './signature.js';
import { Speculation } from './speculation.js';
import type { Guard } from './trace.js';
import type { OutputSpec, Program, Variant } from './variant.js';
import { readbackLayout, type ReadbackLayout } from './guard-readback.js';
import { hostReadInput } from './webgpu-check.js';

/** A CPU storage's elements on the GPU, as of its `version`. */
interface Upload {
  version: number;
  base: Tensor;
}

/** What a variant keeps for its WebGPU replays, made on the first one. */
interface GpuVariant {
  devices: (Device | undefined)[];
  /** The launches of every fused step that runs on the GPU. */
  launches: Map<FusedStep, GpuLaunch[]>;
  /** GPU copies of the variant's cached constants, by the constant's CPU storage. */
  uploads: WeakMap<Storage, Upload>;
  /** Storage roots the program writes in place. */
  writtenRoots: Set<number>;
  /** For each guard on values that the host decides before the run, the CPU input node it reads (through views). */
  hostReads: Map<number, number>;
  /** Where the values of the other guards come back from (async variants only); undefined when there are none. */
  deferred: ReadbackLayout | undefined;
}

const gpuVariants = new WeakMap<Variant, GpuVariant>();

/** The tensor of input node `i` for this call (undefined for gradient inputs). */
function inputTensor(prog: Program, walked: Walked, i: number): Tensor | undefined {
  const { source } = prog.graph.nodes[i]!.params as EffectParams['input'];
  return source.kind === 'arg' ? walked.tensors[source.slot] : source.kind === 'capture' ? prog.captures[source.slot] : undefined;
}

function gpuVariantOf(v: Variant, prog: Program, walked: Walked): GpuVariant {
  let g = gpuVariants.get(v);
  if (g !== undefined) return g;
  const nodes = prog.graph.nodes;
  const devices = valueDevices(nodes, prog.roots, (i) => (nodes[i]!.op === 'input' ? inputTensor(prog, walked, i) : undefined));
  // One storage buffer per kernel arg: the device's limit caps what fusion may merge.
  const plan = planOf(v, walked, () => ({ maxArgs: eagerGpu().gpu.limits.maxStorageBuffersPerShaderStage, devices }));
  const tensorOf = (i: number) => inputTensor(prog, walked, i);
  const hostReads = new Map<number, number>();
  const deferred: number[] = [];
  nodes.forEach((n, o) => {
    const p = n.params as EffectParams['observe'];
    if (n.op !== 'observe' || p.numberCompare !== undefined || p.gradNull) return;
    const input = hostReadInput(nodes, prog.roots, o, tensorOf);
    if (input !== undefined) hostReads.set(o, input);
    else if (v.trace.isAsync) deferred.push(o);
    // webgpu-check.ts keeps synchronous variants with guards on other values eager.
    else throw new InternalError(`jit webgpu replay: guard %${o} of a synchronous function reads a value the host cannot see before the replay`);
  });
  const writtenRoots = new Set(nodes.flatMap((n) => (n.op === 'write' ? [prog.roots[n.inputs[0]!] ?? n.inputs[0]!] : [])));
  const layout = deferred.length > 0 ? readbackLayout(nodes, deferred, devices) : undefined;
  g = { devices, launches: new Map(), uploads: new WeakMap(), writtenRoots, hostReads, deferred: layout };
  for (const st of plan.steps) {
    if (st.kind !== 'fused' || devices[st.outputs[0]!] !== 'webgpu') continue;
    g.launches.set(st, gpuLaunches(st));
    if (logs('kernels')) log('kernels', `jit webgpu kernel for ${st.nodes.map((n) => `%${n}`).join(' ')}\n${wgslOf(st, eagerGpu().renderer)}`);
  }
  gpuVariants.set(v, g);
  return g;
}

/** The WGSL of a fused step of `v` that runs on the GPU (for explain); undefined for other steps. */
export function webGpuKernelSource(v: Variant, step: FusedStep): string | undefined {
  if (!gpuVariants.get(v)?.launches.has(step)) return undefined;
  return wgslOf(step, isReady() ? eagerGpu().renderer : defaultWgslLimits);
}

/** Kernel launches of one WebGPU replay of `v` (a merged kernel launches each of its parts); undefined for other variants. */
export function webGpuLaunchCount(v: Variant): number | undefined {
  const g = gpuVariants.get(v);
  if (g === undefined || v.plan === undefined) return undefined;
  let extra = 0;
  for (const launches of g.launches.values()) extra += launches.length - 1;
  return v.plan.kernelCount + extra;
}

/** A tensor of this call, or the node whose value the replay is going to compute. */
type Identity = Tensor | number;

/**
 * Decides every guard of the program that the host can decide before anything runs,
 * simulating `.grad` assignments in order. Returns the first that fails.
 */
function checkGuards(prog: Program, walked: Walked, g: GpuVariant): ReplayResult | undefined {
  const nodes = prog.graph.nodes;
  const devices = g.devices;
  const real: (Identity | undefined)[] = [];
  const grads = new Map<Identity, Identity | null>();
  const identityOf = (n: number): Identity => real[n] ?? n;
  const gradOf = (x: Identity): Identity | null => (grads.has(x) ? grads.get(x)! : x instanceof Tensor ? x.grad : null);
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i]!;
    if (node.op === 'input') {
      const { source } = node.params as EffectParams['input'];
      if (source.kind !== 'grad') {
        real[i] = inputTensor(prog, walked, i);
        continue;
      }
      const grad = gradOf(identityOf(source.of));
      const guard: Guard = { node: i, site: 'unknown location', how: '.grad (a tensor when traced)', expected: [] };
      if (grad === null) return { ok: false, guard, got: 'null' };
      const meta = grad instanceof Tensor ? { shape: grad.shape, dtype: grad.dtype, device: grad.device } : { ...nodes[grad]!, device: devices[grad] };
      if (!sameShape(meta.shape, node.shape) || meta.dtype !== node.dtype || meta.device !== devices[i]) return { ok: false, guard, got: 'a tensor' };
      real[i] = grad;
    } else if (node.op === 'setGrad') {
      const target = real[node.inputs[0]!];
      // Gradients of tensors made inside the call are not visible after it.
      if (target !== undefined) grads.set(target, node.inputs.length > 1 ? identityOf(node.inputs[1]!) : null);
    } else if (node.op === 'observe') {
      const p = node.params as EffectParams['observe'];
      const guard = prog.guards[p.guard]!;
      if (p.numberCompare !== undefined) {
        const { slot, op, other, swap } = p.numberCompare;
        const n = walked.numbers[slot]!;
        const outcome = (swap ? compareValues[op](other, n) : compareValues[op](n, other)) ? 1 : 0;
        if (outcome !== p.expected[0]) return { ok: false, guard, got: [outcome] };
      } else if (p.gradNull) {
        if (gradOf(identityOf(node.inputs[0]!)) !== null) return { ok: false, guard, got: 'a tensor' };
      } else if (g.hostReads.has(i)) {
        const input = g.hostReads.get(i)!;
        const values = hostValue(nodes, node.inputs[0]!, input, inputTensor(prog, walked, input)!).data();
        if (!sameValues(values, p.expected)) return { ok: false, guard, got: Array.from(values, Number) };
      }
    }
  }
  return undefined;
}

/** Value `x`: the tensor of input node `input` seen through the views recorded between them. */
function hostValue(nodes: readonly Node[], x: number, input: number, tensor: Tensor): Tensor {
  if (x === input) return tensor;
  const n = nodes[x]!;
  return apply(n.op as Prim, [hostValue(nodes, n.inputs[0]!, input, tensor)], n.params as never);
}

/**
 * Runs variant `v` on WebGPU for the arguments `walked`: the result at once, or, for a
 * variant with guards on values the GPU computes, a promise of it (see ./speculation.ts).
 */
export function replayWebGpu(v: Variant, walked: Walked, passes: readonly NamedPass[]): ReplayResult | Promise<ReplayResult> {
  const prog = programOf(v, passes);
  const g = gpuVariantOf(v, prog, walked);
  const previousMode = setGradEnabled(false);
  try {
    // The call's scope disposes every tensor made during it except what the result reaches,
    // the gradients it assigns and what the variant caches; a speculative run also keeps
    // its shadows and its results until its guards come back.
    const { result } = tidy(() => {
      const failed = checkGuards(prog, walked, g);
      if (failed !== undefined) return { result: failed as ReplayResult, kept: [] };
      if (g.deferred === undefined) {
        const run = new Run(v, prog, g, walked);
        run.record();
        const value = run.finish();
        return { result: { ok: true, value } as ReplayResult, kept: [[...run.pendingGrads.values()], run.keep] };
      }
      return speculate(v, prog, g, walked);
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
function speculate(v: Variant, prog: Program, g: GpuVariant, walked: Walked): { result: Promise<ReplayResult>; kept: unknown[] } {
  const speculation = new Speculation(g.deferred!, prog.graph.nodes, prog.guards, { ...takeCounters(prog.randomCount), count: prog.randomCount });
  const run = new Run(v, prog, g, walked, speculation);
  try {
    run.record();
  } catch (e) {
    speculation.abandon([]);
    throw e;
  }
  const computed = [...run.resultTensors(prog.output), ...run.pendingGrads.values()].flatMap((t) => (t === null ? [] : [t]));
  // The caller's own tensors (an argument returned as is) are never disposed.
  const made = computed.filter((t) => !run.real.includes(t) && !run.cached.has(t.storage));
  return { result: speculation.settle(() => run.finish(), made), kept: [computed, run.keep, speculation.shadows.holders()] };
}

/** One call's run, after its host-decided guards held. */
class Run {
  readonly nodes: readonly Node[];
  readonly env: (Tensor | undefined)[];
  /** Input tensors of the call (a gradient input's tensor before any contiguous copy). */
  readonly real: (Tensor | undefined)[] = [];
  readonly pendingGrads = new Map<Tensor, Tensor | null>();
  /** Tensors made now that stay with the variant (cached constants, persistent buffers): the call's scope must not dispose them. */
  readonly keep: Tensor[] = [];
  /** Storages the variant caches: a result over one is copied, since its caller may write into it. */
  readonly cached = new Set<Storage>();
  /** This call's uploads of CPU values read by GPU steps, by CPU storage. */
  readonly uploads = new Map<Storage, Upload>();
  readonly counters: { seed: number; offset: number };
  readonly gpu = eagerGpu();

  /** With `speculation`, writes go to its shadows and guards on computed values to its readback. */
  constructor(readonly v: Variant, readonly prog: Program, readonly g: GpuVariant, readonly walked: Walked, readonly speculation?: Speculation) {
    this.nodes = prog.graph.nodes;
    this.env = new Array<Tensor | undefined>(this.nodes.length);
    // Every guard held (a speculation gives the numbers back if one of its guards fails), so
    // the call draws its random numbers now.
    this.counters = speculation?.counters ?? takeCounters(prog.randomCount);
  }

  /** Runs the plan: kernels recorded, CPU steps run. */
  record(): void {
    const plan = this.v.plan!;
    if (this.v.outputsRequireGrad) {
      // Autograd needs every op as a recorded node: no fusion.
      for (let i = 0; i < this.nodes.length; i++) {
        setGradEnabled(this.prog.gradModes[i]!);
        this.runNode(i);
      }
      setGradEnabled(false);
    } else {
      for (const step of plan.steps) {
        if (step.kind === 'node') this.runNode(step.node);
        else if (this.g.launches.has(step)) this.runGpuStep(step, this.g.launches.get(step)!);
        else this.runCpuStep(step);
      }
    }
  }

  /** Applies the gradients and returns the result (after a speculation committed: over the real storages). */
  finish(): unknown {
    for (const [t, grad] of this.pendingGrads) t.grad = grad === null ? null : this.committed(grad);
    return this.build(this.prog.output);
  }

  /** `t`, or when it is over a committed shadow, the same view of the real storage. */
  committed(t: Tensor): Tensor {
    return this.speculation === undefined ? t : this.speculation.shadows.real(t);
  }

  /** `t` as the run reads and writes it: through a shadow when the call writes its storage speculatively. */
  shadowed(i: number, t: Tensor): Tensor {
    const shadows = this.speculation?.shadows;
    if (shadows === undefined || !(this.g.writtenRoots.has(i) || shadows.has(t.storage))) return t;
    return shadows.of(t);
  }

  /** The tensors of the result described by `spec`, as computed. */
  resultTensors(spec: OutputSpec): Tensor[] {
    switch (spec.kind) {
      case 'tensor': return [this.env[spec.node]!];
      case 'array': return spec.items.flatMap((s) => this.resultTensors(s));
      case 'object': return spec.entries.flatMap(([, s]) => this.resultTensors(s));
      case 'value': return [];
    }
  }

  /** The tensor of constant node `i`: cached with the variant, unless it holds a number argument or the call writes it. */
  constant(i: number): Tensor {
    const node = this.nodes[i]!;
    const p = node.params as EffectParams['constant'];
    if (p.numberSlot !== undefined || this.g.writtenRoots.has(i)) return materialize(node, this.walked.numbers);
    let c = this.v.constants[i];
    if (c === undefined || c.isDisposed) {
      c = this.v.constants[i] = materialize(node, this.walked.numbers);
      this.keep.push(c);
    }
    this.cached.add(c.storage);
    return c;
  }

  /** Value `x` as a GPU operand: itself, or (a CPU value) a view of the same layout over an upload of its storage. */
  onGpu(x: number): Tensor {
    const t = this.env[x]!;
    if (t.device === 'webgpu') return t;
    // Cached constants upload once per variant; other values once per call and version (the call may write them).
    const cached = this.cached.has(t.storage);
    const uploads = cached ? this.g.uploads : this.uploads;
    const { version } = t.storage;
    let upload = uploads.get(t.storage);
    if (upload === undefined || upload.version !== version || upload.base.isDisposed) {
      const gpu = uploadGpuStorage(t.storage.data, t.dtype);
      upload = { version, base: new Tensor({ data: new ARRAY_OF[t.dtype](0), device: 'webgpu', version: 0, gpu }, [gpu.length], [1], 0, t.dtype) };
      uploads.set(t.storage, upload);
      if (cached) this.keep.push(upload.base);
    }
    if (cached) this.cached.add(upload.base.storage);
    return new Tensor(upload.base.storage, t.shape, t.strides, t.offset, t.dtype);
  }

  /** Where the variant keeps node `o`'s buffer across calls (remade if a tidy scope disposed it). */
  persistent(o: number, make: () => Tensor): Tensor {
    let b = this.v.buffers[o];
    if (b === undefined || b.isDisposed) {
      b = this.v.buffers[o] = make();
      this.keep.push(b);
    }
    return b;
  }

  /** The tensors a fused step stores into: in-place targets, kept buffers, or fresh ones from `make`. */
  outputsOf(step: FusedStep, make: (shape: number[], dtype: Tensor['dtype']) => Tensor): Tensor[] {
    return step.outputs.map((o, k) => {
      const target = step.targets[k];
      if (target !== undefined) {
        const t = this.env[target]!;
        t.storage.version++;
        return t;
      }
      const n = this.nodes[o]!;
      // Buffers that never leave the call are reused from one call to the next.
      if (this.v.plan!.persistent.has(o)) return this.persistent(o, () => make(n.shape.slice(), n.dtype));
      return make(n.shape.slice(), n.dtype);
    });
  }

  runGpuStep(step: FusedStep, launches: readonly GpuLaunch[]): void {
    const outs = this.outputsOf(step, (shape, dtype) => gpuEmpty('jit', shape, dtype));
    const operands = [...outs, ...step.inputs.map((x) => this.onGpu(x))].map(gpuOperand);
    for (const l of launches) {
      const kernel = this.gpu.compile(l.key, () => l.spec);
      this.gpu.run([{ kernel, args: l.operands.map((a) => operands[a]!), scalars: [] }]);
    }
    step.outputs.forEach((o, k) => { if (step.targets[k] === undefined) this.env[o] = outs[k]; });
  }

  /** A fused step on CPU values (scalars of the graph, such as an optimizer's step count). */
  runCpuStep(step: FusedStep): void {
    const outs = this.outputsOf(step, empty);
    const ins = step.inputs.map((x) => this.env[x]!);
    const argv: (TypedArray | number)[] = [];
    for (const t of outs) argv.push(t.storage.data);
    for (const t of ins) argv.push(t.storage.data);
    for (const t of outs) argv.push(t.offset);
    for (const t of ins) argv.push(t.offset);
    cpuKernel({ key: step.key, build: () => step.spec }).apply(undefined, argv);
    step.outputs.forEach((o, k) => { if (step.targets[k] === undefined) this.env[o] = outs[k]; });
  }

  runNode(i: number): void {
    const node = this.nodes[i]!;
    const onGpu = this.g.devices[i] === 'webgpu';
    switch (node.op) {
      case 'input': {
        const { source } = node.params as EffectParams['input'];
        if (source.kind !== 'grad') {
          const t = inputTensor(this.prog, this.walked, i)!;
          this.real[i] = t;
          this.env[i] = this.shadowed(i, t);
          return;
        }
        const of = this.real[source.of] ?? this.env[source.of]!;
        // The guards checked that it is a tensor of the traced shape, dtype and device.
        const t = (this.pendingGrads.has(of) ? this.pendingGrads.get(of) : of.grad)!;
        this.real[i] = t;
        // Compiled kernels assume the contiguous layout a gradient normally has.
        this.env[i] = t.isContiguous ? this.shadowed(i, t) : noGrad(() => contiguous(t));
        return;
      }
      case 'constant':
        this.env[i] = this.constant(i);
        if (onGpu) this.env[i] = this.onGpu(i);
        return;
      case 'write': {
        const [target, value] = node.inputs as [number, number];
        const t = this.env[target]!;
        writeInto('jit', t, t.device === 'webgpu' ? this.onGpu(value) : this.env[value]!);
        return;
      }
      case 'observe':
        // Guards decided before the run need nothing more; the others' values are read back after it.
        if (this.speculation?.readback.reads(i)) this.speculation.readback.record(i, this.env[node.inputs[0]!]!);
        return;
      case 'setGrad': {
        // A tensor made inside the call has its .grad set too: the call may return it.
        const target = this.real[node.inputs[0]!] ?? this.env[node.inputs[0]!];
        if (target !== undefined) this.pendingGrads.set(target, node.inputs.length > 1 ? this.env[node.inputs[1]!]! : null);
        return;
      }
      case 'random': {
        const p = node.params as { shape: number[]; offset: number };
        const params = { shape: p.shape, seed: this.counters.seed, offset: this.counters.offset + p.offset };
        this.env[i] = onDevice(onGpu ? 'webgpu' : 'cpu', () => apply('random', [], params));
        return;
      }
    }
    if (isMoveToGpu(node)) {
      this.env[i] = this.moved(i, node.inputs[0]!);
      return;
    }
    const inputs = node.inputs.map((x) => (onGpu ? this.onGpu(x) : this.env[x]!));
    // An op without operands (iota) runs where its value lives, not on the caller's default device.
    this.env[i] = onDevice(onGpu ? 'webgpu' : 'cpu', () => apply(node.op as Prim, inputs, node.params as never));
  }

  /** Move node `i` of value `x`: a cached constant moves once per variant, anything else on every call. */
  moved(i: number, x: number): Tensor {
    const t = this.env[x]!;
    if (t.device === 'webgpu') return apply('copy', [t], {});
    const constant = this.nodes[x]!.op === 'constant' && this.cached.has(t.storage);
    return constant && !this.g.writtenRoots.has(i) ? this.onGpu(x) : toGpu(t);
  }

  build(spec: OutputSpec): unknown {
    switch (spec.kind) {
      case 'tensor': {
        const t = this.env[spec.node]!;
        return this.cached.has(t.storage) ? noGrad(() => apply('copy', [t], {})) : this.committed(t);
      }
      case 'array': return spec.items.map((s) => this.build(s));
      case 'object': return Object.fromEntries(spec.entries.map(([k, s]) => [k, this.build(s)]));
      case 'value': return spec.value;
    }
  }
}
