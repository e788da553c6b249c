/** Adam and AdamW (decoupled weight decay), with optional AMSGrad, following PyTorch's updates. */
import { ValueError } from '../../runtime/errors.js';
import type { Tensor } from '../tensor.js';
import { zeros, zerosLike } from '../ops/creation.js';
import { div, maximum, mul, pow, sqrt, sub } from '../ops/elementwise.js';
import { Optimizer, type ParamGroup } from './optimizer.js';

/** Adam hyper-parameters. */
export interface AdamOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
}

abstract class AdamBase extends Optimizer<AdamOptions> {
  protected abstract readonly decoupled: boolean;

  protected override validate(g: AdamOptions): void {
    super.validate(g);
    const [b1, b2] = g.betas;
    if (!(b1 >= 0 && b1 < 1) || !(b2 >= 0 && b2 < 1)) throw new ValueError(`${this.constructor.name}: betas must be in [0, 1) (got [${g.betas}])`);
    if (!(g.eps >= 0)) throw new ValueError(`${this.constructor.name}: eps must be non-negative (got ${g.eps})`);
    if (!(g.weightDecay >= 0)) throw new ValueError(`${this.constructor.name}: weightDecay must be non-negative (got ${g.weightDecay})`);
  }

  protected update(group: ParamGroup<AdamOptions>): void {
    // Scalars are computed in float64, as PyTorch does in Python floats, then cast to p's dtype.
    const lr = this.hyper(group, 'lr', 'float64'), weightDecay = this.hyper(group, 'weightDecay', 'float64');
    // betas is a pair, so it stays a JS value: 0-d tensors made here are constants of a trace.
    const [b1, b2] = group.betas;
    // Whether weight decay is 0 steers the update, as in PyTorch: a guard under jit, checked
    // before the step writes anything. Picking the decayed gradient with `where` instead ran
    // the update one element at a time (its boolean operand kept the Wasm kernel off SIMD).
    const withDecay = !this.hyperIsZero(group, 'weightDecay');
    for (const p of group.params) {
      if (p.grad === null) continue;
      let grad = p.grad;
      const dt = p.dtype;
      const s = this.stateOf(p);
      if (s.step === undefined) {
        // The step count is a tensor so that compiled steps advance it without running JS.
        s.step = zeros([], { dtype: 'float64' });
        s.expAvg = zerosLike(p);
        s.expAvgSq = zerosLike(p);
        if (group.amsgrad) s.maxExpAvgSq = zerosLike(p);
      }
      const step = (s.step as Tensor).add_(1);
      if (withDecay && this.decoupled) p.mul_(sub(1, mul(lr, weightDecay)).cast(dt));
      else if (withDecay) grad = grad.add(p.mul(weightDecay.cast(dt)));
      const m = (s.expAvg as Tensor).mul_(b1).add_(grad.mul(1 - b1));
      const v = (s.expAvgSq as Tensor).mul_(b2).add_(grad.mul(grad).mul(1 - b2));
      let second = v;
      if (group.amsgrad) second = (s.maxExpAvgSq as Tensor).copy_(maximum(s.maxExpAvgSq as Tensor, v));
      const bc1 = sub(1, pow(b1, step));
      const bc2 = sub(1, pow(b2, step));
      const denom = second.sqrt().div(sqrt(bc2).cast(dt)).add(this.hyper(group, 'eps', dt));
      p.sub_(m.div(denom).mul(div(lr, bc1).cast(dt)));
    }
  }
}

/** Adam: L2 weight decay added to the gradient. */
export class Adam extends AdamBase {
  protected readonly decoupled = false;
  constructor(params: Tensor[] | (Partial<AdamOptions> & { params: Tensor[] })[], options: Partial<AdamOptions> = {}) {
    super(params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, ...options });
  }
}

/** AdamW: weight decay applied to the parameters directly (default 0.01, as PyTorch). */
export class AdamW extends AdamBase {
  protected readonly decoupled = true;
  constructor(params: Tensor[] | (Partial<AdamOptions> & { params: Tensor[] })[], options: Partial<AdamOptions> = {}) {
    super(params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false, ...options });
  }
}
