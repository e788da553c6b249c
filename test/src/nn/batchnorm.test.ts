/**
 * BatchNorm1d / BatchNorm2d and the functional batchNorm: batch statistics in training,
 * running statistics (unbiased variance, momentum or cumulative average) checked by hand,
 * eval mode, buffers in the state dict, and updates that leave autograd intact.
 */
import { describe, expect, it } from 'vitest';
import { ShapeError, ValueError, nn, ones, tensor, zeros, type Tensor } from '../../../src/index.js';
import { expectAllClose } from '../../helpers.js';
import { withSeed } from '../random-inputs.js';

/** Per-channel mean and biased / unbiased variance of x [N, C, L] (L = 1 for [N, C]) as plain numbers. */
function channelStats(values: number[], n: number, c: number, l: number): { mean: number[]; biased: number[]; unbiased: number[] } {
  const mean: number[] = [], biased: number[] = [], unbiased: number[] = [];
  for (let ch = 0; ch < c; ch++) {
    const xs: number[] = [];
    for (let b = 0; b < n; b++) for (let i = 0; i < l; i++) xs.push(values[(b * c + ch) * l + i]!);
    const m = xs.reduce((a, v) => a + v, 0) / xs.length;
    const ss = xs.reduce((a, v) => a + (v - m) ** 2, 0);
    mean.push(m);
    biased.push(ss / xs.length);
    unbiased.push(ss / (xs.length - 1));
  }
  return { mean, biased, unbiased };
}

function normalizeRef(values: number[], c: number, l: number, mean: number[], variance: number[], w: number[], b: number[], eps: number): number[] {
  return values.map((v, i) => {
    const ch = Math.floor(i / l) % c;
    return ((v - mean[ch]!) / Math.sqrt(variance[ch]! + eps)) * w[ch]! + b[ch]!;
  });
}

function randomValues(next: () => number, count: number, scale = 3, shift = 1): number[] {
  return Array.from({ length: count }, () => shift + scale * (2 * next() - 1));
}

