/**
 * The replay interpreter: runs one call of a compiled variant without running the user's
 * function, on the CPU and on WebGPU alike. Inputs come from the new arguments and from
 * captured tensors read live; fused steps run through their device's executor
 * (./executor.ts), other nodes through `apply`. How guards are checked, whether in-place
 * writes go to shadows, and when the random stream advances is the guard policy's
 * (./guard-policy.ts): inline on the CPU, decided on the host or speculative on WebGPU.
 * `.grad` assignments are held until the end and applied by `finish`, after the policy
 * committed the call's writes.
 */
import type { EffectParams, Node } from '../../compiler/ir/graph.js';
import { isPrimNode, isViewNode, paramsOf } from '../../compiler/ir/node-params.js';
import { sameShape, sizeOf } from '../../compiler/ir/shape.js';
import type { FusedStep, Step } from '../../compiler/passes/fuse.js';
import { InternalError } from '../../runtime/errors.js';
import { noGrad, setGradEnabled } from '../autograd/mode.js';
import { toGpu } from '../device.js';
import { apply, onDevice, writeInto } from '../dispatch.js';
import { contiguous } from '../ops/shape.js';
import { tidy } from '../memory.js';
import { Tensor, type Device, type Storage } from '../tensor.js';
import { REGISTRY_MIN_BYTES, pinStorage, readStorageSync, storageBytes, storageLength } from '../storage.js';
import { isMoveToGpu } from './devices.js';
import { bindPrim, cpuExecutor } from './executor-cpu.js';
import { webGpuExecutor } from './executor-webgpu.js';
import type { DeviceExecutor } from './executor.js';
import type { DeviceLoop } from './loop-device.js';
import type { HostLoop } from './loop-host.js';
import type { LoopRunner } from './loop-run.js';
import { gradGuard, inputTensor, numberOutcome, type Counters, type GuardPolicy } from './guard-policy.js';
import { assignGrads, replayGradOf } from './replay-grads.js';
import { materialize } from './replay-values.js';
import type { ReplayResult } from './replay-result.js';
import type { Walked } from './signature.js';
import type { OutputSpec, Program, Variant } from './variant.js';

/** A CPU storage's elements on the GPU, as of its `version`. */
export interface Upload {
  version: number;
  base: Tensor;
}

/** Where the values of a variant that uses WebGPU live, made on its first replay. */
export interface Placement {
  devices: (Device | undefined)[];
  /** The fused steps that run on the GPU. */
  gpuSteps: Set<FusedStep>;
  /** GPU copies of the variant's cached constants, by the constant's CPU storage. */
  uploads: WeakMap<Storage, Upload>;
  /** Storage roots that write nodes write in place. */
  writtenRoots: Set<number>;
}

/** What the interpreter reads of a variant: its plan, and what it keeps from call to call. */
export type VariantView = Pick<Variant, 'plan' | 'constants' | 'buffers' | 'outputsRequireGrad' | 'loops'>;

/** What the interpreter reads of a program. */
export type ProgramView = Pick<Program, 'graph' | 'gradModes' | 'captures' | 'guards' | 'writtenRoots' | 'output'>;

/** How an interpretation runs, beyond its variant, arguments and guard policy. */
export interface InterpretOptions {
  /** For a variant that uses WebGPU: where its values live. Without it every value is on the CPU. */
  placement?: Placement;
  /**
   * Kernels are bound instead of run: each call goes to `bound` in order and every computed
   * value gets a buffer kept with the variant, so the calls can run again and again (a lifted
   * loop's graphs, once per iteration; see ./loop-run.ts).
   */
  bound?: (() => void)[];
  /** Makes the runner of a lifted loop node, on the node's first run: compiled on the CPU, a kernel on WebGPU. */
  loopRunner?: (params: EffectParams['loop']) => LoopRunner | DeviceLoop | HostLoop;
}

