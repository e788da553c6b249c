/** Adam and AdamW against PyTorch's update, written out in float64, over five steps of fixed gradients. */
import { describe, expect, it } from 'vitest';
import { ValueError, optim, tensor, type Tensor } from '../../../src/index.js';
import { expectAllClose } from '../../helpers.js';
import { adamReference, fixedProblem, type AdamSettings } from './reference.js';

const close = { rtol: 1e-13, atol: 1e-15, dtype: 'float64' as const, shape: [2, 3] };

function param(values: readonly number[]): Tensor {
  return tensor(Float64Array.from(values), { shape: [2, 3], requiresGrad: true });
}

function run(opt: optim.Optimizer<{ lr: number }>, p: Tensor, grads: readonly number[][]): number[][] {
  return grads.map((g) => {
    p.grad = tensor(Float64Array.from(g), { shape: [2, 3] });
    opt.step();
    return Array.from(p.data() as Float64Array);
  });
}

type Config = [string, 'Adam' | 'AdamW', Partial<Omit<AdamSettings, 'decoupled'>>];

const configs: Config[] = [
  ['Adam, defaults', 'Adam', {}],
  ['Adam, larger lr and other betas', 'Adam', { lr: 0.05, betas: [0.8, 0.95] }],
  ['Adam, L2 weight decay', 'Adam', { lr: 0.05, weightDecay: 0.1 }],
  ['Adam, AMSGrad', 'Adam', { lr: 0.05, amsgrad: true }],
  ['Adam, AMSGrad and weight decay, large eps', 'Adam', { lr: 0.05, amsgrad: true, weightDecay: 0.1, eps: 1e-3 }],
  ['AdamW, defaults (weight decay 0.01)', 'AdamW', {}],
  ['AdamW, decoupled weight decay', 'AdamW', { lr: 0.05, weightDecay: 0.3, betas: [0.85, 0.9] }],
  ['AdamW, AMSGrad', 'AdamW', { lr: 0.05, weightDecay: 0.1, amsgrad: true }],
];

const defaults = { Adam: { weightDecay: 0 }, AdamW: { weightDecay: 0.01 } };

function settings(kind: 'Adam' | 'AdamW', options: Config[2]): AdamSettings {
  return { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, amsgrad: false, ...defaults[kind], ...options, decoupled: kind === 'AdamW' };
}

describe('Adam and AdamW', () => {
  it.each(configs)('%s: five steps match the float64 reference', (_name, kind, options) => {
    const { p0, grads } = fixedProblem(700);
    const p = param(p0);
    const opt = kind === 'Adam' ? new optim.Adam([p], options) : new optim.AdamW([p], options);
    const got = run(opt, p, grads);
    const expected = adamReference(p0, grads, settings(kind, options));
    got.forEach((values, k) => {
      try {
        expectAllClose(tensor(Float64Array.from(values), { shape: [2, 3] }), expected[k]!, close);
      } catch (e) {
        if (e instanceof Error) e.message = `after step ${k + 1}: ${e.message}`;
        throw e;
      }
    });
  });

  it('the references differ where the options should matter (the cases above are not vacuous)', () => {
    const { p0, grads } = fixedProblem(700);
    const last = (s: AdamSettings) => adamReference(p0, grads, s)[4]!;
    const base = settings('Adam', { lr: 0.05 });
    const distinct = (a: number[], b: number[]) => a.some((v, i) => Math.abs(v - b[i]!) > 1e-6);
    expect(distinct(last(base), last({ ...base, amsgrad: true }))).toBe(true);
    expect(distinct(last({ ...base, weightDecay: 0.1 }), last({ ...base, weightDecay: 0.1, decoupled: true }))).toBe(true);
  });

  it('the first step moves every coordinate by about lr (bias correction makes m̂/√v̂ = sign(g))', () => {
    const p = param([0, 0, 0, 0, 0, 0]);
    const opt = new optim.Adam([p], { lr: 0.01 });
    p.grad = tensor(Float64Array.from([3, -2, 1e-3, -1e-3, 50, -0.5]), { shape: [2, 3] });
    opt.step();
    expectAllClose(p, [[-0.01, 0.01, -0.01], [0.01, -0.01, 0.01]], { rtol: 1e-4, atol: 0 });
  });

  it('skips parameters without a gradient and keeps float32 parameters float32', () => {
    const a = tensor([1, 2], { requiresGrad: true }), b = tensor([3, 4], { requiresGrad: true });
    a.grad = tensor([0.5, -0.5]);
    new optim.AdamW([a, b], { lr: 0.1 }).step();
    expect(a.dtype).toBe('float32');
    expectAllClose(a, [1 * (1 - 0.1 * 0.01) - 0.1, 2 * (1 - 0.1 * 0.01) + 0.1], { rtol: 1e-5 });
    expectAllClose(b, [3, 4], { rtol: 0, atol: 0 });
  });

  it('rejects bad hyper-parameters, naming them', () => {
    const p = () => [param([1, 2, 3, 4, 5, 6])];
    for (const Make of [optim.Adam, optim.AdamW]) {
      expect(() => new Make(p(), { lr: -1e-3 })).toThrow(ValueError);
      expect(() => new Make(p(), { lr: -1e-3 })).toThrow(/lr must be a non-negative number/);
      expect(() => new Make(p(), { betas: [1, 0.999] })).toThrow(/betas must be in \[0, 1\) \(got \[1,0.999\]\)/);
      expect(() => new Make(p(), { betas: [0.9, -0.1] })).toThrow(/betas/);
      expect(() => new Make(p(), { betas: [0.9, Number.NaN] })).toThrow(/betas/);
      expect(() => new Make(p(), { eps: -1e-8 })).toThrow(/eps must be non-negative/);
      expect(() => new Make(p(), { weightDecay: -0.1 })).toThrow(/weightDecay must be non-negative/);
    }
  });
});
