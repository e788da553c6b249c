/** RMSprop, following PyTorch's update. */
import { ValueError } from '../../runtime/errors.js';
import type { Tensor } from '../tensor.js';
import { zerosLike } from '../ops/creation.js';
import { add, div, mul, sub } from '../ops/elementwise.js';
import { Optimizer, type ParamGroup } from './optimizer.js';

/** RMSprop hyper-parameters. */
export interface RMSpropOptions {
  lr: number;
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  /** Divide by the centered second moment (the gradient's variance estimate). */
  centered: boolean;
}

/** RMSprop: p -= lr · g / (√E[g²] + eps), optionally centered and with momentum. */
export class RMSprop extends Optimizer<RMSpropOptions> {
  constructor(params: Tensor[] | (Partial<RMSpropOptions> & { params: Tensor[] })[], options: Partial<RMSpropOptions> = {}) {
    super(params, { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, ...options });
  }

  protected override validate(g: RMSpropOptions): void {
    super.validate(g);
    if (!(g.alpha >= 0)) throw new ValueError(`RMSprop: alpha must be non-negative (got ${g.alpha})`);
    if (!(g.eps >= 0)) throw new ValueError(`RMSprop: eps must be non-negative (got ${g.eps})`);
    if (!(g.momentum >= 0)) throw new ValueError(`RMSprop: momentum must be non-negative (got ${g.momentum})`);
    if (!(g.weightDecay >= 0)) throw new ValueError(`RMSprop: weightDecay must be non-negative (got ${g.weightDecay})`);
  }

  protected update(group: ParamGroup<RMSpropOptions>): void {
    const useDecay = group.weightDecay !== 0, useMomentum = group.momentum !== 0;
    for (const p of group.params) {
      if (p.grad === null) continue;
      const hyper = (name: keyof RMSpropOptions & string) => this.hyper(group, name, p.dtype);
      let grad = p.grad;
      if (useDecay) grad = grad.add(p.mul(hyper('weightDecay')));
      const s = this.stateOf(p);
      if (s.squareAvg === undefined) {
        s.squareAvg = zerosLike(p);
        if (useMomentum) s.momentumBuffer = zerosLike(p);
        if (group.centered) s.gradAvg = zerosLike(p);
      }
      const alpha = hyper('alpha');
      const sq = (s.squareAvg as Tensor).mul_(alpha).add_(mul(mul(grad, grad), sub(1, alpha)));
      let avg = sq;
      if (group.centered) {
        const ga = (s.gradAvg as Tensor).mul_(alpha).add_(mul(grad, sub(1, alpha)));
        avg = sub(sq, mul(ga, ga));
      }
      const denom = add(avg.sqrt(), hyper('eps'));
      if (useMomentum) {
        const buf = (s.momentumBuffer as Tensor).mul_(hyper('momentum')).add_(div(grad, denom));
        p.sub_(mul(buf, hyper('lr')));
      } else {
        p.sub_(mul(div(grad, denom), hyper('lr')));
      }
    }
  }
}
