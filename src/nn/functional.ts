/** Functional forms of layers and losses, composed from kiln ops so autograd and the JIT see through them. */
import { DTypeError, ShapeError, ValueError, fmtShape, fmtValue } from '../../runtime/errors.js';
import { isFloat } from '../../runtime/dtype.js';
import { broadcastShapes, normalizeAxes } from '../../compiler/ir/shape.js';
import { Tensor } from '../tensor.js';
import { rand } from '../ops/creation.js';
import { abs, add, cast, div, exp, log1p, lt, maximum, mul, neg, sqrt, sub, where } from '../ops/elementwise.js';
import { mean, sum, logSoftmax, variance } from '../ops/reduce.js';
import { matmul } from '../ops/linalg.js';
import { gather, indexedAs } from '../ops/indexing.js';
import { squeeze, transpose, unsqueeze } from '../ops/shape.js';

/** How a loss combines per-element values. */
export type Reduction = 'mean' | 'sum' | 'none';

function reduce(op: string, x: Tensor, reduction: Reduction): Tensor {
  switch (reduction) {
    case 'mean': return mean(x);
    case 'sum': return sum(x);
    case 'none': return x;
    default: throw new ValueError(`${op}: reduction must be 'mean', 'sum' or 'none' (got ${String(reduction)})`);
  }
}

/** x @ weightᵀ + bias, with weight [out, in]. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  const y = matmul(x, transpose(weight, 0, 1));
  return bias ? add(y, bias) : y;
}

/** Zeroes elements with probability p and scales the rest by 1/(1-p), in training only. */
export function dropout(x: Tensor, p = 0.5, training = true): Tensor {
  if (!(p >= 0 && p <= 1)) throw new ValueError(`dropout: p must be in [0, 1] (got ${p})`);
  if (!training || p === 0) return x;
  if (p === 1) return mul(x, 0);
  return where(lt(rand(x.shape, { device: x.device }), 1 - p), mul(x, 1 / (1 - p)), 0);
}

/** Normalizes over the trailing `normalizedShape` dims, then scales and shifts. */
export function layerNorm(x: Tensor, normalizedShape: number[], weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  const n = normalizedShape.length;
  if (n === 0 || n > x.ndim || normalizedShape.some((d, i) => x.shape[x.ndim - n + i] !== d)) {
    throw new ShapeError(`layerNorm: normalizedShape ${fmtShape(normalizedShape)} must match the trailing dims of the input ${fmtShape(x.shape)}`);
  }
  const axes = normalizeAxes('layerNorm', normalizedShape.map((_, i) => x.ndim - n + i), x.ndim);
  const centered = sub(x, mean(x, axes, true));
  let y = div(centered, sqrt(add(variance(x, axes, true, 0), eps)));
  if (weight) y = mul(y, weight);
  if (bias) y = add(y, bias);
  return y;
}

/** Checks the operands of a classification loss before any op runs, so errors name the loss. */
function checkLogits(op: string, logits: Tensor, target: Tensor): void {
  for (const [name, t] of [['input', logits], ['target', target]] as const) {
    if (!(t instanceof Tensor)) throw new ValueError(`${op}: ${name} must be a tensor (got ${fmtValue(t)})`);
  }
  if (!isFloat(logits.dtype)) throw new DTypeError(`${op}: input must be float32 or float64 scores (got ${logits.dtype})`);
  if (logits.ndim < 2) {
    const got = fmtShape(logits.shape);
    throw new ShapeError(`${op}: input must be [N, C] or [N, C, ...] (got ${got}); add a batch dim with unsqueeze(0)`);
  }
}

/** logProbs[n, target[n], ...] as [N, 1, ...], with an out-of-range class named as such. */
function pickClasses(op: string, logProbs: Tensor, target: Tensor): Tensor {
  return indexedAs(op, () => gather(logProbs, 1, unsqueeze(target, 1)), (n) => `${n} classes`);
}

