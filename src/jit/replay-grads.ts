/**
 * Gradients a replay assigned to `.grad` that no JavaScript has seen since.
 *
 * A jit'd training step that starts with `zeroGrad()` drops the gradients of the step before
 * and assigns new ones: without reference counting, the dropped ones would wait for the
 * collector, and the Wasm engine spills waiting buffers (copies them out) when its memory
 * fills: the MLP 784-256-256-10 SGD step dropped 1.07 MB a step, and spilling them took
 * ~23% of its time (node --cpu-prof, one thread). A gradient that a replay made and
 * assigned can only be reached through the `.grad` getter: if nothing read it there (and
 * the call did not return it), nothing outside holds it, so when a later replay replaces it,
 * it is disposed at once and its buffer is reused by the next allocation.
 */
import type { Tensor } from '../tensor.js';

/** Gradients made and assigned by a replay that no `.grad` read has returned since. */
const unread = new WeakSet<Tensor>();
/** True while a replay reads `.grad` for itself, which does not hand the gradient to anyone. */
let replayReading = false;

/** The tracer's hook saw JavaScript read `grad` from a `.grad`: it is reachable from now on. */
export function gradRead(grad: Tensor | null): void {
  if (grad !== null && !replayReading) unread.delete(grad);
}

/** `t.grad` as a replay reads it for its own use (an input of the graph, a `.grad` check). */
export function replayGradOf(t: Tensor): Tensor | null {
  replayReading = true;
  try {
    return t.grad;
  } finally {
    replayReading = false;
  }
}

/**
 * Assigns a replay's gradients (`grads`: tensor → new `.grad`) and disposes the unread ones
 * they replace. `fresh(g)`: `g` is a tensor object this call made and hands to nobody
 * but `.grad` (not an argument, a captured tensor, a tensor the variant keeps or part of
 * the result), so it starts unread.
 */
export function assignGrads(grads: ReadonlyMap<Tensor, Tensor | null>, fresh: (g: Tensor) => boolean): void {
  const replaced: Tensor[] = [];
  const assigned = new Set<Tensor>();
  for (const [t, grad] of grads) {
    const old = replayGradOf(t);
    t.grad = grad;
    if (old !== null && old !== grad && unread.has(old)) replaced.push(old);
    if (grad === null) continue;
    // A gradient assigned to two tensors (or kept as one's while another gets it) is shared: never disposed.
    if (assigned.has(grad) || unread.has(grad)) unread.delete(grad);
    else if (fresh(grad)) unread.add(grad);
    assigned.add(grad);
  }
  for (const old of replaced) {
    if (assigned.has(old)) continue;
    unread.delete(old);
    old.dispose();
  }
}
