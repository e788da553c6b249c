/**
 * The host-driven form of a lifted loop on WebGPU, for a loop whose body does not fuse into
 * one kernel over the loop variables' elements (a matmul, a reduction): the condition and
 * the body run as compiled graphs (fused WGSL kernels, planned once), and the host decides
 * when to stop. Reading the condition after every iteration would cost one readback per
 * iteration, so iterations run speculatively in batches: k iterations are recorded into the
 * open command batch at once, each one's loop variables kept and its condition copied into
 * one k-element buffer, and the k conditions come back in ONE readback. The loop continues
 * from the first false condition (the iterations recorded after it are dropped; a liftable
 * body is pure tensor code, so running them changed nothing anyone can see), or, when all k
 * held, records the next batch from the last values.
 *
 * k adapts: a call expects the trip count the previous call ran (plus its final, false
 * condition). Its first batch is that many conditions (at most MAX_BATCH), the next ones
 * what is left of it, and once the loop outruns it, twice the largest batch so far (at most
 * MAX_BATCH). A loop that takes about as many iterations every call costs about
 * n / MAX_BATCH + 1 readbacks and wastes few iterations; a loop of n iterations whose first
 * batch was k costs at most ceil(n / k) + 1. Power iteration on a [64,64] matrix, 68
 * iterations a call on lavapipe: 2 readbacks a call against eager's 69.
 */
import type { EffectParams, Graph, Node } from '../../compiler/ir/graph.js';
import { isViewNode, paramsOf } from '../../compiler/ir/node-params.js';
import { planFusion, type FusedStep, type FusionPlan, type Step } from '../../compiler/passes/fuse.js';
import { wgslOf } from '../../compiler/passes/gpu-launches.js';
import { runPasses, type NamedPass } from '../../compiler/passes/pipeline.js';
import { InternalError } from '../../runtime/errors.js';
import { noGrad } from '../autograd/mode.js';
import { gpuEmpty, gpuOperand, readAsync, toGpu } from '../device.js';
import { apply } from '../dispatch.js';
import { tidy } from '../memory.js';
import type { Tensor } from '../tensor.js';
import { eagerGpu } from '../webgpu.js';
import { valueDevices } from './devices.js';
import { HostGuards } from './guard-policy.js';
import { Interpretation, type Placement, type ProgramView, type VariantView } from './interpreter.js';
import { verifyPasses } from './log.js';
import { graphLayouts } from './plan.js';

/**
 * Largest batch of speculative iterations. Each wasted iteration (recorded after the first
 * false condition) costs its launches; 64 keeps a batch's launches within a few command
 * buffers while a loop of thousands of iterations still needs only tens of readbacks.
 */
export const MAX_BATCH = 64;

/** What one run of a host-driven loop did, for tests and benchmarks that watch it. */
export interface HostLoopRun {
  site: string;
  iterations: number;
  /** The size of each batch of iterations recorded before one readback of their conditions. */
  batches: number[];
}

const observers = new Set<(run: HostLoopRun) => void>();

/**
 * The last trip count of the loop at each site: a variant's runner, made on its first
 * replay, starts from what the traced calls ran instead of from one iteration.
 */
const lastTrips = new Map<string, number>();

/** Calls `observer` after every run of a host-driven loop; returns a function that stops it. */
export function observeHostLoops(observer: (run: HostLoopRun) => void): () => void {
  observers.add(observer);
  return () => observers.delete(observer);
}

/** The argument an input node of a loop graph reads (loop graphs read only arguments). */
function argSlot(n: Node): number {
  const { source } = paramsOf(n, 'input', 'jit loop');
  if (source.kind !== 'arg') throw new InternalError(`jit loop: a loop graph input reads a ${source.kind}`);
  return source.slot;
}

/** One of the loop's graphs, optimized and fused for WebGPU once, run by the replay interpreter. */
class GpuGraph {
  readonly plan: FusionPlan;
  /** The requested values, renumbered into the optimized graph. */
  readonly outputs: number[];
  readonly #variant: VariantView;
  readonly #program: ProgramView;
  readonly #placement: Placement;

