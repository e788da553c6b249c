/**
 * The backward pass: walks the recorded nodes from the outputs in reverse topological
 * order, applies each node's VJP rule and sums gradients where paths meet.
 */
import { ValueError, fmtShape } from '../../runtime/errors.js';
import { sameShape } from '../../compiler/ir/shape.js';
import type { Tensor } from '../tensor.js';
import { add, cast } from '../ops/elementwise.js';
import { clone } from '../ops/shape.js';
import { tidy } from '../memory.js';
import { enableGrad, noGrad } from './mode.js';
import { AutogradError, GradNode } from './node.js';
import { vjpRules } from './vjp.js';

/** Options of a backward pass. */
export interface BackwardOptions {
  /**
   * Keep the graph's saved values so backward can run through it again. Defaults to
   * `createGraph`, as in PyTorch: a recorded gradient refers to the forward graph.
   */
  retainGraph?: boolean;
  /** Record the backward computation itself, for higher-order gradients. */
  createGraph?: boolean;
}

/** Nodes reachable from `roots`, each after every node that consumes it. */
function topoOrder(roots: readonly GradNode[], stopAt: ReadonlySet<GradNode>): GradNode[] {
  const order: GradNode[] = [];
  const state = new Map<GradNode, 'open' | 'done'>();
  // Iterative DFS: training graphs can be deeper than the JS call stack.
  const stack: { node: GradNode; next: number }[] = [];
  for (const root of roots) {
    if (state.has(root)) continue;
    state.set(root, 'open');
    stack.push({ node: root, next: 0 });
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const edges = stopAt.has(top.node) ? [] : (top.node.edges ?? []);
      if (top.next < edges.length) {
        const child = edges[top.next++];
        if (child instanceof GradNode && !state.has(child)) {
          state.set(child, 'open');
          stack.push({ node: child, next: 0 });
        }
      } else {
        state.set(top.node, 'done');
        order.push(top.node);
        stack.pop();
      }
    }
  }
  return order.reverse();
}

function accumulate(map: Map<unknown, Tensor>, key: unknown, g: Tensor): void {
  const prev = map.get(key);
  map.set(key, prev === undefined ? g : add(prev, g));
}

/**
 * Runs backward from `roots` seeded with `seeds`. Without `wrt`, gradients accumulate into
 * the `.grad` of leaves (and of tensors that retain grad). With `wrt`, nothing is written:
 * the gradients of those tensors are returned (undefined where none flows).
 */
export function runBackward(roots: readonly Tensor[], seeds: readonly Tensor[], options: BackwardOptions & { wrt?: readonly Tensor[] } = {}): (Tensor | undefined)[] {
  const { createGraph = false, retainGraph = createGraph, wrt } = options;
  roots.forEach((r, i) => {
    const s = seeds[i]!;
    if (!r.requiresGrad) throw new AutogradError('backward: the output does not require grad (no input it was computed from has requiresGrad set, or it was computed under noGrad)');
    if (!sameShape(r.shape, s.shape)) throw new ValueError(`backward: the gradient's shape ${fmtShape(s.shape)} does not match the output's ${fmtShape(r.shape)}`);
  });
  const wrtNodes = new Set<GradNode>();
  for (const t of wrt ?? []) if (t.gradFn !== null) wrtNodes.add(t.gradFn);
  const nodeGrads = new Map<unknown, Tensor>();
  const leafGrads = new Map<unknown, Tensor>();
  const order = topoOrder(roots.flatMap((r) => (r.gradFn ? [r.gradFn] : [])), wrtNodes);
  /** The gradients stored into `.grad`: with what is returned, all the pass leaves behind. */
  const stored: Tensor[] = [];

  const run = () => {
    // The seed takes the output's dtype (as PyTorch casts it), so grads keep their tensors' dtypes.
    roots.forEach((r, i) => accumulate(r.gradFn ? nodeGrads : leafGrads, r.gradFn ?? r, cast(seeds[i]!, r.dtype)));
    for (const node of order) {
      const g = nodeGrads.get(node);
      if (g === undefined) continue;
      // Only the node of the tensor's current history: after an in-place op, the gradient of
      // its older value belongs to no tensor the user can see.
      if (wrt === undefined && node.out?.retainsGrad && node.out.gradFn === node) stored.push(storeGrad(node.out, g));
      if (wrtNodes.has(node)) continue;
      const { inputs, out } = node.saved();
      const grads = (vjpRules[node.prim].vjp as (g: Tensor, x: readonly Tensor[], y: Tensor, p: object, needs: readonly boolean[]) => (Tensor | null)[])(g, inputs, out, node.params, inputs.map((x) => x.requiresGrad));
      const edges = node.edges!;
      edges.forEach((edge, i) => {
        const gi = grads[i];
        if (gi === null || gi === undefined || edge === null) return;
        accumulate(edge instanceof GradNode ? nodeGrads : leafGrads, edge, gi);
      });
    }
    if (wrt !== undefined) return wrt.map((t) => (t.gradFn !== null ? nodeGrads.get(t.gradFn) : leafGrads.get(t)));
    for (const [leaf, g] of leafGrads) stored.push(storeGrad(leaf as Tensor, g));
    return [];
  };
  // Without createGraph, every other tensor the pass makes (a node's incoming gradient, sums
  // where paths meet, the VJPs' intermediates) is disposed when it ends, so an eager step
  // that never disposes leaves no temporaries of kiln's own behind. With createGraph they
  // are the recorded graph of the gradients, and stay.
  const scoped = () => tidy(() => ({ result: run(), stored })).result;
  try {
    return createGraph ? enableGrad(run) : noGrad(scoped);
  } finally {
    if (!retainGraph) for (const node of order) node.free();
  }
}

/** Adds `g` to `t.grad` and returns the new grad; a fresh copy is stored so no two tensors ever share a grad buffer. */
function storeGrad(t: Tensor, g: Tensor): Tensor {
  t.grad = t.grad === null ? clone(g) : add(t.grad, g);
  return t.grad;
}