/** One call's replay. */
export class Interpretation {
  readonly nodes: readonly Node[];
  readonly env: (Tensor | undefined)[];
  /** Input tensors of the call (a gradient input's tensor before any contiguous copy). */
  readonly real: (Tensor | undefined)[] = [];
  readonly pendingGrads = new Map<Tensor, Tensor | null>();
  /** Tensors made now that the variant keeps (cached constants, kept buffers): a call's scope must not dispose them. */
  readonly keep: Tensor[] = [];
  /** Storages the variant caches: a result over one is copied, since its caller may write into it. */
  readonly cached = new Set<Storage>();
  /** Storages this call writes in place: read through the policy's shadows, if it has any. */
  readonly #written = new Set<Storage>();
  /** This call's uploads of CPU values read by GPU steps, by CPU storage. */
  readonly #uploads = new Map<Storage, Upload>();
  readonly #loopResults = new Map<number, Tensor[]>();
  #counters: Counters | undefined;

  readonly placement: Placement | undefined;
  readonly bound: (() => void)[] | undefined;

  constructor(
    readonly v: VariantView, readonly prog: ProgramView, readonly walked: Walked, readonly policy: GuardPolicy,
    readonly options: InterpretOptions = {},
  ) {
    this.placement = options.placement;
    this.bound = options.bound;
    this.nodes = prog.graph.nodes;
    this.env = new Array<Tensor | undefined>(this.nodes.length);
    if (policy.shadows === undefined) return;
    for (const root of prog.writtenRoots) {
      const t = this.nodes[root]!.op === 'input' ? inputTensor(prog, walked, root) : undefined;
      if (t) this.#written.add(t.storage);
    }
  }

  /** Runs the plan (kernels launched or recorded, other nodes applied); the first guard that failed, if one did. */
  record(): ReplayResult | undefined {
    if (this.v.outputsRequireGrad) {
      // Autograd needs every op as a recorded node: no fusion.
      for (let i = 0; i < this.nodes.length; i++) {
        setGradEnabled(this.prog.gradModes[i]!);
        const failed = this.#runNode(i);
        if (failed) return failed;
      }
      setGradEnabled(false);
      return undefined;
    }
    for (const step of this.v.plan!.steps) {
      if (step.kind === 'fused') this.#runFused(step);
      else {
        const failed = this.#runNode(step.node);
        if (failed) return failed;
      }
    }
    return undefined;
  }

