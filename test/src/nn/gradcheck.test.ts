/**
 * Gradients of the convolution, pooling and normalization layers against central finite
 * differences in float64. These ops carry no gradient code of their own: the checks show
 * that the VJPs of the views, pads, concat, matmul and reductions they are built from compose.
 */
import { describe, expect, it } from 'vitest';
import { gradcheck, nn, tensor, zeros, ones, type GradcheckOptions, type Tensor } from '../../../src/index.js';
import { withSeed } from '../random-inputs.js';

function check(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], options: GradcheckOptions = {}): void {
  const result = gradcheck(fn, inputs, { ...options, raise: false });
  expect(result.ok, result.report).toBe(true);
}

/** float64 values in [lo, hi), requiring grad. */
function f64(next: () => number, shape: number[], lo = -1, hi = 1): Tensor {
  const n = shape.reduce((p, d) => p * d, 1);
  return tensor(Float64Array.from({ length: n }, () => lo + (hi - lo) * next()), { shape, requiresGrad: true });
}

/** float64 values at least 0.05 apart (a shuffled ramp), so no max has a tie a finite difference could flip. */
function f64Distinct(next: () => number, shape: number[]): Tensor {
  const n = shape.reduce((p, d) => p * d, 1);
  const values = Array.from({ length: n }, (_, i) => (i - n / 2) * 0.05);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [values[i], values[j]] = [values[j]!, values[i]!];
  }
  return tensor(Float64Array.from(values), { shape, requiresGrad: true });
}

describe('conv2d gradients', () => {
  // Finite differences over every element of several convolutions: seconds on a loaded 2-core CI machine.
  it('with respect to input, weight and bias: plain, strided with padding, dilated, grouped', () => {
    withSeed('conv2d gradcheck', (next) => {
      check((x, w, b) => nn.conv2d(x, w, b), [f64(next, [2, 2, 5, 5]), f64(next, [3, 2, 3, 3]), f64(next, [3])]);
      check((x, w, b) => nn.conv2d(x, w, b, { stride: 2, padding: 1 }), [f64(next, [2, 2, 6, 5]), f64(next, [3, 2, 3, 2]), f64(next, [3])]);
      check((x, w, b) => nn.conv2d(x, w, b, { stride: [1, 2], padding: [2, 1], dilation: [2, 1] }), [f64(next, [1, 3, 6, 6]), f64(next, [2, 3, 2, 3]), f64(next, [2])]);
      check((x, w) => nn.conv2d(x, w, null, { groups: 2, padding: 1 }), [f64(next, [2, 4, 4, 4]), f64(next, [4, 2, 3, 3])]);
    });
  }, 60_000);
});

describe('pooling gradients', () => {
  it('maxPool2d on inputs without ties: tiling windows, overlapping windows, padding, dilation', () => {
    withSeed('maxPool2d gradcheck', (next) => {
      check((x) => nn.maxPool2d(x, 2), [f64Distinct(next, [2, 2, 6, 7])]);
      check((x) => nn.maxPool2d(x, 3, { stride: 2, padding: 1 }), [f64Distinct(next, [2, 2, 7, 6])]);
      check((x) => nn.maxPool2d(x, [2, 3], { stride: 1, dilation: [2, 1] }), [f64Distinct(next, [1, 3, 6, 6])]);
    });
  });

  it('avgPool2d with and without padding in the divisor', () => {
    withSeed('avgPool2d gradcheck', (next) => {
      check((x) => nn.avgPool2d(x, 2), [f64(next, [2, 2, 5, 6])]);
      check((x) => nn.avgPool2d(x, 3, { stride: 2, padding: 1 }), [f64(next, [2, 2, 7, 6])]);
      check((x) => nn.avgPool2d(x, [3, 2], { stride: [1, 2], padding: [1, 1], countIncludePad: false }), [f64(next, [1, 2, 5, 5])]);
    });
  });
});

describe('normalization gradients', () => {
  it('batchNorm in training mode, [N, C] and [N, C, L], with running statistics being updated', () => {
    withSeed('batchNorm train gradcheck', (next) => {
      const rm = zeros([3], { dtype: 'float64' }), rv = ones([3], { dtype: 'float64' });
      check((x, w, b) => nn.batchNorm(x, rm, rv, w, b, true), [f64(next, [5, 3], -2, 2), f64(next, [3]), f64(next, [3])]);
      check((x, w, b) => nn.batchNorm(x, null, null, w, b, true, 0.1, 1e-3), [f64(next, [4, 3, 5], -2, 2), f64(next, [3]), f64(next, [3])]);
      check((x) => nn.batchNorm(x, null, null, null, null, true), [f64(next, [2, 2, 3, 3], -2, 2)]);
    });
  });

  it('batchNorm in eval mode uses the running statistics as constants', () => {
    withSeed('batchNorm eval gradcheck', (next) => {
      const rm = tensor([0.5, -0.25, 0.1], { dtype: 'float64' }), rv = tensor([2, 0.5, 1.5], { dtype: 'float64' });
      check((x, w, b) => nn.batchNorm(x, rm, rv, w, b, false), [f64(next, [4, 3, 2], -2, 2), f64(next, [3]), f64(next, [3])]);
    });
  });

  it('layerNorm over one and two trailing dims, with affine parameters', () => {
    withSeed('layerNorm gradcheck', (next) => {
      check((x, w, b) => nn.layerNorm(x, [5], w, b), [f64(next, [3, 5], -2, 2), f64(next, [5]), f64(next, [5])]);
      check((x, w, b) => nn.layerNorm(x, [3, 4], w, b, 1e-3), [f64(next, [2, 3, 4], -2, 2), f64(next, [3, 4]), f64(next, [3, 4])]);
    });
  });
});
