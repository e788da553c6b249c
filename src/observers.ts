/**
 * Who is told what happens to tensors. The tracer is wired here, and autograd's tape in
 * `apply` itself (dispatch.ts), by name rather than by registering at import: this module
 * imports nothing that imports it back, so it is initialized before any module that uses
 * it, whatever module a program imports first.
 */
import type { Prim } from '../compiler/ir/primitives.js';
import type { Tensor } from './tensor.js';
import { activeTrace } from './jit/context.js';
import { gradRead } from './jit/replay-grads.js';

/** Something told of what happens to tensors (the tracer, or a test watching `apply`). */
export interface Observer {
  /** A primitive produced `out` from `inputs`. */
  onApply?(prim: Prim, inputs: readonly Tensor[], params: object, out: Tensor): void;
  /** A tensor was made from JS values (a scalar operand, `tensor(...)`, `full`, …). */
  onCreate?(t: Tensor, source: ConstantSource): void;
  /** `target` was written in place with `value` (same shape). */
  onWrite?(target: Tensor, value: Tensor): void;
  /** JS read the elements of `t` (`item`, `toArray`, `data`, a comparison). */
  onRead?(t: Tensor, values: ArrayLike<number>, how: string): void;
  /** JS read `t.grad`. */
  onGradRead?(t: Tensor, grad: Tensor | null): void;
  /** JS assigned `t.grad`. */
  onGradWrite?(t: Tensor, grad: Tensor | null): void;
  /**
   * JS changed state that no tensor op records: `what` says which (a flag of `target`, an
   * optimizer's field), so a recording can tell whether a replay would miss it. `owner`:
   * the object whose state changed (an optimizer, a module, a schedule), when there is one.
   */
  onStateWrite?(what: string, target?: Tensor, owner?: object): void;
  /** JS made an object with state of its own (see stateObjectMade). */
  onStateObject?(owner: object): void;
  /** `t` was copied to another device as `out`, a leaf (autograd does not record moves). */
  onMove?(t: Tensor, out: Tensor): void;
}

/** What a tensor made from JS values holds: one scalar, one repeated value, or data. */
export type ConstantSource = { value: number } | { fill: number } | { data: ArrayLike<number> };

/** Forwards every event to whichever trace is recording in the current context. */
const tracer: Observer = {
  onApply: (prim, inputs, params, out) => activeTrace()?.onApply(prim, inputs, params, out),
  onCreate: (t, source) => activeTrace()?.onCreate(t, source),
  onWrite: (target, value) => activeTrace()?.onWrite(target, value),
  onRead: (t, values, how) => activeTrace()?.onRead(t, values, how),
  onGradRead: (t, grad) => {
    gradRead(grad);
    activeTrace()?.onGradRead(t, grad);
  },
  onGradWrite: (t, grad) => activeTrace()?.onGradWrite(t, grad),
  onStateWrite: (what, target, owner) => activeTrace()?.onStateWrite(what, target, owner),
  onStateObject: (owner) => activeTrace()?.onStateObject(owner),
  // Under jit a move is a node of the graph (a copy naming its device), so a replay moves
  // that call's value again instead of capturing the tensor made while tracing.
  onMove: (t, out) => activeTrace()?.onApply('copy', [t], { device: out.device }, out),
};

const observers: Observer[] = [tracer];

/** The observers, the tracer first (for the hooks in tensor.ts and dispatch.ts). */
export function activeObservers(): readonly Observer[] {
  return observers;
}

/** Registers an observer after the others; returns a function that removes it. */
export function observeApply(observer: Observer): () => void {
  observers.push(observer);
  return () => {
    const i = observers.indexOf(observer);
    if (i >= 0) observers.splice(i, 1);
  };
}

/** Tells observers that primitive `prim` produced `out` from `inputs`. */
export function applied(prim: Prim, inputs: readonly Tensor[], params: object, out: Tensor): void {
  for (const o of observers) o.onApply?.(prim, inputs, params, out);
}

/** Tells observers that `target` was written in place with `value`. */
export function written(target: Tensor, value: Tensor): void {
  for (const o of observers) o.onWrite?.(target, value);
}

/** Tells observers that JS changed state no tensor op records (see Observer.onStateWrite). */
export function stateWritten(what: string, target?: Tensor, owner?: object): void {
  for (const o of observers) o.onStateWrite?.(what, target, owner);
}

/**
 * Tells observers that `owner` (an optimizer, a module, a schedule) was just made: changes
 * to its state within the call that made it are invisible outside that call, so a replay
 * need not repeat them (an optimizer built inside a jit'd training loop).
 */
export function stateObjectMade(owner: object): void {
  for (const o of observers) o.onStateObject?.(owner);
}

/** Tells observers that `t` was just filled from JS values. */
export function created(t: Tensor, source: ConstantSource): Tensor {
  for (const o of observers) o.onCreate?.(t, source);
  return t;
}

/** Tells observers that `t` was copied to another device as `out`. */
export function moved(t: Tensor, out: Tensor): void {
  for (const o of observers) o.onMove?.(t, out);
}