  /**
   * `record()` for a plan with host-driven loops (./loop-host.ts), which settle later: runs
   * up to each loop, runs the loop (waiting for it through `wait`), and goes on. The steps
   * between loops run in tidy scopes that keep the values, so only what a step made on
   * the side (a view of an upload, say) goes at once; the loops manage their own memory.
   */
  async recordAsync(wait: <T>(pending: Promise<T>) => Promise<T>): Promise<ReplayResult | undefined> {
    const grad = this.v.outputsRequireGrad;
    const steps: readonly Step[] = grad ? this.nodes.map((_, node) => ({ kind: 'node', node })) : this.v.plan!.steps;
    for (let at = 0; at < steps.length; at++) {
      const { failed } = tidy(() => {
        for (; at < steps.length; at++) {
          const step = steps[at]!;
          if (step.kind === 'fused') this.#runFused(step);
          else if (this.nodes[step.node]!.op === 'loop') break;
          else {
            if (grad) setGradEnabled(this.prog.gradModes[step.node]!);
            const result = this.#runNode(step.node);
            if (result) return { failed: result, kept: [] };
          }
        }
        const uploads = [...this.#uploads.values()].map((u) => u.base);
        return { failed: undefined, kept: [this.env, uploads, this.keep, [...this.pendingGrads.values()]] };
      });
      if (failed) return failed;
      if (at === steps.length) break;
      const node = (steps[at] as { node: number }).node;
      const run = this.#runnerOf(node).run(this.nodes[node]!.inputs.map((x) => this.env[x]!), this.walked.numbers);
      this.#loopRan(node, run instanceof Promise ? await wait(run) : run);
    }
    setGradEnabled(false);
    return undefined;
  }

  /**
   * Disposes the tensors this call made that its result, its gradients and the variant do
   * not hold (a replay that waited for a host-driven loop ran outside any tidy scope), from
   * REGISTRY_MIN_BYTES up: smaller ones spill cheaply into shared arrays, and walking every
   * value of a guarded loop's hundreds of thousands of one-element ones made its replay 2.2×
   * slower (the seed loop's 100,000 iterations: 190 → 430 ms). So on the CPU only the
   * program's large values are looked at.
   */
  disposeTemporaries(): void {
    const candidates: Tensor[] = [];
    // A WebGPU buffer never spills: every one goes.
    const onCpu = this.placement === undefined;
    const consider = (t: Tensor | undefined): void => {
      if (t === undefined || t.isDisposed) return;
      if (t.storage.device !== 'cpu' || storageBytes(t.storage) >= REGISTRY_MIN_BYTES) candidates.push(t);
    };
    if (onCpu) for (const i of largeValuesOf(this.prog)) consider(this.env[i]);
    else this.env.forEach(consider);
    // A loop's results include values nothing after it reads (their loopResult nodes are gone).
    for (const ts of this.#loopResults.values()) ts.forEach(consider);
    if (candidates.length > 0) {
      const held = new Set<Tensor>([...this.resultTensors(this.prog.output), ...this.keep]);
      for (const t of this.v.buffers) if (t !== undefined) held.add(t);
      for (const t of this.pendingGrads.values()) if (t !== null) held.add(t);
      for (const t of this.real) if (t !== undefined) held.add(t);
      for (const t of candidates) if (!t.isDisposed && !held.has(t) && !this.cached.has(t.storage)) t.dispose();
    }
    for (const { base } of this.#uploads.values()) if (!base.isDisposed) base.dispose();
  }

  /** Every guard held: commits the call's writes, applies its gradients and returns its result. */
  finish(): unknown {
    this.policy.commit();
    const copies = new Map<Storage, Storage>();
    const grads = new Map<Tensor, Tensor | null>();
    for (const [t, grad] of this.pendingGrads) grads.set(t, grad === null ? null : this.#own(grad, copies));
    const result = this.#build(this.prog.output, copies);
    // Tensor objects that someone else holds: the call's inputs, the variant's own, the result's.
    let returned: Set<Tensor> | undefined;
    const held = (g: Tensor) => this.real.includes(g) || this.v.buffers.includes(g) || this.v.constants.includes(g) ||
      this.keep.includes(g) || (returned ??= builtTensors(this.prog.output, result, new Set())).has(g);
    assignGrads(grads, (g) => !held(g));
    return result;
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

  #build(spec: OutputSpec, copies: Map<Storage, Storage>): unknown {
    switch (spec.kind) {
      case 'tensor': return this.#own(this.env[spec.node]!, copies);
      case 'array': return spec.items.map((s) => this.#build(s, copies));
      case 'object': return Object.fromEntries(spec.entries.map(([k, s]) => [k, this.#build(s, copies)]));
      case 'value': return spec.value;
    }
  }

  /**
   * `t` as the caller gets it: over the real storage when it is over a committed shadow, and
   * copied when the variant caches its storage (one copy per storage on the CPU, so views keep sharing).
   */
  #own(t: Tensor, copies: Map<Storage, Storage>): Tensor {
    if (!this.cached.has(t.storage)) return this.policy.shadows?.real(t) ?? t;
    if (t.device !== 'cpu') return noGrad(() => apply('copy', [t], {}));
    let copy = copies.get(t.storage);
    if (copy === undefined) copies.set(t.storage, (copy = cpuExecutor.copyStorage(t.storage, t.dtype).storage));
    return new Tensor(copy, t.shape, t.strides, t.offset, t.dtype);
  }

  #deviceOf(i: number): Device {
    return this.placement?.devices[i] ?? 'cpu';
  }

  /** `t` as the call reads and writes it: through a shadow when the call writes its storage while a guard may fail. */
  #shadowed(t: Tensor): Tensor {
    const shadows = this.policy.shadows;
    return shadows === undefined || !this.#written.has(t.storage) ? t : shadows.of(t);
  }

  /** Runs a fused step (binds it, in a bound interpretation) on its device. */
  #runFused(step: FusedStep): void {
    const onGpu = this.placement?.gpuSteps.has(step) === true;
    const executor = onGpu ? webGpuExecutor : cpuExecutor;
    const outs = new Array<Tensor>(step.outputs.length);
    for (let k = 0; k < outs.length; k++) outs[k] = this.#output(step, k, executor);
    const ins = new Array<Tensor>(step.inputs.length);
    for (let k = 0; k < ins.length; k++) ins[k] = onGpu ? this.#onGpu(step.inputs[k]!) : this.env[step.inputs[k]!]!;
    if (this.bound !== undefined) this.bound.push(executor.bind(step, outs, ins));
    else executor.run(step, outs, ins);
    for (let k = 0; k < outs.length; k++) if (step.targets[k] === undefined) this.env[step.outputs[k]!] = outs[k];
  }

  /** Where output `k` of `step` is stored: its in-place target, a kept buffer, or a fresh one from `executor`. */
  #output(step: FusedStep, k: number, executor: DeviceExecutor): Tensor {
    const target = step.targets[k];
    if (target !== undefined) {
      // Stored in place (an absorbed write): copy-on-write first, as a write node would.
      const t = this.env[target]!;
      this.policy.shadows?.beforeWrite(t.storage);
      t.storage.version++;
      return t;
    }
    const o = step.outputs[k]!, n = this.nodes[o]!;
    // Buffers that never leave the call are reused from one call to the next.
    if (this.bound === undefined && !this.v.plan!.persistent.has(o)) return executor.empty(n.shape.slice(), n.dtype);
    return this.#persistent(o, () => executor.empty(n.shape.slice(), n.dtype));
  }

  /** Where the variant keeps node `o`'s buffer across calls (remade if a tidy scope disposed it). */
  #persistent(o: number, make: () => Tensor): Tensor {
    let b = this.v.buffers[o];
    if (b === undefined || b.isDisposed) {
      b = this.v.buffers[o] = make();
      pinStorage(b.storage);
      this.keep.push(b);
    }
    return b;
  }

  /** Constant node `i`'s tensor: cached with the variant, unless it holds a number argument or the call writes it. */
  #constant(i: number): Tensor {
    const node = this.nodes[i]!;
    if (node.op !== 'constant') throw new InternalError(`jit replay: node ${i} is ${node.op}, not a constant`);
    const p = node.params;
    if (p.numberSlot !== undefined || this.prog.writtenRoots.has(i)) return materialize(node, this.walked.numbers);
    let c = this.v.constants[i];
    if (c === undefined || c.isDisposed) {
      c = this.v.constants[i] = materialize(node, this.walked.numbers);
      this.keep.push(c);
    }
    this.cached.add(c.storage);
    return c;
  }

  /** Value `x` as a GPU operand: itself, or (a CPU value) a view of the same layout over an upload of its storage. */
  #onGpu(x: number): Tensor {
    const t = this.env[x]!;
    if (t.device === 'webgpu') return t;
    // Cached constants upload once per variant; other values once per call and version (the call may write them).
    const cached = this.cached.has(t.storage);
    const uploads = cached ? this.placement!.uploads : this.#uploads;
    const { version } = t.storage;
    let upload = uploads.get(t.storage);
    if (upload === undefined || upload.version !== version || upload.base.isDisposed) {
      upload = { version, base: webGpuExecutor.upload(readStorageSync(t.storage, t.dtype, 0, storageLength(t.storage)), t.dtype) };
      uploads.set(t.storage, upload);
      if (cached) this.keep.push(upload.base);
    }
    if (cached) this.cached.add(upload.base.storage);
    return new Tensor(upload.base.storage, t.shape, t.strides, t.offset, t.dtype);
  }

