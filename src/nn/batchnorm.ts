/** Batch normalization: normalizes each channel (dim 1) with batch or running statistics. */
import { DTypeError, ShapeError, ValueError, fmtShape } from '../../runtime/errors.js';
import { isFloat } from '../../runtime/dtype.js';
import { noGrad } from '../autograd/mode.js';
import { Tensor } from '../tensor.js';
import { full, ones, zeros } from '../ops/creation.js';
import { add, cast, div, mul, reciprocal, rsqrt, sub } from '../ops/elementwise.js';
import { mean } from '../ops/reduce.js';
import { reshape } from '../ops/shape.js';
import type { Layer } from './layers.js';
import { Module, parameter } from './module.js';

function checkChannelVector(name: string, t: Tensor | null | undefined, c: number, x: Tensor): void {
  if (t === null || t === undefined) return;
  if (!(t instanceof Tensor) || t.ndim !== 1 || t.shape[0] !== c) {
    throw new ShapeError(`batchNorm: ${name} must be [${c}] for input ${fmtShape(x.shape)} with ${c} channels (got ${t instanceof Tensor ? fmtShape(t.shape) : typeof t})`);
  }
}

/**
 * Batch normalization of x [N, C, ...] over every dim but the channel dim 1, as PyTorch's
 * F.batch_norm. In training the batch statistics normalize (biased variance) and, when given,
 * the running statistics are updated in place with `momentum` (unbiased variance); otherwise
 * the running statistics normalize.
 */
export function batchNorm(
  x: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, weight?: Tensor | null, bias?: Tensor | null,
  training = false, momentum: number | Tensor = 0.1, eps = 1e-5,
): Tensor {
  if (!(x instanceof Tensor) || x.ndim < 2) throw new ShapeError(`batchNorm: expects input [N, C, ...] (got ${x instanceof Tensor ? fmtShape(x.shape) : typeof x})`);
  if (!isFloat(x.dtype)) throw new DTypeError(`batchNorm: input must be float32 or float64 (got ${x.dtype})`);
  const c = x.shape[1]!;
  checkChannelVector('runningMean', runningMean, c, x);
  checkChannelVector('runningVar', runningVar, c, x);
  checkChannelVector('weight', weight, c, x);
  checkChannelVector('bias', bias, c, x);
  if ((runningMean === null) !== (runningVar === null)) throw new ValueError('batchNorm: runningMean and runningVar must be given together');
  // Per-channel vectors broadcast as [C, 1, ...] against the trailing dims.
  const channelShape = [c, ...x.shape.slice(2).map(() => 1)];
  const asChannel = (t: Tensor): Tensor => reshape(t, channelShape);
  const axes = x.shape.map((_, i) => i).filter((i) => i !== 1);
  let centered: Tensor;
  let invStd: Tensor;
  if (training) {
    const n = x.size / c;
    if (n <= 1) throw new ValueError(`batchNorm: expected more than 1 value per channel when training (got input ${fmtShape(x.shape)})`);
    const mu = mean(x, axes, true);
    centered = sub(x, mu);
    const biasedVar = mean(mul(centered, centered), axes, true);
    invStd = rsqrt(add(biasedVar, eps));
    if (runningMean !== null && runningVar !== null) {
      const rm = runningMean, rv = runningVar;
      // Under noGrad and in place: the buffers keep their identity (the JIT reads them live)
      // and the update is never part of the graph.
      noGrad(() => {
        // A tensor momentum (a float64 0-d tensor) follows the same float64 arithmetic as a
        // number, cast once to the statistics' dtype as a number operand would be.
        const m = momentum;
        const keep = typeof m === 'number' ? 1 - m : cast(sub(1, m), rm.dtype);
        const take = typeof m === 'number' ? m : cast(m, rm.dtype);
        const takeVar = typeof m === 'number' ? m * n / (n - 1) : cast(div(mul(m, n), n - 1), rv.dtype);
        rm.copy_(add(mul(rm, keep), mul(reshape(mu, [c]), take)));
        rv.copy_(add(mul(rv, keep), mul(reshape(biasedVar, [c]), takeVar)));
      });
    }
  } else {
    if (runningMean === null || runningVar === null) throw new ValueError('batchNorm: running statistics are needed when not training');
    centered = sub(x, asChannel(runningMean));
    invStd = asChannel(rsqrt(add(runningVar, eps)));
  }
  // Scale per channel first, so the full-size work is one multiply and one add.
  const scale = weight ? mul(invStd, asChannel(weight)) : invStd;
  const y = mul(centered, scale);
  return bias ? add(y, asChannel(bias)) : y;
}

