/** Stochastic gradient descent with momentum, Nesterov momentum and weight decay (PyTorch's update). */
import { ValueError } from '../../runtime/errors.js';
import type { Tensor } from '../tensor.js';
import { eq, sub, where } from '../ops/elementwise.js';
import { Optimizer, type ParamGroup } from './optimizer.js';

/** SGD hyper-parameters. */
export interface SGDOptions {
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
}

/** SGD: p -= lr · (g + wd·p), with an optional momentum buffer. */
export class SGD extends Optimizer<SGDOptions> {
  constructor(params: Tensor[] | (Partial<SGDOptions> & { params: Tensor[] })[], options: Partial<SGDOptions> & { lr: number }) {
    super(params, { momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, ...options });
  }

  protected override validate(g: SGDOptions): void {
    super.validate(g);
    if (!(g.momentum >= 0)) throw new ValueError(`SGD: momentum must be non-negative (got ${g.momentum})`);
    if (!(g.weightDecay >= 0)) throw new ValueError(`SGD: weightDecay must be non-negative (got ${g.weightDecay})`);
    if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) throw new ValueError('SGD: Nesterov momentum needs momentum > 0 and dampening 0');
  }

  protected update(group: ParamGroup<SGDOptions>): void {
    // No hyper-parameter value steers JS here (under jit each read would be a guard on every
    // compiled step): weight decay and momentum are selected with `where`, which picks
    // exactly the values the plain branches would. The momentum buffer exists even at
    // momentum 0 (one tensor per parameter), so a schedule may turn momentum on later.
    for (const p of group.params) {
      if (p.grad === null) continue;
      // Hyper-parameters enter in p's dtype, so a float32 step stays float32 throughout.
      const hyper = (name: keyof SGDOptions & string) => this.hyper(group, name, p.dtype);
      const weightDecay = hyper('weightDecay'), momentum = hyper('momentum');
      let d = where(eq(weightDecay, 0), p.grad, p.grad.add(p.mul(weightDecay)));
      const s = this.stateOf(p);
      let buf = s.momentumBuffer as Tensor | undefined;
      if (buf === undefined) buf = s.momentumBuffer = d.clone();
      else buf.mul_(momentum).add_(d.mul(sub(1, hyper('dampening'))));
      d = where(eq(momentum, 0), d, group.nesterov ? d.add(buf.mul(momentum)) : buf);
      p.sub_(d.mul(hyper('lr')));
    }
  }
}
