/**
 * End to end: Linear → crossEntropy → backward → SGD step, against the same step derived by
 * hand in float64 (softmax, dL/dlogits = (p - onehot)/N, dW = dlogitsᵀ·x, db = Σ dlogits).
 */
import { describe, expect, it } from 'vitest';
import { nn, optim, tensor } from '../../../src/index.js';
import { expectAllClose, rng, uniform } from '../../helpers.js';

const N = 5, D = 4, C = 3;
const lr = 0.3;

function matrix(next: () => number, rows: number, cols: number): number[][] {
  return Array.from({ length: rows }, () => uniform(next, cols, -1, 1));
}

describe('a Linear + crossEntropy SGD step', () => {
  const next = rng(500);
  const W = matrix(next, C, D);
  const b = uniform(next, C, -0.5, 0.5);
  const x = matrix(next, N, D);
  const y = [2, 0, 1, 2, 2];

  /** The step by hand: forward, softmax, the closed-form gradient, the update. */
  function byHand(smoothing: number): { loss: number; W: number[][]; b: number[] } {
    const dlogits: number[][] = [];
    let loss = 0;
    for (let n = 0; n < N; n++) {
      const z = W.map((row, c) => row.reduce((s, w, d) => s + w * x[n]![d]!, b[c]!));
      const m = Math.max(...z);
      const e = z.map((v) => Math.exp(v - m));
      const total = e.reduce((s, v) => s + v, 0);
      const p = e.map((v) => v / total);
      // The smoothed target: (1 - ε)·onehot + ε/C; with ε = 0 the plain one-hot.
      const q = p.map((_, c) => (c === y[n] ? 1 - smoothing : 0) + smoothing / C);
      loss -= q.reduce((s, qc, c) => s + qc * Math.log(p[c]!), 0) / N;
      dlogits.push(p.map((pc, c) => (pc - q[c]!) / N));
    }
    const dW = W.map((row, c) => row.map((_, d) => dlogits.reduce((s, g, n) => s + g[c]! * x[n]![d]!, 0)));
    const db = b.map((_, c) => dlogits.reduce((s, g) => s + g[c]!, 0));
    return {
      loss,
      W: W.map((row, c) => row.map((w, d) => w - lr * dW[c]![d]!)),
      b: b.map((v, c) => v - lr * db[c]!),
    };
  }

  function model(): nn.Linear {
    const layer = new nn.Linear(D, C);
    layer.weight = nn.parameter(tensor(W, { dtype: 'float64' }));
    layer.bias = nn.parameter(tensor(b, { dtype: 'float64' }));
    return layer;
  }

  it.each([0, 0.1])('label smoothing %s: same loss and same parameters after one step', (smoothing) => {
    const layer = model();
    const opt = new optim.SGD(layer.parameters(), { lr });
    expect(layer.parameters()).toEqual([layer.weight, layer.bias]);
    const loss = nn.crossEntropy(layer.forward(tensor(x, { dtype: 'float64' })), tensor(y, { dtype: 'int32' }), { labelSmoothing: smoothing });
    opt.zeroGrad();
    loss.backward();
    opt.step();
    const expected = byHand(smoothing);
    expect(loss.item()).toBeCloseTo(expected.loss, 13);
    expectAllClose(layer.weight, expected.W, { rtol: 1e-13, atol: 1e-15, dtype: 'float64' });
    expectAllClose(layer.bias!, expected.b, { rtol: 1e-13, atol: 1e-15, dtype: 'float64' });
    // The update ran without recording: parameters are still leaves.
    expect(layer.weight.isLeaf && layer.bias!.isLeaf).toBe(true);
  });
});