function checkTarget(op: string, logits: Tensor, target: Tensor): void {
  if (target.dtype !== 'int32') throw new DTypeError(`${op}: class targets must be int32 (got ${target.dtype}); pass float probabilities of the logits' shape for soft targets`);
  const expected = [logits.shape[0]!, ...logits.shape.slice(2)];
  if (logits.ndim < 2 || target.ndim !== expected.length || target.shape.some((d, i) => d !== expected[i])) {
    throw new ShapeError(`${op}: input ${fmtShape(logits.shape)} needs class targets of shape ${fmtShape(expected)} (got ${fmtShape(target.shape)})`);
  }
}

/** -logProbs[target] per sample: log-probabilities [N, C, ...] and int32 classes [N, ...]. */
export function nllLoss(logProbs: Tensor, target: Tensor, options: { reduction?: Reduction } = {}): Tensor {
  checkLogits('nllLoss', logProbs, target);
  checkTarget('nllLoss', logProbs, target);
  const picked = squeeze(pickClasses('nllLoss', logProbs, target), 1);
  return reduce('nllLoss', neg(picked), options.reduction ?? 'mean');
}

/**
 * Cross entropy of logits [N, C, ...] against int32 classes [N, ...] or float class
 * probabilities shaped like the logits; optional label smoothing as in PyTorch.
 */
export function crossEntropy(logits: Tensor, target: Tensor, options: { reduction?: Reduction; labelSmoothing?: number } = {}): Tensor {
  const { reduction = 'mean', labelSmoothing = 0 } = options;
  if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) throw new ValueError(`crossEntropy: labelSmoothing must be in [0, 1] (got ${labelSmoothing})`);
  checkLogits('crossEntropy', logits, target);
  const logp = logSoftmax(logits, 1);
  const classes = logits.shape[1]!;
  let perSample: Tensor;
  if (target.dtype === 'int32') {
    checkTarget('crossEntropy', logits, target);
    perSample = neg(squeeze(pickClasses('crossEntropy', logp, target), 1));
    if (labelSmoothing > 0) {
      const uniformTerm = neg(mean(logp, 1));
      perSample = add(mul(perSample, 1 - labelSmoothing), mul(uniformTerm, labelSmoothing));
    }
  } else {
    if (target.shape.length !== logits.shape.length || target.shape.some((d, i) => d !== logits.shape[i])) {
      throw new ShapeError(`crossEntropy: probability targets must have the logits' shape ${fmtShape(logits.shape)} (got ${fmtShape(target.shape)})`);
    }
    const probs = labelSmoothing > 0 ? add(mul(target, 1 - labelSmoothing), labelSmoothing / classes) : target;
    perSample = neg(sum(mul(logp, probs), 1));
  }
  return reduce('crossEntropy', perSample, reduction);
}

/** Mean squared error. */
export function mseLoss(input: Tensor, target: Tensor, options: { reduction?: Reduction } = {}): Tensor {
  for (const [name, t] of [['input', input], ['target', target]] as const) {
    if (!(t instanceof Tensor)) throw new ValueError(`mseLoss: ${name} must be a tensor (got ${fmtValue(t)})`);
  }
  broadcastShapes('mseLoss', input.shape, target.shape);
  const d = sub(input, target);
  return reduce('mseLoss', mul(d, d), options.reduction ?? 'mean');
}

/** Binary cross entropy on logits, computed stably as max(x,0) - x·y + log(1 + e^-|x|). */
export function binaryCrossEntropyWithLogits(logits: Tensor, target: Tensor, options: { reduction?: Reduction; posWeight?: Tensor | number } = {}): Tensor {
  broadcastShapes('binaryCrossEntropyWithLogits', logits.shape, target.shape);
  const y = cast(target, logits.dtype);
  const softplusNeg = log1p(exp(neg(abs(logits))));
  let loss: Tensor;
  if (options.posWeight === undefined) {
    loss = add(sub(maximum(logits, 0), mul(logits, y)), softplusNeg);
  } else {
    // (1 - y)·x + (1 + (w - 1)·y)·log(1 + e^-x), the form PyTorch uses for pos_weight.
    const w = add(mul(sub(options.posWeight, 1), y), 1);
    loss = add(mul(sub(1, y), logits), mul(w, add(softplusNeg, maximum(neg(logits), 0))));
  }
  return reduce('binaryCrossEntropyWithLogits', loss, options.reduction ?? 'mean');
}

