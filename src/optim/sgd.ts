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
    // Whether momentum and weight decay are 0 steers the update, as in PyTorch: at 0 no buffer
    // is kept and no decay computed. Under jit each is a guard, checked before the step writes
    // anything, so a replay needs no shadows for them. Updating a buffer at momentum 0 stored
    // the buffer and d of every parameter, and a decay picked with `where` ran the update one
    // element at a time (its boolean operand kept the Wasm kernel off SIMD): the update kernel
    // of the MLP 784-256-256-10 step took 1.5-2.3 ms, now 0.16-0.20 ms (one thread on a loaded
    // machine, beside ~8 ms of gemms). The values (lr, momentum, decay, dampening) stay
    // tensors read at each call, so a schedule changes them without tracing again; one that
    // turns momentum on later gets a buffer then, as PyTorch's does.
    const withMomentum = !this.hyperIsZero(group, 'momentum');
    const withDecay = !this.hyperIsZero(group, 'weightDecay');
    for (const p of group.params) {
      if (p.grad === null) continue;
      // Hyper-parameters enter in p's dtype, so a float32 step stays float32 throughout.
      const hyper = (name: keyof SGDOptions & string) => this.hyper(group, name, p.dtype);
      let d = withDecay ? p.grad.add(p.mul(hyper('weightDecay'))) : p.grad;
      if (withMomentum) {
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
