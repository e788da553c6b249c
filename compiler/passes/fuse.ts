/**
 * Fusion: cuts a traced graph into kernels. Elementwise nodes of one iteration shape merge
 * into one loop nest whose intermediate values never touch memory; a reduction absorbs the
 * elementwise group that feeds it as its prologue. Each decision is split into "legal?"
 * (`canFuse`, which never changes results) and the choice to do it, and every rejected
 * fusion records its reason for `explain()`.
 *
 * The plan keeps eager semantics bit for bit: each primitive still rounds where eager does,
 * and a reduction still folds its elements in the same order. A chosen group becomes a
 * kernel spec in fuse-lower.ts; plan-memory.ts plans the buffers of the resulting steps.
 */
import type { DType } from '../../runtime/dtype.js';
import type { Graph, Node } from '../ir/graph.js';
import { isViewNode } from '../ir/node-params.js';
import { isElementwise, primitiveRules, type Prim } from '../ir/primitives.js';
import { sameShape } from '../ir/shape.js';
import type { MapSpec, MatmulSpec, MultiSpec, ReduceSpec, RowSpec } from '../kernel.js';
import { findRowRegions } from './rows.js';
import { mergeKernels } from './merge.js';
import { launchesKernel, planMemory } from './plan-memory.js';
import { mapStep, matmulStep, reduceStep } from './fuse-lower.js';

/** Shape, strides and dtype of a value, known when the graph is compiled (offsets vary per call). */
export interface StaticLayout {
  shape: readonly number[];
  strides: readonly number[];
  dtype: DType;
}

/** A kernel built from several nodes: `outputs` are stored (fresh, contiguous), `inputs` read. */
export interface FusedStep {
  kind: 'fused';
  /** The nodes it computes, in graph order; only `outputs` get buffers. */
  nodes: number[];
  inputs: number[];
  outputs: number[];
  /** For output k, a value whose storage the kernel writes in place (an absorbed `write` node), if any. */
  targets: (number | undefined)[];
  spec: MapSpec | ReduceSpec | RowSpec | MultiSpec | MatmulSpec;
  /** Identifies the spec for the kernel cache. */
  key: string;
}

/** Limits of the device a plan is for. */
export interface FusionOptions {
  /**
   * Buffers one kernel may bind (a WebGPU device's maxStorageBuffersPerShaderStage): a
   * fusion whose kernel would bind more is not made. Unlimited when absent.
   */
  maxArgs?: number;
  /**
   * The device of each value, when a graph spans several: one kernel runs on one device,
   * so values of different devices never share one.
   */
  devices?: readonly (string | undefined)[];
}

/** One step of a plan: a node run as before, or a fused kernel. */
export type Step = { kind: 'node'; node: number } | FusedStep;

/** The kernels of a graph, with the reasons fusions were not made. */
export interface FusionPlan {
  steps: Step[];
  rejected: string[];
  /** Kernels one run launches: fused kernels plus unfused nodes that move data. */
  kernelCount: number;
  /**
   * Values whose buffers a compiled graph keeps across calls: fused-kernel results that no
   * output, gradient or view of one can expose after the call.
   */
  persistent: Set<number>;
  /** Most bytes of intermediate values alive at once during a run (inputs not counted). */
  peakBytes: number;
}

function isMapNode(n: Node): boolean {
  if (n.op === 'cast') return true;
  const rule = primitiveRules[n.op as Prim];
  return rule !== undefined && isElementwise(rule);
}

function isReduceNode(n: Node): boolean {
  return primitiveRules[n.op as Prim]?.kind === 'reduce';
}

/**
 * The recorded value of `x` when it is a constant the kernel may write as a literal: a
 * `value` constant (not a number argument, never written in place), seen through views.
 */
function constantValue(nodes: readonly Node[], x: number, written: ReadonlySet<number>): number | undefined {
  let i = x;
  while (nodes[i]!.op === 'expand' || nodes[i]!.op === 'reshape') i = nodes[i]!.inputs[0]!;
  const n = nodes[i]!;
  if (n.op !== 'constant' || written.has(i)) return undefined;
  const p = n.params;
  return p.numberSlot === undefined && p.data === undefined ? p.value : undefined;
}

/** Union-find over node indices. */
class Groups {
  readonly parent: number[];
  constructor(n: number) { this.parent = Array.from({ length: n }, (_, i) => i); }
  find(i: number): number {
    while (this.parent[i] !== i) i = this.parent[i] = this.parent[this.parent[i]!]!;
    return i;
  }
  union(a: number, b: number): void { this.parent[this.find(a)] = this.find(b); }
}

/**
 * Plans the kernels of `graph`. `layouts[i]` is known for every value; `keep` are values
 * that must exist as tensors after their node (outputs, observed, written, assigned as
 * gradients, read by non-fusable nodes is derived here).
 */
