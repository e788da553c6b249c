/**
 * Memory planning of a fusion plan: which buffers a compiled graph may keep across calls,
 * and the peak of intermediate bytes alive at once (for explain()), by liveness over the
 * order of the steps.
 */
import type { Node } from '../ir/graph.js';
import { primitiveRules, type Prim } from '../ir/primitives.js';
import type { Step } from './fuse.js';

/** True for nodes that launch a kernel when run on their own (views and bookkeeping do not). */
export function launchesKernel(n: Node): boolean {
  if (n.op === 'write') return true;
  const rule = primitiveRules[n.op as Prim];
  return rule !== undefined && rule.kind !== 'view';
}

/** True for unfused nodes whose kernel computes a fresh value (random draws run through their counters). */
function keepsBuffer(n: Node): boolean {
  return launchesKernel(n) && n.op !== 'write' && n.op !== 'random';
}

/** Bytes of a value's elements. */
function bytesOf(n: Node): number {
  return n.shape.reduce((a, b) => a * b, 1) * (n.dtype === 'float64' ? 8 : n.dtype === 'bool' ? 1 : 4);
}

/** Which buffers can stay with the compiled graph, and the peak of live intermediate bytes. */
export function planMemory(steps: readonly Step[], nodes: readonly Node[], keep: ReadonlySet<number>, roots: readonly number[], users: readonly number[][]): { persistent: Set<number>; peakBytes: number } {
  // A buffer escapes when a result, a gradient assignment or a written value may alias it.
  const escapes = new Set<number>();
  for (const k of keep) escapes.add(roots[k] ?? k);
  nodes.forEach((n) => { if (n.op === 'setGrad' && n.inputs[1] !== undefined) escapes.add(roots[n.inputs[1]] ?? n.inputs[1]); });
  const persistent = new Set<number>();
  for (const st of steps) {
    if (st.kind === 'fused') {
      st.outputs.forEach((o, k) => { if (st.targets[k] === undefined && !escapes.has(o)) persistent.add(o); });
    } else if (keepsBuffer(nodes[st.node]!) && !escapes.has(st.node)) {
      // An unfused kernel (a matmul, reduction or gather the fuser left alone) keeps its buffer too.
      persistent.add(st.node);
    }
  }
  // Liveness over the step order: a value is born at its step and dies after its last user.
  const producedAt = new Map<number, number>();
  const lastUse = new Map<number, number>();
  const stepOf = new Map<number, number>();
  steps.forEach((st, i) => (st.kind === 'fused' ? st.nodes : [st.node]).forEach((n) => stepOf.set(n, i)));
  steps.forEach((st, i) => {
    const made = st.kind === 'fused' ? st.outputs.filter((_, k) => st.targets[k] === undefined) : launchesKernel(nodes[st.node]!) && nodes[st.node]!.op !== 'write' ? [st.node] : [];
    for (const v of made) producedAt.set(v, i);
  });
  for (const v of producedAt.keys()) {
    const uses = users[v]!.map((u) => stepOf.get(u) ?? -1);
    lastUse.set(v, keep.has(v) ? steps.length : Math.max(producedAt.get(v)!, ...uses));
  }
  // Bytes born and freed at each step, summed once: a sweep per step would be quadratic.
  const born = new Float64Array(steps.length + 1), freed = new Float64Array(steps.length + 1);
  for (const [v, at] of producedAt) born[at]! += bytesOf(nodes[v]!);
  for (const [v, end] of lastUse) freed[end]! += bytesOf(nodes[v]!);
  let live = 0, peakBytes = 0;
  for (let i = 0; i < steps.length; i++) {
    live += born[i]!;
    peakBytes = Math.max(peakBytes, live);
    live -= freed[i]!;
  }
  return { persistent, peakBytes };
}
