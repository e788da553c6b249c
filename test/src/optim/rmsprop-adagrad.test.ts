/** RMSprop and Adagrad against PyTorch's updates written out in float64 on plain arrays, over five steps of fixed gradients. */
import { describe, expect, it } from 'vitest';
import { ValueError, jit, optim, tensor, type Tensor } from '../../../src/index.js';
import { expectAllClose } from '../../helpers.js';
import { expectSameTensor } from '../jit/compare.js';
import { fixedProblem } from './reference.js';

const close = { rtol: 1e-13, atol: 1e-15, dtype: 'float64' as const, shape: [2, 3] };

function param(values: readonly number[], dtype: 'float32' | 'float64' = 'float64'): Tensor {
  return tensor(values.slice(), { shape: [2, 3], requiresGrad: true, dtype });
}

function run(opt: optim.Optimizer<{ lr: number }>, p: Tensor, grads: readonly number[][]): number[][] {
  return grads.map((g) => {
    p.grad = tensor(g.slice(), { shape: [2, 3], dtype: p.dtype });
    opt.step();
    return Array.from(p.data(), Number);
  });
}

interface RmsSettings { lr: number; alpha: number; eps: number; weightDecay: number; momentum: number; centered: boolean }

/** torch.optim.RMSprop's single-tensor update. */
function rmspropReference(p0: readonly number[], grads: readonly number[][], s: RmsSettings): number[][] {
  let p = p0.slice();
  const sq = p.map(() => 0), avg = p.map(() => 0), buf = p.map(() => 0);
  return grads.map((g0) => {
    const g = g0.map((gi, i) => gi + s.weightDecay * p[i]!);
    g.forEach((gi, i) => { sq[i] = s.alpha * sq[i]! + (1 - s.alpha) * gi * gi; });
    if (s.centered) g.forEach((gi, i) => { avg[i] = s.alpha * avg[i]! + (1 - s.alpha) * gi; });
    const denom = sq.map((v, i) => Math.sqrt(s.centered ? v - avg[i]! * avg[i]! : v) + s.eps);
    if (s.momentum > 0) {
      g.forEach((gi, i) => { buf[i] = s.momentum * buf[i]! + gi / denom[i]!; });
      p = p.map((pi, i) => pi - s.lr * buf[i]!);
    } else {
      p = p.map((pi, i) => pi - (s.lr * g[i]!) / denom[i]!);
    }
    return p.slice();
  });
}

interface AdagradSettings { lr: number; lrDecay: number; weightDecay: number; initialAccumulatorValue: number; eps: number }

/** torch.optim.Adagrad's single-tensor update. */
function adagradReference(p0: readonly number[], grads: readonly number[][], s: AdagradSettings): number[][] {
  let p = p0.slice();
  const sum = p.map(() => s.initialAccumulatorValue);
  return grads.map((g0, t) => {
    const g = g0.map((gi, i) => gi + s.weightDecay * p[i]!);
    const clr = s.lr / (1 + t * s.lrDecay);
    g.forEach((gi, i) => { sum[i]! += gi * gi; });
    p = p.map((pi, i) => pi - (clr * g[i]!) / (Math.sqrt(sum[i]!) + s.eps));
    return p.slice();
  });
}

describe('RMSprop', () => {
  const base: RmsSettings = { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false };
  it.each<[string, Partial<RmsSettings>]>([
    ['defaults', {}],
    ['momentum and weight decay', { lr: 0.05, momentum: 0.9, weightDecay: 0.1 }],
    ['centered with momentum', { lr: 0.03, alpha: 0.9, centered: true, momentum: 0.5 }],
  ])('%s', (_, options) => {
    const { p0, grads } = fixedProblem(31);
    const p = param(p0);
    const got = run(new optim.RMSprop([p], options), p, grads);
    const want = rmspropReference(p0, grads, { ...base, ...options });
    got.forEach((row, t) => expectAllClose(tensor(row, { dtype: 'float64', shape: [2, 3] }), want[t]!, close));
  });
  it('rejects a negative alpha', () => {
    expect(() => new optim.RMSprop([param([0, 0, 0, 0, 0, 0])], { alpha: -1 })).toThrow(ValueError);
  });
});

describe('Adagrad', () => {
  const base: AdagradSettings = { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10 };
  it.each<[string, Partial<AdagradSettings>]>([
    ['defaults', {}],
    ['lr decay, weight decay and an initial accumulator', { lr: 0.1, lrDecay: 0.3, weightDecay: 0.05, initialAccumulatorValue: 0.2 }],
  ])('%s', (_, options) => {
    const { p0, grads } = fixedProblem(32);
    const p = param(p0);
    const got = run(new optim.Adagrad([p], options), p, grads);
    const want = adagradReference(p0, grads, { ...base, ...options });
    got.forEach((row, t) => expectAllClose(tensor(row, { dtype: 'float64', shape: [2, 3] }), want[t]!, close));
  });
});

describe('under jit', () => {
  it.each(['RMSprop', 'Adagrad'] as const)('%s steps equal eager steps bit for bit', (name) => {
    const { p0, grads } = fixedProblem(33);
    const make = (p: Tensor) => (name === 'RMSprop' ? new optim.RMSprop([p], { momentum: 0.9, centered: true }) : new optim.Adagrad([p], { lrDecay: 0.1 }));
    const pe = param(p0, 'float32'), pj = param(p0, 'float32');
    const oe = make(pe), oj = make(pj);
    const step = jit((g: Tensor) => { pj.grad = g; oj.step(); });
    for (const g of grads) {
      pe.grad = tensor(g.slice(), { shape: [2, 3] });
      oe.step();
      step(tensor(g.slice(), { shape: [2, 3] }));
      expectSameTensor(pj.detach(), pe.detach());
    }
  });
});