export function planFusion(graph: Graph, layouts: readonly (StaticLayout | undefined)[], keep: ReadonlySet<number>, roots: readonly number[], options: FusionOptions = {}): FusionPlan {
  const nodes = graph.nodes;
  const { maxArgs = Infinity, devices } = options;
  const deviceOf = (i: number) => devices?.[i];
  const written = new Set(nodes.flatMap((n) => (n.op === 'write' ? [roots[n.inputs[0]!] ?? n.inputs[0]!] : [])));
  const literalOf = (x: number) => constantValue(nodes, x, written);
  // Dead code is not run: a value counts only if an effect (write, guard, gradient) or a
  // result depends on it. Inputs still bind, so replays see the same arguments.
  const live = new Array<boolean>(nodes.length).fill(false);
  for (let i = nodes.length - 1; i >= 0; i--) {
    const op = nodes[i]!.op;
    if (live[i] || keep.has(i) || op === 'write' || op === 'observe' || op === 'setGrad' || op === 'input') {
      live[i] = true;
      for (const x of nodes[i]!.inputs) live[x] = true;
    }
  }
  const users: number[][] = nodes.map(() => []);
  nodes.forEach((n, i) => { if (live[i]) n.inputs.forEach((x) => users[x]!.push(i)); });
  const writes = nodes.flatMap((n, i) => (n.op === 'write' ? [i] : []));
  const rejected: string[] = [];
  // Row kernels first: their members are not grouped again below.
  // Dead nodes count as taken, so no kernel is built around them.
  const taken = new Set<number>(nodes.flatMap((_, i) => (live[i] ? [] : [i])));
  const regions = findRowRegions(graph, layouts, keep, users, taken, rejected, literalOf, written).filter((g) => {
    const spread = new Set(g.members.map(deviceOf)).size > 1;
    const args = (g.step.spec as RowSpec).dtypes.length;
    if (!spread && args <= maxArgs) return true;
    // Its members are grouped like any others instead.
    for (const m of g.members) taken.delete(m);
    rejected.push(`row kernel around %${g.members[g.members.length - 1]} not formed: ${spread ? 'its values live on different devices' : tooManyArgs(args, maxArgs)}`);
    return false;
  });
  const regionEnd = new Map(regions.map((g) => [g.members[g.members.length - 1]!, g.step]));
  const groups = new Groups(nodes.length);
  const members = new Map<number, number[]>(nodes.map((_, i) => [i, [i]]));

  /** Values outside the elementwise group `ms` that its kernel loads (constants it writes as literals excluded). */
  const loadsOf = (ms: readonly number[]): Set<number> => {
    const inGroup = new Set(ms);
    const loads = new Set<number>();
    for (const m of ms) for (const x of nodes[m]!.inputs) if (!inGroup.has(x) && literalOf(x) === undefined) loads.add(x);
    return loads;
  };
  /** Values of group `ms` its kernel stores: those needed as tensors or outside the group. */
  const storesOf = (ms: readonly number[]): number => {
    const inGroup = new Set(ms);
    return ms.filter((m) => keep.has(m) || users[m]!.some((u) => !inGroup.has(u))).length;
  };

  /** Legal to compute producer p's group inside consumer c's group? */
  const canFuse = (p: number, c: number): string | null => {
    const np = nodes[p]!, nc = nodes[c]!;
    if (!sameShape(np.shape, nc.shape)) return `shapes ${np.shape} and ${nc.shape} differ`;
    if (deviceOf(p) !== deviceOf(c)) return `they live on different devices (${deviceOf(p)}, ${deviceOf(c)})`;
    if (keep.has(p)) return 'its value is needed as a tensor (output, observed, written or a gradient)';
    // The producer's own early users first: cheap, and it rejects most long chains (an
    // unrolled loop) before the merged group is built, which would make them quadratic.
    const gp = groups.find(p), gc = groups.find(c);
    for (const u of users[p]!) {
      const gu = groups.find(u);
      if (u < c && gu !== gp && gu !== gc) return `node %${u} needs %${p} before the fused kernel would run`;
    }
    const mp = members.get(gp)!, mc = members.get(gc)!;
    const merged = [...mp, ...mc];
    // Member lists are sorted: their ends bound the merged group (no spread of a long list).
    const lo = Math.min(mp[0]!, mc[0]!), hi = Math.max(mp[mp.length - 1]!, mc[mc.length - 1]!);
    if (writes.some((w) => w > lo && w < hi)) return 'an in-place write happens between them';
    // Every value of the merged group used outside must be used after the kernel runs.
    const inGroup = new Set(merged);
    for (const m of merged) {
      for (const u of users[m]!) if (!inGroup.has(u) && u < hi) return `node %${u} needs %${m} before the fused kernel would run`;
    }
    const args = storesOf(merged) + loadsOf(merged).size;
    return args > maxArgs ? tooManyArgs(args, maxArgs) : null;
  };

  nodes.forEach((n, c) => {
    if (!isMapNode(n) || taken.has(c)) return;
    for (const p of n.inputs) {
      if (!isMapNode(nodes[p]!) || taken.has(p) || groups.find(p) === groups.find(c)) continue;
      const why = canFuse(p, c);
      if (why !== null) {
        rejected.push(`%${p} (${nodes[p]!.op}) not fused into %${c} (${n.op}): ${why}`);
        continue;
      }
      const a = groups.find(p), b = groups.find(c);
      members.set(b, [...members.get(a)!, ...members.get(b)!].sort((x, y) => x - y));
      members.delete(a);
      groups.union(a, b);
    }
  });

  // A reduction takes the elementwise group that feeds it as its prologue when nothing else needs it.
  const prologueOf = new Map<number, number>();
  nodes.forEach((n, r) => {
    if (!isReduceNode(n) || taken.has(r)) return;
    const src = n.inputs[0]!;
    if (!isMapNode(nodes[src]!) || taken.has(src)) return;
    const g = groups.find(src);
    const ms = members.get(g)!;
    const inGroup = new Set(ms);
    const outside = ms.flatMap((m) => users[m]!.filter((u) => !inGroup.has(u) && u !== r));
    if (outside.length > 0 || ms.some((m) => keep.has(m))) {
      rejected.push(`%${src} (${nodes[src]!.op}) not fused into the reduction %${r}: its values are also needed elsewhere`);
      return;
    }
    if (writes.some((w) => w > ms[0]! && w < r)) {
      rejected.push(`%${src} not fused into the reduction %${r}: an in-place write happens between them`);
      return;
    }
    // Within maxArgs: the kernel binds the reduction's result instead of the group's.
    if (deviceOf(src) !== deviceOf(r)) {
      rejected.push(`%${src} (${nodes[src]!.op}) not fused into the reduction %${r}: they live on different devices`);
      return;
    }
    prologueOf.set(r, g);
  });
  const absorbed = new Set(prologueOf.values());

  // A group whose value only feeds an in-place write stores straight into the write's
  // target, when nothing between the kernel and the write touches that storage and the
  // group reads the target's storage only through the target itself (same elements).
  const into = new Map<number, { value: number; target: number; write: number }>();
  for (const w of writes) {
    if (!live[w]) continue;
    const [t, v] = nodes[w]!.inputs as [number, number];
    if (!isMapNode(nodes[v]!) || taken.has(v) || keep.has(v) || users[v]!.length !== 1 || !sameShape(nodes[v]!.shape, nodes[t]!.shape)) continue;
    const g = groups.find(v);
    if (absorbed.has(g) || into.has(g)) continue;
    const ms = members.get(g)!;
    const at = ms[ms.length - 1]!;
    const root = roots[t];
    // The kernel runs at its last member: a target made after that (even one nothing else
    // reads, its value about to be overwritten) does not exist yet when the kernel stores.
    const later = t > at;
    const between = nodes.slice(at + 1, w).some((n, j) => live[at + 1 + j] && n.inputs.some((x) => roots[x] === root));
    const inGroup = new Set(ms);
    const aliased = ms.some((m) => nodes[m]!.inputs.some((x) => !inGroup.has(x) && roots[x] === root && x !== t));
    const otherOutputs = ms.some((m) => m !== v && (keep.has(m) || users[m]!.some((u) => !inGroup.has(u))));
    const elsewhere = deviceOf(t) !== deviceOf(v);
    if (later || between || aliased || otherOutputs || elsewhere) {
      rejected.push(`%${v} not stored straight into %${t} by the write %${w}: ${later ? 'the target is made after the kernel' : between ? 'the target is used in between' : aliased ? 'the kernel reads the target through another view' : otherOutputs ? 'the kernel has other results' : 'they live on different devices'}`);
      continue;
    }
    into.set(g, { value: v, target: t, write: w });
  }
  const absorbedWrites = new Set([...into.values()].map((x) => x.write));

  // A matmul whose result only feeds one elementwise group (bias, activation, residual)
  // computes that group as its epilogue while the product is still in a register.
  const epilogueOf = new Map<number, number>();
  for (const [g, ms] of members) {
    if (absorbed.has(g) || into.has(g) || !isMapNode(nodes[ms[0]!]!) || taken.has(ms[0]!) || !live[ms[0]!]) continue;
    const inGroup = new Set(ms);
    const matmuls = [...new Set(ms.flatMap((m) => nodes[m]!.inputs))].filter((x) => !inGroup.has(x) && nodes[x]!.op === 'matmul' && live[x]);
    const outputs = ms.filter((m) => keep.has(m) || users[m]!.some((u) => !inGroup.has(u)));
    for (const x of matmuls) {
      const hi = ms[ms.length - 1]!;
      const why = !sameShape(nodes[x]!.shape, nodes[ms[0]!]!.shape) ? 'shapes differ'
        : keep.has(x) || users[x]!.some((u) => !inGroup.has(u)) ? 'the product is needed elsewhere'
        : outputs.length !== 1 ? 'the group has several results'
        : writes.some((w) => w > x && w < hi) ? 'an in-place write happens in between'
        : deviceOf(x) !== deviceOf(ms[0]!) ? 'they live on different devices'
        // Result, A and B, then every other value the group loads (the product is in a register).
        : 2 + loadsOf(ms).size > maxArgs ? tooManyArgs(2 + loadsOf(ms).size, maxArgs)
        : null;
      if (why !== null) {
        rejected.push(`%${ms[0]} (${nodes[ms[0]!]!.op}) not fused into the matmul %${x} as its epilogue: ${why}`);
        continue;
      }
      epilogueOf.set(g, x);
      break;
    }
  }
  const epilogueMatmuls = new Set(epilogueOf.values());

  const steps: Step[] = [];
  const emitted = new Set<number>();
  nodes.forEach((n, i) => {
    if (!live[i] || absorbedWrites.has(i)) return;
    if (taken.has(i)) {
      const step = regionEnd.get(i);
      if (step) steps.push(step);
      return;
    }
    if (isReduceNode(n) && prologueOf.has(i)) {
      steps.push(reduceStep(nodes, layouts, literalOf, members.get(prologueOf.get(i)!)!, i));
      return;
    }
    if (epilogueMatmuls.has(i)) return;
    if (!isMapNode(n)) {
      steps.push({ kind: 'node', node: i });
      return;
    }
    const g = groups.find(i);
    if (absorbed.has(g) || emitted.has(g)) return;
    const ms = members.get(g)!;
    // A group runs at its last node, once all of its inputs exist.
    if (i !== ms[ms.length - 1]) return;
    emitted.add(g);
    const inGroup = new Set(ms);
    const outputs = ms.filter((m) => keep.has(m) || users[m]!.some((u) => !inGroup.has(u)));
    const mm = epilogueOf.get(g);
    steps.push(mm !== undefined ? matmulStep(nodes, layouts, literalOf, mm, ms, outputs[0]!) : mapStep(nodes, layouts, literalOf, ms, outputs, into.get(g)));
  });
  const merged = mergeOnEachDevice(dropUnreadBindings(steps, nodes, keep), nodes, deviceOf);
  const kernelCount = merged.filter((st) => st.kind === 'fused' || launchesKernel(nodes[st.node]!)).length;
  return { steps: merged, rejected, kernelCount, ...planMemory(merged, nodes, keep, roots, users) };
}