describe('BatchNorm1d', () => {
  it('normalizes [N, C] with biased batch variance in training and tracks running statistics with unbiased variance', () => {
    withSeed('BatchNorm1d [N, C]', (next) => {
      const [n, c] = [6, 3];
      const bn = new nn.BatchNorm1d(c);
      // Non-trivial affine parameters, so their use is checked too.
      const w = [1.5, -0.5, 2], b = [0.1, 0.2, -0.3];
      bn.loadStateDict({ weight: tensor(w), bias: tensor(b) }, false);
      let rm = [0, 0, 0], rv = [1, 1, 1];
      for (let step = 0; step < 3; step++) {
        const values = randomValues(next, n * c);
        const y = bn.forward(tensor(values, { dtype: 'float32' }).reshape([n, c]));
        const s = channelStats(values.map(Math.fround), n, c, 1);
        expectAllClose(y, normalizeRef(values.map(Math.fround), c, 1, s.mean, s.biased, w, b, 1e-5), { shape: [n, c], rtol: 1e-4, atol: 1e-5 });
        rm = rm.map((v, i) => 0.9 * v + 0.1 * s.mean[i]!);
        rv = rv.map((v, i) => 0.9 * v + 0.1 * s.unbiased[i]!);
      }
      expectAllClose(bn.runningMean!, rm, { rtol: 1e-5, atol: 1e-6 });
      expectAllClose(bn.runningVar!, rv, { rtol: 1e-5, atol: 1e-6 });
      expect(bn.numBatchesTracked!.item()).toBe(3);
      expect(bn.numBatchesTracked!.dtype).toBe('int32');

      // Eval: the running statistics normalize, and nothing is updated.
      bn.eval();
      const values = randomValues(next, 2 * c);
      const y = bn.forward(tensor(values).reshape([2, c]));
      expectAllClose(y, normalizeRef(values.map(Math.fround), c, 1, rm, rv, w, b, 1e-5), { shape: [2, c], rtol: 1e-4, atol: 1e-5 });
      expectAllClose(bn.runningMean!, rm, { rtol: 1e-5, atol: 1e-6 });
      expect(bn.numBatchesTracked!.item()).toBe(3);
    });
  });

  it('normalizes [N, C, L] over N and L', () => {
    withSeed('BatchNorm1d [N, C, L]', (next) => {
      const [n, c, l] = [3, 2, 4];
      const bn = new nn.BatchNorm1d(c, { momentum: 0.3, eps: 1e-3 });
      const values = randomValues(next, n * c * l);
      const y = bn.forward(tensor(Float64Array.from(values), { shape: [n, c, l] }));
      const s = channelStats(values, n, c, l);
      expectAllClose(y, normalizeRef(values, c, l, s.mean, s.biased, [1, 1], [0, 0], 1e-3), { shape: [n, c, l], rtol: 1e-5, atol: 1e-6 });
      expectAllClose(bn.runningMean!, s.mean.map((m) => 0.3 * m), { rtol: 1e-5, atol: 1e-6 });
      expectAllClose(bn.runningVar!, s.unbiased.map((v) => 0.7 + 0.3 * v), { rtol: 1e-5, atol: 1e-6 });
    });
  });

  it('with momentum null keeps the plain average of all batches', () => {
    withSeed('BatchNorm1d cumulative', (next) => {
      const bn = new nn.BatchNorm1d(2, { momentum: null });
      const means: number[][] = [], vars: number[][] = [];
      for (let step = 0; step < 4; step++) {
        const values = randomValues(next, 10);
        bn.forward(tensor(Float64Array.from(values), { shape: [5, 2] }));
        const s = channelStats(values, 5, 2, 1);
        means.push(s.mean);
        vars.push(s.unbiased);
      }
      const avg = (rows: number[][]) => [0, 1].map((i) => rows.reduce((a, r) => a + r[i]!, 0) / rows.length);
      expectAllClose(bn.runningMean!, avg(means), { rtol: 1e-5, atol: 1e-6 });
      expectAllClose(bn.runningVar!, avg(vars), { rtol: 1e-5, atol: 1e-6 });
    });
  });

  it('keeps parameters then buffers in the state dict, in PyTorch order', () => {
    const bn = new nn.BatchNorm1d(4);
    expect(Object.keys(bn.stateDict())).toEqual(['weight', 'bias', 'runningMean', 'runningVar', 'numBatchesTracked']);
    expect(bn.parameters()).toEqual([bn.weight, bn.bias]);
    expect(bn.namedBuffers().map(([name]) => name)).toEqual(['runningMean', 'runningVar', 'numBatchesTracked']);
    expectAllClose(bn.runningMean!, [0, 0, 0, 0]);
    expectAllClose(bn.runningVar!, [1, 1, 1, 1]);
    expect(bn.runningMean!.requiresGrad).toBe(false);
    const seq = new nn.Sequential(new nn.Linear(3, 4), new nn.BatchNorm1d(4));
    expect(Object.keys(seq.stateDict())).toEqual(['0.weight', '0.bias', '1.weight', '1.bias', '1.runningMean', '1.runningVar', '1.numBatchesTracked']);
  });

  it('without affine has no parameters; without running statistics it has no buffers and always uses the batch', () => {
    const plain = new nn.BatchNorm1d(2, { affine: false });
    expect(plain.parameters()).toEqual([]);
    expect(plain.weight).toBeNull();
    const batchOnly = new nn.BatchNorm1d(2, { trackRunningStats: false });
    expect(Object.keys(batchOnly.stateDict())).toEqual(['weight', 'bias']);
    expect(batchOnly.runningMean).toBeNull();
    batchOnly.eval();
    const x = tensor([[1, 10], [3, 20]]);
    // Batch statistics even in eval mode: each column becomes [-1, 1] (up to eps).
    expectAllClose(batchOnly.forward(x), [[-1, -1], [1, 1]], { rtol: 1e-4, atol: 1e-4 });
  });

  it('updates running statistics without disturbing autograd or the buffers’ identity', () => {
    withSeed('BatchNorm1d autograd', (next) => {
      const bn = new nn.BatchNorm1d(3);
      const { runningMean, runningVar } = bn;
      const x1 = tensor(randomValues(next, 12)).reshape([4, 3]).requiresGrad_();
      const x2 = tensor(randomValues(next, 12)).reshape([4, 3]);
      const loss1 = bn.forward(x1).mul(tensor([1, 2, 3])).sum();
      // A second training step writes the buffers again before the first graph runs backward.
      bn.forward(x2);
      loss1.backward();
      expect(bn.runningMean).toBe(runningMean);
      expect(bn.runningVar).toBe(runningVar);
      expect(runningMean!.requiresGrad).toBe(false);
      expect(runningMean!.grad).toBeNull();
      // d/dbias of Σ y·k is Σ_n k = N·k; d/dx of a normalized, bias-free column sums to 0.
      expectAllClose(bn.bias!.grad!, [4, 8, 12], { rtol: 1e-5, atol: 1e-5 });
      expectAllClose(x1.grad!.sum(0), [0, 0, 0], { atol: 1e-5 });
      expect(bn.weight!.grad).not.toBeNull();
    });
  });

  it('rejects wrong ranks and channel counts, and single-value channels in training', () => {
    const bn = new nn.BatchNorm1d(3);
    expect(() => bn.forward(tensor([1, 2, 3]))).toThrow(ShapeError);
    expect(() => bn.forward(zeros([2, 3, 4, 5]))).toThrow(/BatchNorm1d: expects input \[N, C\] or \[N, C, L\] with C = 3 \(got \[2,3,4,5\]\)/);
    expect(() => bn.forward(zeros([2, 4]))).toThrow(/BatchNorm1d: .*C = 3 \(got \[2,4\]\)/);
    expect(() => bn.forward(zeros([1, 3]))).toThrow(/batchNorm: expected more than 1 value per channel when training \(got input \[1,3\]\)/);
    // Rejected batches leave the buffers as they were.
    expect(bn.numBatchesTracked!.item()).toBe(0);
    expectAllClose(bn.runningVar!, [1, 1, 1]);
    bn.eval();
    expect(bn.forward(zeros([1, 3])).shape).toEqual([1, 3]);
    expect(() => new nn.BatchNorm1d(0)).toThrow(ValueError);
    expect(() => new nn.BatchNorm1d(2, { momentum: 2 })).toThrow(/BatchNorm1d: momentum/);
  });
});

