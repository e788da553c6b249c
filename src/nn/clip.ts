/** Gradient clipping (PyTorch's nn.utils.clip_grad_norm_ and clip_grad_value_), in place on `.grad`. */
import { ValueError } from '../../runtime/errors.js';
import { noGrad } from '../autograd/mode.js';
import { Tensor } from '../tensor.js';
import { zeros } from '../ops/creation.js';
import { add, cast, clamp, div } from '../ops/elementwise.js';
import { max } from '../ops/reduce.js';
import { stack } from '../ops/shape.js';
import { norm } from '../ops/norms.js';

function grads(op: string, parameters: Tensor[] | Iterable<Tensor>): Tensor[] {
  const list = [...parameters];
  for (const p of list) if (!(p instanceof Tensor)) {
    throw new ValueError(`${op}: parameters must be tensors (got ${typeof p})`);
  }
  return list.map((p) => p.grad).filter((g): g is Tensor => g !== null);
}

/**
 * Scales all gradients together so that their joint `normType`-norm is at most `maxNorm`;
 * returns that norm (before clipping) as a 0-d tensor. Computed without reading values, so
 * it compiles into a jit'd training step.
 */
export function clipGradNorm(parameters: Tensor[] | Iterable<Tensor>, maxNorm: number, normType: number = 2): Tensor {
  if (!(maxNorm >= 0)) throw new ValueError(`clipGradNorm: maxNorm must be non-negative (got ${maxNorm})`);
  if (typeof normType !== 'number' || Number.isNaN(normType)) {
    throw new ValueError(`clipGradNorm: normType must be a number (got ${String(normType)})`);
  }
  const gs = grads('clipGradNorm', parameters);
  if (gs.length === 0) return zeros([]);
  return noGrad(() => {
    const each = stack(gs.map((g) => cast(norm(g, normType), gs[0]!.dtype)));
    const total = normType === Infinity ? max(each) : norm(each, normType);
    // As PyTorch: scale by min(1, maxNorm / (total + 1e-6)), so gradients under the bound are untouched.
    const coef = clamp(div(maxNorm, add(total, 1e-6)), null, 1);
    for (const g of gs) g.mul_(cast(coef, g.dtype));
    return total;
  });
}

/** Clamps every gradient element to [-clipValue, clipValue]. */
export function clipGradValue(parameters: Tensor[] | Iterable<Tensor>, clipValue: number): void {
  if (!(clipValue >= 0)) throw new ValueError(`clipGradValue: clipValue must be non-negative (got ${clipValue})`);
  noGrad(() => {
    for (const g of grads('clipGradValue', parameters)) g.clamp_(-clipValue, clipValue);
  });
}