  constructor(graph: Graph, outputs: readonly number[], args: readonly Tensor[], passes: readonly NamedPass[]) {
    const r = runPasses(graph, passes, { outputs: new Set(outputs) }, { verify: verifyPasses });
    const g = r.graph;
    this.outputs = outputs.map((o) => r.remap[o]!);
    const roots: number[] = [];
    g.nodes.forEach((n, i) => {
      roots[i] = isViewNode(n) ? roots[n.inputs[0]!]! : i;
    });
    const devices = valueDevices(g.nodes, roots, (i) => args[argSlot(g.nodes[i]!)]);
    const layouts = graphLayouts(g, (n) => args[argSlot(n)]!.strides);
    const maxArgs = eagerGpu().gpu.limits.maxStorageBuffersPerShaderStage;
    this.plan = planFusion(g, layouts, new Set(this.outputs), roots, { maxArgs, devices });
    const onGpu = (s: Step): s is FusedStep => s.kind === 'fused' && devices[s.outputs[0]!] === 'webgpu';
    const gpuSteps = new Set(this.plan.steps.filter(onGpu));
    this.#placement = { devices, gpuSteps, uploads: new WeakMap(), writtenRoots: new Set() };
    this.#variant = { plan: this.plan, constants: [], buffers: [], outputsRequireGrad: false, loops: new Map() };
    this.#program = {
      graph: g, gradModes: g.nodes.map(() => false), captures: [], guards: [], writtenRoots: new Set(),
      output: { kind: 'value', value: undefined },
    };
  }

  /**
   * Records one run on `args` into the open command batch: the requested values, and the
   * tensors the graph keeps from run to run (which an enclosing tidy scope must not dispose).
   */
  run(args: readonly Tensor[], numbers: readonly number[]): { values: Tensor[]; keep: Tensor[] } {
    const walked = { shapeKey: '', tensors: args.slice(), numbers: numbers.slice() };
    const options = { placement: this.#placement };
    const run = new Interpretation(this.#variant, this.#program, walked, new HostGuards(0), options);
    run.record();
    return { values: this.outputs.map((o) => run.env[o]!), keep: run.keep };
  }
}

/** One batch's recording: each iteration's loop variables (at its condition), exits and the packed conditions. */
interface Batch {
  states: Tensor[][];
  exits: Tensor[][];
  flags: Tensor;
  keep: Tensor[];
}

/** A lifted loop of a WebGPU variant that runs host-driven; made on the variant's first replay. */
export class HostLoop {
  #cond: GpuGraph | undefined;
  #body: GpuGraph | undefined;

  constructor(readonly params: EffectParams['loop'], readonly passes: readonly NamedPass[]) {}

  /** The condition's and the body's kernel plans, once they exist (for explain()). */
  get plans(): { cond?: FusionPlan; body?: FusionPlan } {
    return { ...(this.#cond ? { cond: this.#cond.plan } : {}), ...(this.#body ? { body: this.#body.plan } : {}) };
  }

  /** The WGSL of a fused step of the condition or the body (for explain()). */
  source(step: FusedStep): string {
    return wgslOf(step, eagerGpu().renderer);
  }

  /**
   * Runs the loop from `operands` (first values of the loop variables, then the invariants):
   * the loop variables' final values, on the GPU, and the iteration count. `segment` wraps
   * each synchronous stretch of recording (a trace pauses its recording there).
   */
  async run(
    operands: readonly Tensor[], numbers: readonly number[], segment: <R>(record: () => R) => R = (record) => record(),
  ): Promise<{ results: Tensor[]; iterations: number }> {
    const p = this.params;
    const invariants = operands.slice(p.carried).map((t) => (t.device === 'webgpu' ? t : segment(() => toGpu(t))));
    // The graphs are planned for contiguous loop variables, which is what the body makes.
    let state = segment(() => noGrad(() => operands.slice(0, p.carried).map(contiguousCopy)));
    // The caller's tensors and the invariants' uploads outlive the loop: never disposed, copied when a result.
    const protect = new Set([...operands, ...invariants]);
    const owned = new Set([...protect].map((t) => t.storage));
    const batches: number[] = [];
    let iterations = 0;
    // The first batch: the last call's trip count plus its final condition.
    const expected = (lastTrips.get(p.site) ?? 0) + 1;
    let k = Math.min(expected, MAX_BATCH);
    let recorded = 0;
    for (;;) {
      const from = state;
      const batch = segment(() => tidy(() => noGrad(() => this.#record(from, invariants, numbers, k))));
      batches.push(k);
      recorded += k;
      const flags = await readAsync(batch.flags);
      let stop = 0;
      while (stop < k && truthy(flags[stop]!)) stop++;
      const last = stop < k ? batch.exits[stop]! : batch.states[k]!;
      const keep = new Set<Tensor>([...last, ...(stop < k ? [] : batch.states[k]!)]);
      const drop = new Set<Tensor>([batch.flags, ...batch.states.flat(), ...batch.exits.flat()]);
      for (const t of drop) if (!keep.has(t) && !from.includes(t) && !protect.has(t)) t.dispose();
      iterations += stop;
      if (stop < k) {
        for (const t of from) if (!keep.has(t) && !protect.has(t)) t.dispose();
        const results = segment(() => noGrad(() => last.map((t) => (owned.has(t.storage) ? copy(t) : t))));
        invariants.forEach((t, j) => {
          if (t !== operands[p.carried + j]) t.dispose();
        });
        lastTrips.set(p.site, iterations);
        const run = { site: p.site, iterations, batches };
        for (const observer of observers) observer(run);
        return { results, iterations };
      }
      for (const t of from) if (!keep.has(t) && !protect.has(t)) t.dispose();
      state = batch.states[k]!;
      k = Math.min(recorded < expected ? expected - recorded : 2 * Math.max(...batches), MAX_BATCH);
    }
  }

  /**
   * Records k iterations from `state`: for each, the condition (copied into its slot of the
   * packed flags) and the exits, then the body, whose results are the next iteration's state.
   */
  #record(state: Tensor[], invariants: readonly Tensor[], numbers: readonly number[], k: number): Batch {
    const p = this.params;
    const states = [state], exits: Tensor[][] = [], keep: Tensor[] = [];
    let flags: Tensor | undefined;
    const gpu = eagerGpu();
    for (let i = 0; i < k; i++) {
      const condArgs = [...states[i]!, ...invariants];
      this.#cond ??= new GpuGraph(p.cond, [p.condValue, ...p.condExports, ...p.exits], condArgs, this.passes);
      const cond = this.#cond.run(condArgs, numbers);
      keep.push(...cond.keep);
      const [value, ...rest] = cond.values as [Tensor, ...Tensor[]];
      const onGpu = value.device === 'webgpu' ? value : toGpu(value);
      flags ??= gpuEmpty('jit', [k], value.dtype);
      const from = gpuOperand(onGpu), to = gpuOperand(flags);
      gpu.copy(from.data, from.offset, to.data, i, 1);
      exits.push(rest.slice(p.condExports.length));
      const bodyArgs = [...condArgs, ...rest.slice(0, p.condExports.length)];
      this.#body ??= new GpuGraph(p.body, p.results, bodyArgs, this.passes);
      const body = this.#body.run(bodyArgs, numbers);
      keep.push(...body.keep);
      states.push(body.values.map(contiguousCopy));
    }
    return { states, exits, flags: flags!, keep };
  }
}

const copy = (t: Tensor): Tensor => apply('copy', [t], {});

/** `t`, or a contiguous copy of it. */
const contiguousCopy = (t: Tensor): Tensor => (t.isContiguous ? t : copy(t));

/** A condition's element as the loop reads it: nonzero and not NaN. */
function truthy(x: number | bigint): boolean {
  return typeof x === 'bigint' ? x !== 0n : x !== 0 && x === x;
}

/** What explain() says about a loop that runs host-driven on WebGPU. */
export function hostLoopNote(reason: string): string {
  return `on WebGPU it runs host-driven (its body does not fuse into one kernel: ${reason}): its condition and body `
    + `run as compiled kernels, up to ${MAX_BATCH} iterations at a time speculatively, with their conditions read back `
    + 'in one batched readback per batch';
}
