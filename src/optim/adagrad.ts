/** Adagrad, following PyTorch's update. */
import { ValueError } from '../../runtime/errors.js';
import type { Tensor } from '../tensor.js';
import { fullLike, zeros } from '../ops/creation.js';
import { add, div, mul, sub } from '../ops/elementwise.js';
import { Optimizer, type ParamGroup } from './optimizer.js';

/** Adagrad hyper-parameters. */
export interface AdagradOptions {
  lr: number;
  lrDecay: number;
  weightDecay: number;
  initialAccumulatorValue: number;
  eps: number;
}

/** Adagrad: p -= lr / (1 + (t-1)·lrDecay) · g / (√Σg² + eps). */
export class Adagrad extends Optimizer<AdagradOptions> {
  constructor(params: Tensor[] | (Partial<AdagradOptions> & { params: Tensor[] })[], options: Partial<AdagradOptions> = {}) {
    super(params, { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, ...options });
  }

  protected override validate(g: AdagradOptions): void {
    super.validate(g);
    if (!(g.lrDecay >= 0)) throw new ValueError(`Adagrad: lrDecay must be non-negative (got ${g.lrDecay})`);
    if (!(g.weightDecay >= 0)) throw new ValueError(`Adagrad: weightDecay must be non-negative (got ${g.weightDecay})`);
    if (!(g.initialAccumulatorValue >= 0)) {
      throw new ValueError(`Adagrad: initialAccumulatorValue must be non-negative (got ${g.initialAccumulatorValue})`);
    }
    if (!(g.eps >= 0)) throw new ValueError(`Adagrad: eps must be non-negative (got ${g.eps})`);
  }

  protected update(group: ParamGroup<AdagradOptions>): void {
    const useDecay = group.weightDecay !== 0;
    // Scalars in float64, as PyTorch computes them in Python floats.
    const lr = this.hyper(group, 'lr', 'float64'), lrDecay = this.hyper(group, 'lrDecay', 'float64');
    for (const p of group.params) {
      if (p.grad === null) continue;
      const dt = p.dtype;
      let grad = p.grad;
      if (useDecay) grad = grad.add(p.mul(this.hyper(group, 'weightDecay', dt)));
      const s = this.stateOf(p);
      if (s.step === undefined) {
        // The step count is a tensor so that compiled steps advance it without running JS.
        s.step = zeros([], { dtype: 'float64' });
        s.sum = fullLike(p, group.initialAccumulatorValue);
      }
      const step = (s.step as Tensor).add_(1);
      const clr = div(lr, add(mul(sub(step, 1), lrDecay), 1));
      const total = (s.sum as Tensor).add_(mul(grad, grad));
      p.sub_(mul(div(grad, add(total.sqrt(), this.hyper(group, 'eps', dt))), clr.cast(dt)));
    }
  }
}
