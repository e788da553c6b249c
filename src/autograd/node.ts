/**
 * The tape: every primitive applied to tensors that require grad leaves a GradNode on its
 * output, holding what its vector-Jacobian product needs. `apply` records every node, so
 * composite ops need no gradient code of their own.
 */
import { isFloat } from '../../runtime/dtype.js';
import { KilnError } from '../../runtime/errors.js';
import type { Prim } from '../../compiler/ir/primitives.js';
import type { Tensor } from '../tensor.js';
import { isGradEnabled } from './mode.js';
import { vjpRules } from './vjp.js';

/** Backward through a graph whose saved values were released, or were changed in place. */
export class AutogradError extends KilnError {
  override name = 'AutogradError';
}

/** One recorded primitive application. */
export class GradNode {
  readonly prim: Prim;
  readonly params: object;
  /** The operands; null once the graph has been freed by a backward pass. */
  inputs: readonly Tensor[] | null;
  /**
   * Where each operand's gradient goes: the node that produced it, the leaf itself, or null
   * (no grad). Fixed when recorded, because an in-place op later gives the operand tensor
   * a new history, and gradients of this use belong to the history it had here.
   */
  edges: readonly (GradNode | Tensor | null)[] | null;
  /** The result (needed by rules written in terms of it, e.g. exp). */
  out: Tensor | null;
  /** Storage versions of the inputs and output when recorded, to catch later in-place writes. */
  readonly versions: readonly number[];

  constructor(prim: Prim, params: object, inputs: readonly Tensor[], out: Tensor) {
    this.prim = prim;
    this.params = params;
    this.inputs = inputs;
    this.edges = inputs.map((x) => x.gradFn ?? (x.requiresGrad ? x : null));
    this.out = out;
    this.versions = [...inputs.map((x) => x.storage.version), out.storage.version];
  }

  /** The operands and result, after checking none was modified in place since recording. */
  saved(): { inputs: readonly Tensor[]; out: Tensor } {
    if (this.inputs === null || this.out === null) {
      throw new AutogradError(`backward: trying to go backward through the graph a second time (at ${this.prim}); its saved values were freed by the first backward. Pass { retainGraph: true } to the first backward to keep them`);
    }
    const rule = vjpRules[this.prim];
    const check = (t: Tensor, v: number, what: string) => {
      if (t.storage.version !== v) {
        throw new AutogradError(`backward: ${what} of ${this.prim}, needed for its gradient, was modified by an in-place operation after it was used (version ${v}, now ${t.storage.version}); use an out-of-place op (e.g. x = x.add(y) instead of x.add_(y))`);
      }
    };
    if (rule.saves === 'inputs' || rule.saves === 'all') this.inputs.forEach((x, i) => check(x, this.versions[i]!, `operand ${i}`));
    if (rule.saves === 'output' || rule.saves === 'all') check(this.out, this.versions[this.inputs.length]!, 'the result');
    return { inputs: this.inputs, out: this.out };
  }

  /** Drops the references that keep the graph's tensors alive. */
  free(): void {
    this.inputs = null;
    this.edges = null;
    this.out = null;
  }
}

/** Records `prim`'s application on the tape when grad is enabled and an operand requires grad. */
export function recordGradient(prim: Prim, inputs: readonly Tensor[], params: object, out: Tensor): void {
  if (!isGradEnabled() || !isFloat(out.dtype)) return;
  let needed = false;
  for (const x of inputs) if (x.requiresGrad) { needed = true; break; }
  if (!needed || vjpRules[prim].vjp === null) return;
  out.setGradFn(new GradNode(prim, params, inputs, out));
}
