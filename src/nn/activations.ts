/** More activations (functional forms and layers), composed from elementwise primitives. */
import { ValueError } from '../../runtime/errors.js';
import type { Tensor } from '../tensor.js';
import { abs, add, div, exp, expm1, gt, log1p, maximum, minimum, mul, tanh, where } from '../ops/elementwise.js';
import { Module } from './module.js';
import type { Layer } from './layers.js';

/** x where x > 0, else negativeSlope·x. */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  return where(gt(x, 0), x, mul(x, negativeSlope));
}

/**
 * log(1 + e^(βx)) / β, computed as max(βx, 0) + log1p(e^-|βx|) so it neither overflows nor
 * loses small values; linear (x itself) above `threshold`, as PyTorch.
 */
export function softplus(x: Tensor, beta = 1, threshold = 20): Tensor {
  if (!(beta > 0)) throw new ValueError(`softplus: beta must be positive (got ${beta})`);
  const bx = mul(x, beta);
  const smooth = div(add(maximum(bx, 0), log1p(exp(mul(abs(bx), -1)))), beta);
  return where(gt(bx, threshold), x, smooth);
}

/** x where x > 0, else α(eˣ - 1). */
export function elu(x: Tensor, alpha = 1): Tensor {
  return where(gt(x, 0), x, mul(expm1(x), alpha));
}

/** x · tanh(softplus(x)). */
export function mish(x: Tensor): Tensor {
  return mul(x, tanh(softplus(x)));
}

/** x · relu6(x + 3) / 6. */
export function hardswish(x: Tensor): Tensor {
  return div(mul(x, minimum(maximum(add(x, 3), 0), 6)), 6);
}

export class LeakyReLU extends Module implements Layer {
  constructor(readonly negativeSlope = 0.01) { super(); }
  forward(x: Tensor): Tensor { return leakyRelu(x, this.negativeSlope); }
}
export class Softplus extends Module implements Layer {
  constructor(readonly beta = 1, readonly threshold = 20) { super(); }
  forward(x: Tensor): Tensor { return softplus(x, this.beta, this.threshold); }
}
export class ELU extends Module implements Layer {
  constructor(readonly alpha = 1) { super(); }
  forward(x: Tensor): Tensor { return elu(x, this.alpha); }
}
export class Mish extends Module implements Layer { forward(x: Tensor): Tensor { return mish(x); } }
export class Hardswish extends Module implements Layer { forward(x: Tensor): Tensor { return hardswish(x); } }