  /** Move node `i` of value `x`: a cached constant moves once per variant, anything else on every call. */
  #moved(i: number, x: number): Tensor {
    const t = this.env[x]!;
    if (t.device === 'webgpu') return apply('copy', [t], {});
    const constant = this.nodes[x]!.op === 'constant' && this.cached.has(t.storage);
    return constant && !this.placement!.writtenRoots.has(i) ? this.#onGpu(x) : toGpu(t);
  }

  /** Input node `i`: an argument, a captured tensor or a gradient as it is at this point of the call. */
  #input(i: number): ReplayResult | undefined {
    const node = this.nodes[i]!;
    const { source } = paramsOf(node, 'input', 'jit replay');
    if (source.kind !== 'grad') {
      const t = inputTensor(this.prog, this.walked, i);
      if (t === undefined) throw new InternalError(`jit replay: input node ${i} has no source`);
      this.real[i] = t;
      this.env[i] = this.#shadowed(t);
      return undefined;
    }
    const of = this.real[source.of] ?? this.env[source.of]!;
    const t = this.pendingGrads.has(of) ? this.pendingGrads.get(of)! : replayGradOf(of);
    if (t === null || !sameShape(t.shape, node.shape) || t.dtype !== node.dtype) {
      return { ok: false, guard: gradGuard(i), got: t === null ? 'null' : 'a tensor' };
    }
    // A gradient the trace writes in place (p.grad.mul_(…)) is shadowed like any other
    // written input: a guard that fails later must leave it as it was.
    if (this.prog.writtenRoots.has(i) && this.policy.shadows !== undefined) this.#written.add(t.storage);
    this.real[i] = t;
    // Compiled kernels assume the contiguous layout a gradient normally has.
    this.env[i] = t.isContiguous ? this.#shadowed(t) : noGrad(() => contiguous(t));
    return undefined;
  }

  /** Observe node `i`: number comparisons and `.grad` checks here, observed values by the policy. */
  #observe(i: number): ReplayResult | undefined {
    const node = this.nodes[i]!;
    const p = paramsOf(node, 'observe', 'jit replay');
    const guard = this.prog.guards[p.guard]!;
    if (p.numberCompare !== undefined) {
      const outcome = numberOutcome(p.numberCompare, this.walked.numbers);
      return outcome === p.expected[0] ? undefined : { ok: false, guard, got: [outcome] };
    }
    if (p.gradNull) {
      const of = this.real[node.inputs[0]!] ?? this.env[node.inputs[0]!]!;
      const grad = this.pendingGrads.has(of) ? this.pendingGrads.get(of)! : replayGradOf(of);
      return grad !== null ? { ok: false, guard, got: 'a tensor' } : undefined;
    }
    return this.policy.observe(i, this.env[node.inputs[0]!]!);
  }

  /** Binds primitive node `i`: a view is made now, any other value is computed into its kept buffer by each call. */
  #bindNode(i: number): undefined {
    const node = this.nodes[i]!;
    if (!isPrimNode(node) || node.op === 'random') {
      throw new InternalError(`jit loop: a loop graph cannot run ${node.op} nodes`);
    }
    const inputs = node.inputs.map((x) => this.env[x]!);
    if (isViewNode(node)) {
      this.env[i] = apply(node.op, inputs, node.params);
      return undefined;
    }
    const out = this.#persistent(i, () => cpuExecutor.empty(node.shape.slice(), node.dtype));
    this.bound!.push(bindPrim(node.op, node.params, inputs, out));
    this.env[i] = out;
    return undefined;
  }

  /** The runner of loop node `i`, made on its first run. */
  #runnerOf(i: number): LoopRunner | DeviceLoop | HostLoop {
    let runner = this.v.loops.get(i);
    if (runner === undefined) {
      if (this.options.loopRunner === undefined) throw new InternalError(`jit replay: loop node ${i} has no runner`);
      this.v.loops.set(i, (runner = this.options.loopRunner(paramsOf(this.nodes[i]!, 'loop', 'jit replay'))));
    }
    return runner;
  }

  /** Loop node `i` ran: its results for its loopResult nodes, its iteration count as its value. */
  #loopRan(i: number, { results, iterations }: { results: Tensor[]; iterations: number | Tensor }): void {
    this.#loopResults.set(i, results);
    this.env[i] = typeof iterations === 'number' ? Tensor.fromData(Int32Array.of(iterations), [], 'int32') : iterations;
  }

  /** Whether unfused node `i` runs into a buffer kept across calls (CPU plans only; autograd needs `apply`). */
  #keepsBuffer(i: number): boolean {
    return this.placement === undefined && !this.v.outputsRequireGrad && this.v.plan!.persistent.has(i);
  }

  /** Runs node `i` as recorded; a guard that does not hold ends the replay. */
  #runNode(i: number): ReplayResult | undefined {
    const node = this.nodes[i]!;
    const device = this.#deviceOf(i);
    if (this.bound !== undefined && node.op !== 'input' && node.op !== 'constant') return this.#bindNode(i);
    switch (node.op) {
      case 'input': return this.#input(i);
      case 'observe': return this.#observe(i);
      case 'constant':
        this.env[i] = this.#constant(i);
        if (device === 'webgpu') this.env[i] = this.#onGpu(i);
        return undefined;
      case 'write': {
        const [target, value] = node.inputs as [number, number];
        const t = this.env[target]!;
        this.policy.shadows?.beforeWrite(t.storage);
        writeInto('jit', t, t.device === 'webgpu' ? this.#onGpu(value) : this.env[value]!);
        return undefined;
      }
      case 'setGrad': {
        // A tensor made inside the call has its .grad set too: the call may return it.
        // (One that a kernel kept in registers was not returned, and needs none.)
        const target = this.real[node.inputs[0]!] ?? this.env[node.inputs[0]!];
        const grad = node.inputs.length > 1 ? this.env[node.inputs[1]!]! : null;
        if (target !== undefined) this.pendingGrads.set(target, grad);
        return undefined;
      }
      case 'loop': {
        const run = this.#runnerOf(i).run(node.inputs.map((x) => this.env[x]!), this.walked.numbers);
        if (run instanceof Promise) {
          throw new InternalError(`jit replay: the host-driven loop node ${i} in a synchronous replay`);
        }
        this.#loopRan(i, run);
        return undefined;
      }
      case 'loopResult':
        this.env[i] = this.#loopResults.get(node.inputs[0]!)![node.params.index]!;
        return undefined;
      case 'random': {
        const counters = (this.#counters ??= this.policy.counters());
        const p = node.params;
        const params = { shape: p.shape, seed: counters.seed, offset: counters.offset + p.offset };
        this.env[i] = onDevice(device, () => apply('random', [], params));
        return undefined;
      }
    }
    if (isMoveToGpu(node)) {
      this.env[i] = this.#moved(i, node.inputs[0]!);
      return undefined;
    }
    const inputs = node.inputs.map((x) => (device === 'webgpu' ? this.#onGpu(x) : this.env[x]!));
    if (this.#keepsBuffer(i) && isPrimNode(node)) {
      // Computed into the buffer the variant keeps: no allocation, and nothing left for the collector.
      const out = this.#persistent(i, () => cpuExecutor.empty(node.shape.slice(), node.dtype));
      bindPrim(node.op, node.params, inputs, out)();
      this.env[i] = out;
      return undefined;
    }
    // An op without operands (iota) runs where its value lives, not on the caller's default device.
    const run = () => apply(node.op, inputs, node.params);
    this.env[i] = inputs.length === 0 ? onDevice(device, run) : run();
    return undefined;
  }
}

/** The tensors of `value`, a result built for `spec`, added to `into`. */
function builtTensors(spec: OutputSpec, value: unknown, into: Set<Tensor>): Set<Tensor> {
  switch (spec.kind) {
    case 'tensor': return into.add(value as Tensor);
    case 'array': return spec.items.reduce((acc, s, k) => builtTensors(s, (value as unknown[])[k], acc), into);
    case 'object': {
      const fields = value as Record<string, unknown>;
      return spec.entries.reduce((acc, [key, s]) => builtTensors(s, fields[key], acc), into);
    }
    case 'value': return into;
  }
}

/** Per program, the nodes whose values may reach REGISTRY_MIN_BYTES (at 4 bytes an element or more). */
const largeValues = new WeakMap<ProgramView, number[]>();

function largeValuesOf(prog: ProgramView): number[] {
  let large = largeValues.get(prog);
  if (large === undefined) {
    large = [];
    for (let i = 0; i < prog.graph.nodes.length; i++) {
      if (sizeOf(prog.graph.nodes[i]!.shape) * 4 >= REGISTRY_MIN_BYTES) large.push(i);
    }
    largeValues.set(prog, large);
  }
  return large;
}