/** Horizontal fusion (merge.ts) within each run of kernels on one device: a merged kernel runs on one. */
function mergeOnEachDevice(steps: readonly Step[], nodes: readonly Node[], deviceOf: (i: number) => string | undefined): Step[] {
  const out: Step[] = [];
  let run: Step[] = [];
  let device: string | undefined;
  for (const st of steps) {
    if (st.kind === 'fused') {
      const d = deviceOf(st.outputs[0]!);
      if (run.length > 0 && d !== device) {
        for (const m of mergeKernels(run, nodes)) out.push(m);
        run = [];
      }
      device = d;
    }
    run.push(st);
  }
  // One push per step: spreading a graph-sized list into push() overflows the stack.
  for (const m of mergeKernels(run, nodes)) out.push(m);
  return out;
}

function tooManyArgs(args: number, maxArgs: number): string {
  return `the kernel would bind ${args} buffers, and the device allows ${maxArgs} per kernel`;
}

/**
 * Steps that only bind a value (a constant, a view of one) which no later step reads: what
 * is left of constants that kernels now write as literals. Inputs stay, so replays bind
 * every argument and captured tensor they check.
 */
function dropUnreadBindings(steps: readonly Step[], nodes: readonly Node[], keep: ReadonlySet<number>): Step[] {
  const read = new Set<number>(keep);
  const out: Step[] = [];
  for (let i = steps.length - 1; i >= 0; i--) {
    const st = steps[i]!;
    if (st.kind === 'fused') {
      st.inputs.forEach((x) => read.add(x));
      st.targets.forEach((t) => { if (t !== undefined) read.add(t); });
      out.push(st);
      continue;
    }
    const n = nodes[st.node]!;
    const binds = n.op === 'constant' || isViewNode(n);
    if (binds && !read.has(st.node)) continue;
    n.inputs.forEach((x) => read.add(x));
    // A gradient input names its tensor in its params, not among its operands.
    if (n.op === 'input') {
      const { source } = n.params;
      if (source.kind === 'grad') read.add(source.of);
    }
    out.push(st);
  }
  return out.reverse();
}
