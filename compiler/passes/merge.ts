/**
 * Horizontal fusion: fused map and reduce kernels that run one after another become one
 * generated function (the parameter updates of an optimizer step, the per-layer pieces of
 * a backward pass). Parts keep their order, so every part sees exactly the memory it saw
 * as its own kernel; a part that reads an earlier part's result reads its buffer directly.
 * Steps that only bind values (inputs, constants, views of earlier values) move ahead of
 * the merged kernel; anything else ends the run.
 */
import type { Node } from '../ir/graph.js';
import type { MultiSpec } from '../kernel.js';
import type { FusedStep, Step } from './fuse.js';
import { isView } from './pass.js';

function bindsOnly(n: Node): boolean {
  // A gradient input reads `.grad` assignments, which may be waiting behind the batch.
  if (n.op === 'input') return n.params.source.kind !== 'grad';
  return n.op === 'constant' || isView(n);
}

function mergeable(st: Step): st is FusedStep & { spec: { kind: 'map' | 'reduce' } } {
  if (st.kind !== 'fused' || (st.spec.kind !== 'map' && st.spec.kind !== 'reduce')) return false;
  // Scalar arguments would need renumbering; fused kernels of a graph have none.
  return !st.spec.body.some((e) => e.op === 'scalar');
}

/** Views that read their base with the same starting element (so no offset to add). */
const OFFSET_FREE = new Set(['reshape', 'expand', 'permute']);

function merge(batch: FusedStep[], aliasOf: ReadonlyMap<number, number>): FusedStep {
  const outputs = batch.flatMap((st) => st.outputs);
  const targets = batch.flatMap((st) => st.targets);
  const inputs: number[] = [];
  const producedAt = new Map<number, number>();
  let outBase = 0;
  const parts = batch.map((st) => {
    const args = st.outputs.map((_, k) => outBase + k);
    for (const x of st.inputs) {
      const produced = producedAt.get(aliasOf.get(x) ?? x);
      if (produced !== undefined) args.push(produced);
      else {
        let k = inputs.indexOf(x);
        if (k < 0) k = inputs.push(x) - 1;
        args.push(outputs.length + k);
      }
    }
    st.outputs.forEach((o, k) => { if (st.targets[k] === undefined) producedAt.set(o, outBase + k); });
    outBase += st.outputs.length;
    return { spec: st.spec as MultiSpec['parts'][number]['spec'], args };
  });
  const spec: MultiSpec = { kind: 'multi', args: outputs.length + inputs.length, parts };
  return {
    kind: 'fused', nodes: batch.flatMap((st) => st.nodes), inputs, outputs, targets, spec,
    key: `multi|${batch.map((st, i) => `${st.key}@${parts[i]!.args}`).join('||')}`,
  };
}

/** The steps with runs of independent kernels merged. */
export function mergeKernels(steps: readonly Step[], nodes: readonly Node[]): Step[] {
  const out: Step[] = [];
  let batch: FusedStep[] = [];
  let produced = new Set<number>();
  // Offset-free views of values the batch produces: parts read the producer's buffer with
  // the view's strides; the view nodes themselves run after the merged kernel.
  let aliasOf = new Map<number, number>();
  let deferred: Step[] = [];
  const flush = () => {
    if (batch.length === 1) out.push(batch[0]!);
    else if (batch.length > 1) out.push(merge(batch, aliasOf));
    for (const d of deferred) out.push(d);
    batch = [];
    produced = new Set();
    aliasOf = new Map();
    deferred = [];
  };
  for (const st of steps) {
    if (mergeable(st)) {
      // A part that stores in place into a value the batch makes needs that buffer bound
      // before the merged kernel starts: it runs after the batch instead.
      if (st.targets.some((t) => t !== undefined && (produced.has(t) || aliasOf.has(t)))) flush();
      batch.push(st);
      st.outputs.forEach((o, k) => { if (st.targets[k] === undefined) produced.add(o); });
      continue;
    }
    // `.grad` assignments take effect when the call commits: they can wait for the kernel,
    // but keep their order (`w.grad = g` then `w.grad = null` must end with null).
    if (st.kind === 'node' && nodes[st.node]!.op === 'setGrad') {
      const waits = nodes[st.node]!.inputs.some((x) => produced.has(x) || aliasOf.has(x));
      if (waits || deferred.some((d) => d.kind === 'node' && nodes[d.node]!.op === 'setGrad')) deferred.push(st);
      else out.push(st);
      continue;
    }
    if (st.kind === 'node' && bindsOnly(nodes[st.node]!)) {
      const n = nodes[st.node]!;
      const base = n.inputs[0];
      const root = base === undefined ? undefined : (aliasOf.get(base) ?? (produced.has(base) ? base : undefined));
      if (root === undefined) {
        out.push(st);
        continue;
      }
      if (OFFSET_FREE.has(n.op)) {
        aliasOf.set(st.node, root);
        deferred.push(st);
        continue;
      }
    }
    flush();
    out.push(st);
  }
  flush();
  return out;
}
