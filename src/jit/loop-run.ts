/**
 * Runs a lifted loop node on the CPU as one loop: its condition and body graphs are
 * optimized and fused once, every value gets a fixed buffer, and each iteration is a
 * sequence of calls of compiled kernels on those buffers — no tensor is made, no op
 * dispatched and no graph walked per iteration. The loop variables live in buffers of
 * their own; after each body the next values are copied in (through a staging copy when
 * a next value reads a loop variable's own memory, as in a swap).
 */
import type { EffectParams, Graph, Node } from '../../compiler/ir/graph.js';
import { isViewNode, paramsOf } from '../../compiler/ir/node-params.js';
import { contiguousStrides, isContiguous } from '../../compiler/ir/shape.js';
import { planFusion, type FusionPlan } from '../../compiler/passes/fuse.js';
import { runPasses, type NamedPass } from '../../compiler/passes/pipeline.js';
import { halfToFloat } from '../../runtime/half.js';
import { InternalError } from '../../runtime/errors.js';
import { sequence } from '../../runtime/fixed-call.js';
import { empty } from '../dispatch.js';
import { copyOfStorage, onCpu } from '../storage.js';
import { cpuExecutor } from './executor-cpu.js';
import { Tensor } from '../tensor.js';
import { graphLayouts } from './plan.js';
import { HostGuards } from './guard-policy.js';
import { Interpretation, type VariantView, type ProgramView } from './interpreter.js';
import { verifyPasses } from './log.js';

/** One of the loop's graphs, optimized and planned for the layouts of its arguments. */
class CompiledGraph {
  readonly graph: Graph;
  readonly plan: FusionPlan;
  /** The requested values, renumbered into `graph`. */
  readonly outputs: number[];
  /** The graph as the replay interpreter binds it; its buffers and constants are kept from call to call. */
  readonly #variant: VariantView;
  readonly #program: ProgramView;

  constructor(graph: Graph, outputs: readonly number[], args: readonly Tensor[], passes: readonly NamedPass[]) {
    const r = runPasses(graph, passes, { outputs: new Set(outputs) }, { verify: verifyPasses });
    this.graph = r.graph;
    this.outputs = outputs.map((o) => r.remap[o]!);
    const layouts = graphLayouts(this.graph, (n) => args[argSlot(n)]!.strides);
    // Loop graphs read only their arguments: a value's storage is its own, or its view base's.
    const roots: number[] = [];
    this.graph.nodes.forEach((n, i) => {
      roots[i] = isViewNode(n) ? roots[n.inputs[0]!]! : i;
    });
    this.plan = planFusion(this.graph, layouts, new Set(this.outputs), roots);
    this.#variant = { plan: this.plan, constants: [], buffers: [], outputsRequireGrad: false, loops: new Map() };
    const nodes = this.graph.nodes;
    this.#program = {
      graph: this.graph, gradModes: nodes.map(() => false), captures: [], guards: [], writtenRoots: new Set(),
      output: { kind: 'value', value: undefined },
    };
  }

  /**
   * Binds the graph to `args` for one call: every value's tensor (views and constants made
   * now, computed values in fixed buffers) and the kernel calls that compute them.
   */
  bind(args: readonly Tensor[], numbers: readonly number[]): { env: Tensor[]; steps: (() => void)[] } {
    const steps: (() => void)[] = [];
    // A loop's graphs have no guards: none to decide, no write to shadow, no random draw.
    const walked = { shapeKey: '', tensors: args.slice(), numbers: numbers.slice() };
    const run = new Interpretation(this.#variant, this.#program, walked, new HostGuards(0), { bound: steps });
    run.record();
    return { env: run.env as Tensor[], steps };
  }
}

/** The argument an input node of a loop graph reads (loop graphs read only arguments). */
function argSlot(n: Node): number {
  const { source } = paramsOf(n, 'input', 'jit loop');
  if (source.kind !== 'arg') throw new InternalError(`jit loop: a loop graph input reads a ${source.kind}`);
  return source.slot;
}

/** Copies `src` into the contiguous `dst` (same shape and dtype). */
function copyStep(src: Tensor, dst: Tensor): () => void {
  return cpuExecutor.bindCopy(src, dst);
}