/** Options of the batch norm layers. */
export interface BatchNormOptions {
  eps?: number;
  /** Weight of the newest batch in the running statistics; null averages all batches equally. */
  momentum?: number | null;
  /** Learnable per-channel scale and shift. */
  affine?: boolean;
  /** Keep running statistics for eval mode (else batch statistics are always used). */
  trackRunningStats?: boolean;
}

/** Shared body of BatchNorm1d and BatchNorm2d; they differ in the input ranks they accept. */
abstract class BatchNormBase extends Module implements Layer {
  weight: Tensor | null;
  bias: Tensor | null;
  runningMean: Tensor | null = null;
  runningVar: Tensor | null = null;
  numBatchesTracked: Tensor | null = null;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  protected abstract readonly ranks: readonly number[];
  protected abstract readonly layout: string;

  constructor(readonly numFeatures: number, options: BatchNormOptions = {}) {
    super();
    const name = new.target.name;
    if (!Number.isInteger(numFeatures) || numFeatures <= 0) throw new ValueError(`${name}: numFeatures must be a positive integer (got ${numFeatures})`);
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum === undefined ? 0.1 : options.momentum;
    this.affine = options.affine ?? true;
    this.trackRunningStats = options.trackRunningStats ?? true;
    if (!(this.eps > 0)) throw new ValueError(`${name}: eps must be positive (got ${this.eps})`);
    if (this.momentum !== null && !(this.momentum >= 0 && this.momentum <= 1)) throw new ValueError(`${name}: momentum must be in [0, 1] or null (got ${this.momentum})`);
    this.weight = this.affine ? parameter(ones([numFeatures])) : null;
    this.bias = this.affine ? parameter(zeros([numFeatures])) : null;
    if (this.trackRunningStats) {
      this.registerBuffer('runningMean', zeros([numFeatures]));
      this.registerBuffer('runningVar', ones([numFeatures]));
      this.registerBuffer('numBatchesTracked', full([], 0, { dtype: 'int32' }));
    }
  }

  forward(x: Tensor): Tensor {
    const name = this.constructor.name;
    if (!(x instanceof Tensor) || !this.ranks.includes(x.ndim) || x.shape[1] !== this.numFeatures) {
      throw new ShapeError(`${name}: expects input ${this.layout} with C = ${this.numFeatures} (got ${x instanceof Tensor ? fmtShape(x.shape) : typeof x})`);
    }
    const count = this.training ? this.numBatchesTracked : null;
    // momentum null: the running statistics are the plain average of all batches so far.
    // Computed as a tensor, not read with item(): under jit a read would be a guard that
    // fails on every step, since the count changes on every call.
    const factor = this.momentum ?? (count === null ? 0 : reciprocal(add(cast(count, 'float64'), 1)));
    // Batch statistics in training, and always when there are no running statistics.
    const useBatch = this.training || this.runningMean === null;
    const y = batchNorm(x, this.runningMean, this.runningVar, this.weight, this.bias, useBatch, factor, this.eps);
    // Counted after the batch passed batchNorm's checks, so a rejected batch changes nothing.
    if (count !== null) noGrad(() => count.add_(1));
    return y;
  }
}

/** Batch normalization over [N, C] or [N, C, L] inputs, with PyTorch's defaults and buffers. */
export class BatchNorm1d extends BatchNormBase {
  protected readonly ranks = [2, 3];
  protected readonly layout = '[N, C] or [N, C, L]';
}

/** Batch normalization over [N, C, H, W] inputs, with PyTorch's defaults and buffers. */
export class BatchNorm2d extends BatchNormBase {
  protected readonly ranks = [4];
  protected readonly layout = '[N, C, H, W]';
}