describe('BatchNorm2d and the functional batchNorm', () => {
  it('BatchNorm2d normalizes [N, C, H, W] per channel over N, H and W', () => {
    withSeed('BatchNorm2d', (next) => {
      const values = randomValues(next, 2 * 3 * 2 * 2);
      const bn = new nn.BatchNorm2d(3);
      const y = bn.forward(tensor(Float64Array.from(values), { shape: [2, 3, 2, 2] }));
      const s = channelStats(values, 2, 3, 4);
      expectAllClose(y, normalizeRef(values, 3, 4, s.mean, s.biased, [1, 1, 1], [0, 0, 0], 1e-5), { shape: [2, 3, 2, 2], rtol: 1e-5, atol: 1e-6 });
      expect(() => bn.forward(zeros([2, 3, 4]))).toThrow(/BatchNorm2d: expects input \[N, C, H, W\]/);
    });
  });

  it('batchNorm in eval mode needs running statistics and checks every per-channel vector', () => {
    const x = tensor([[1, 2], [3, 4]]);
    expectAllClose(nn.batchNorm(x, tensor([1, 2]), tensor([4, 1]), tensor([2, 1]), tensor([0, 1]), false, 0.1, 0), [[0, 1], [2, 3]]);
    expect(() => nn.batchNorm(x, null, null)).toThrow(/batchNorm: running statistics are needed when not training/);
    expect(() => nn.batchNorm(x, ones([3]), ones([2]))).toThrow(/batchNorm: runningMean must be \[2\] for input \[2,2\] with 2 channels \(got \[3\]\)/);
    expect(() => nn.batchNorm(x, null, null, ones([2, 1]), null, true)).toThrow(/batchNorm: weight must be \[2\]/);
    expect(() => nn.batchNorm(tensor([1, 2]), null, null, null, null, true)).toThrow(/batchNorm: expects input \[N, C, \.\.\.\]/);
    const rm: Tensor = zeros([2]);
    expect(() => nn.batchNorm(x, rm, null, null, null, true)).toThrow(/together/);
  });
});