/** A loop node of a compiled variant, ready to run; made on the variant's first replay. */
export class LoopRunner {
  #cond: CompiledGraph | undefined;
  #body: CompiledGraph | undefined;
  /** The loop variables' buffers (contiguous), and staging buffers for swaps. */
  readonly #state: Tensor[];
  readonly #staging: Tensor[];

  constructor(readonly params: EffectParams['loop'], readonly passes: readonly NamedPass[]) {
    const args = params.cond.nodes.filter((n) => n.op === 'input').slice(0, params.carried);
    this.#state = args.map((n) => empty(n.shape.slice(), n.dtype));
    this.#staging = args.map((n) => empty(n.shape.slice(), n.dtype));
  }

  /** The condition's and the body's kernel plans, once they exist (for explain()). */
  get plans(): { cond?: FusionPlan; body?: FusionPlan } {
    return { ...(this.#cond ? { cond: this.#cond.plan } : {}), ...(this.#body ? { body: this.#body.plan } : {}) };
  }

  /**
   * Steps that make `values` the loop variables' next values. Values that read a loop
   * variable's memory are staged first, so no copy reads a buffer an earlier copy of the
   * same transfer overwrote (a swap); a value that is its variable already is left alone.
   */
  #transfer(values: readonly Tensor[]): (() => void)[] {
    const state = this.#state;
    const stateBuffers = new Set(state.map((t) => t.storage.buffer));
    const stage: (() => void)[] = [], commit: (() => void)[] = [];
    values.forEach((next, j) => {
      if (next.storage === state[j]!.storage && next.offset === 0 && isContiguous(next.shape, next.strides)) return;
      if (stateBuffers.has(next.storage.buffer)) {
        stage.push(copyStep(next, this.#staging[j]!));
        commit.push(copyStep(this.#staging[j]!, state[j]!));
      } else {
        commit.push(copyStep(next, state[j]!));
      }
    });
    return [...stage, ...commit];
  }

  /** Runs the loop from `operands` (first values of the loop variables, then the invariants). */
  run(operands: readonly Tensor[], numbers: readonly number[]): { results: Tensor[]; iterations: number } {
    const p = this.params;
    const state = this.#state;
    const invariants = operands.slice(p.carried);
    const condArgs = [...state, ...invariants];
    this.#cond ??= new CompiledGraph(p.cond, [p.condValue, ...p.condExports, ...p.exits], condArgs, this.passes);
    const cond = this.#cond.bind(condArgs, numbers);
    const valueNode = this.#cond.outputs[0]!;
    const exportNodes = this.#cond.outputs.slice(1, 1 + p.condExports.length);
    const exitNodes = this.#cond.outputs.slice(1 + p.condExports.length);
    const bodyArgs = [...condArgs, ...exportNodes.map((x) => cond.env[x]!)];
    this.#body ??= new CompiledGraph(p.body, p.results, bodyArgs, this.passes);
    const body = this.#body.bind(bodyArgs, numbers);

    const bodySteps = [...body.steps, ...this.#transfer(this.#body.outputs.map((x) => body.env[x]!))];
    const exitSteps = this.#transfer(exitNodes.map((x) => cond.env[x]!));
    const condStep = sequence(cond.steps), bodyStep = sequence(bodySteps);
    const value = cond.env[valueNode!]!;
    const flag = onCpu(value.storage, 'jit loop');
    const bindRead = flag.backend.bindRead;
    if (bindRead === undefined) throw new InternalError('jit loop: the CPU engine cannot read an element at once');
    const element = bindRead(flag.buffer, value.dtype, value.offset);
    // A float16 condition is stored as half bits: -0 and NaN are false only as values.
    const condition = value.dtype === 'float16' ? () => halfToFloat(element()) : element;

    operands.slice(0, p.carried).forEach((t, j) => copyStep(t, state[j]!)());
    let iterations = 0;
    for (;;) {
      condStep();
      const c = condition();
      if (c === 0 || c !== c) break;
      bodyStep();
      iterations++;
    }
    for (const step of exitSteps) step();
    const results = state.map((t) => {
      const copy = copyOfStorage(t.storage, t.dtype, t.size);
      return new Tensor(copy, t.shape.slice(), contiguousStrides(t.shape), 0, t.dtype);
    });
    return { results, iterations };
  }
}
