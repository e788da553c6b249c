/** Regression and divergence losses, composed from elementwise ops and reductions. */
import { ShapeError, ValueError, fmtShape } from '../../runtime/errors.js';
import type { Tensor } from '../tensor.js';
import { abs, exp, lt, mul, sub, where } from '../ops/elementwise.js';
import { mean, sum } from '../ops/reduce.js';
import type { Reduction } from './functional.js';

function reduceLoss(op: string, x: Tensor, reduction: Reduction | 'batchmean'): Tensor {
  switch (reduction) {
    case 'mean': return mean(x);
    case 'sum': return sum(x);
    case 'none': return x;
    case 'batchmean':
      if (op !== 'klDiv') break;
      return sum(x).div(x.ndim === 0 ? 1 : x.shape[0]!);
  }
  throw new ValueError(`${op}: reduction must be 'mean', 'sum' or 'none'${op === 'klDiv' ? " or 'batchmean'" : ''} (got ${String(reduction)})`);
}

function checkSameShape(op: string, input: Tensor, target: Tensor): void {
  if (input.ndim !== target.ndim || input.shape.some((d, i) => d !== target.shape[i])) {
    throw new ShapeError(`${op}: input ${fmtShape(input.shape)} and target ${fmtShape(target.shape)} must have the same shape`);
  }
}

/** Mean absolute error. */
export function l1Loss(input: Tensor, target: Tensor, options: { reduction?: Reduction } = {}): Tensor {
  checkSameShape('l1Loss', input, target);
  return reduceLoss('l1Loss', abs(sub(input, target)), options.reduction ?? 'mean');
}

/** Quadratic below `delta`, linear above: 0.5d² if |d| < delta, else delta(|d| - 0.5·delta). */
export function huberLoss(input: Tensor, target: Tensor, options: { reduction?: Reduction; delta?: number } = {}): Tensor {
  checkSameShape('huberLoss', input, target);
  const delta = options.delta ?? 1;
  if (!(delta > 0)) throw new ValueError(`huberLoss: delta must be positive (got ${delta})`);
  const d = abs(sub(input, target));
  const loss = where(lt(d, delta), mul(mul(d, d), 0.5), mul(sub(d, 0.5 * delta), delta));
  return reduceLoss('huberLoss', loss, options.reduction ?? 'mean');
}

/** Huber loss divided by beta: 0.5d²/beta if |d| < beta, else |d| - 0.5·beta (L1 when beta = 0). */
export function smoothL1Loss(input: Tensor, target: Tensor, options: { reduction?: Reduction; beta?: number } = {}): Tensor {
  checkSameShape('smoothL1Loss', input, target);
  const beta = options.beta ?? 1;
  if (!(beta >= 0)) throw new ValueError(`smoothL1Loss: beta must be non-negative (got ${beta})`);
  const d = abs(sub(input, target));
  const loss = beta === 0 ? d : where(lt(d, beta), mul(mul(d, d), 0.5 / beta), sub(d, 0.5 * beta));
  return reduceLoss('smoothL1Loss', loss, options.reduction ?? 'mean');
}

/**
 * KL divergence with `input` as log-probabilities: target·(log target - input), or with
 * `logTarget`, e^target·(target - input). PyTorch's default reduction is 'mean' over elements;
 * 'batchmean' (sum / batch size) is the true KL divergence.
 */
export function klDiv(input: Tensor, target: Tensor, options: { reduction?: Reduction | 'batchmean'; logTarget?: boolean } = {}): Tensor {
  checkSameShape('klDiv', input, target);
  const loss = options.logTarget
    ? mul(exp(target), sub(target, input))
    // 0·log 0 is taken as 0, as PyTorch's xlogy does.
    : where(lt(target, Number.MIN_VALUE), 0, mul(target, sub(target.log(), input)));
  return reduceLoss('klDiv', loss, options.reduction ?? 'mean');
}
