/** Stochastic gradient descent with momentum, Nesterov momentum and weight decay (PyTorch's update). */
import { ValueError } from '../../runtime/errors.js';
import type { Tensor } from '../tensor.js';
import { sub } from '../ops/elementwise.js';
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
    // Branch on the values (read once: under jit each read is a guard), compute with the tensors.
    const useDecay = group.weightDecay !== 0, useMomentum = group.momentum !== 0;
    for (const p of group.params) {
      if (p.grad === null) continue;
      // Hyper-parameters enter in p's dtype, so a float32 step stays float32 throughout.
      const hyper = (name: keyof SGDOptions & string) => this.hyper(group, name, p.dtype);
      let d = p.grad;
      if (useDecay) d = d.add(p.mul(hyper('weightDecay')));
      if (useMomentum) {
        const momentum = hyper('momentum');
        const s = this.stateOf(p);
        let buf = s.momentumBuffer as Tensor | undefined;
        if (buf === undefined) buf = s.momentumBuffer = d.clone();
        else buf.mul_(momentum).add_(d.mul(sub(1, hyper('dampening'))));
        d = group.nesterov ? d.add(buf.mul(momentum)) : buf;
      }
      p.sub_(d.mul(hyper('lr')));
    }
  }
}
