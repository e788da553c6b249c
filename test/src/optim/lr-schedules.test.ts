/**
 * Learning-rate schedules epoch by epoch against their closed forms (PyTorch's
 * `_get_closed_form_lr`), across groups with different initial lrs, and their effect on steps.
 */
import { describe, expect, it } from 'vitest';
import { ValueError, optim, tensor } from '../../../src/index.js';
import { expectAllClose } from '../../helpers.js';

const bases = [0.1, 0.03];

function optimizer(): optim.SGD {
  const p = () => tensor([1], { dtype: 'float64', requiresGrad: true });
  return new optim.SGD([{ params: [p()], lr: bases[0]! }, { params: [p()], lr: bases[1]! }], { lr: 1 });
}

/** Each epoch's lrs from `getLastLr()`, before stepping, for `epochs` epochs. */
function trace(schedule: optim.LRScheduler, epochs: number): number[][] {
  const out: number[][] = [];
  for (let e = 0; e < epochs; e++) {
    out.push(schedule.getLastLr());
    schedule.step();
  }
  return out;
}

function expectLrs(got: number[][], closedForm: (base: number, epoch: number) => number): void {
  got.forEach((lrs, e) => {
    expect(lrs).toHaveLength(bases.length);
    lrs.forEach((lr, i) => {
      const want = closedForm(bases[i]!, e);
      expect(Math.abs(lr - want), `epoch ${e}, group ${i}: got ${lr}, expected ${want}`).toBeLessThanOrEqual(1e-15 + 1e-13 * Math.abs(want));
    });
  });
}

describe('StepLR', () => {
  it('multiplies by gamma every stepSize epochs: lr = base·γ^⌊e/s⌋', () => {
    const opt = optimizer();
    const lrs = trace(new optim.StepLR(opt, 3, 0.5), 11);
    expectLrs(lrs, (base, e) => base * [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125, 0.125][e]!);
    // The optimizer's groups carry the schedule's lr: trace stepped 11 times, so epoch 11 now.
    expect(opt.paramGroups.map((g) => g.lr)).toEqual(bases.map((b) => b * 0.125));
  });

  it('defaults to gamma 0.1', () => {
    expectLrs(trace(new optim.StepLR(optimizer(), 2), 5), (base, e) => base * [1, 1, 0.1, 0.1, 0.01][e]!);
  });
});

describe('CosineAnnealingLR', () => {
  it('follows η_min + (base - η_min)(1 + cos(πe/T))/2, reaching η_min at T and rising again after', () => {
    const T = 8, etaMin = 0.001;
    const lrs = trace(new optim.CosineAnnealingLR(optimizer(), T, etaMin), 2 * T + 1);
    expectLrs(lrs, (base, e) => etaMin + ((base - etaMin) * (1 + Math.cos((Math.PI * e) / T))) / 2);
    expect(lrs[0]).toEqual(bases);
    lrs[T]!.forEach((lr) => expect(lr).toBeCloseTo(etaMin, 15));
    expect(lrs[T + 1]![0]!).toBeGreaterThan(lrs[T]![0]!);
  });

  it('with η_min 0 the midpoint is half the base', () => {
    const lrs = trace(new optim.CosineAnnealingLR(optimizer(), 4), 3);
    expectLrs([lrs[2]!], (base) => base / 2);
  });
});

describe('LinearLR', () => {
  it('ramps the factor from start to end over totalIters epochs, then holds it', () => {
    const lrs = trace(new optim.LinearLR(optimizer(), 0.25, 1, 4), 8);
    expectLrs(lrs, (base, e) => base * [0.25, 0.4375, 0.625, 0.8125, 1, 1, 1, 1][e]!);
  });

  it('decays too (end below start), with PyTorch\'s defaults 1/3 → 1 over 5', () => {
    expectLrs(trace(new optim.LinearLR(optimizer(), 1, 0.5, 2), 4), (base, e) => base * [1, 0.75, 0.5, 0.5][e]!);
    expectLrs(trace(new optim.LinearLR(optimizer()), 7), (base, e) => base * (1 / 3 + ((2 / 3) * Math.min(e, 5)) / 5));
  });
});

describe('schedules and steps', () => {
  it('each optimizer step uses the lr of the current epoch', () => {
    const p = tensor([0], { dtype: 'float64', requiresGrad: true });
    const opt = new optim.SGD([p], { lr: 1 });
    const schedule = new optim.StepLR(opt, 1, 0.5);
    for (let e = 0; e < 4; e++) {
      p.grad = tensor([1], { dtype: 'float64' });
      opt.step();
      schedule.step();
    }
    expectAllClose(p, [-(1 + 0.5 + 0.25 + 0.125)], { rtol: 0, atol: 0 });
  });

  it('reject invalid settings, naming them', () => {
    expect(() => new optim.StepLR(optimizer(), 0)).toThrow(ValueError);
    expect(() => new optim.StepLR(optimizer(), 1.5)).toThrow(/stepSize must be a positive integer/);
    expect(() => new optim.CosineAnnealingLR(optimizer(), 0)).toThrow(/tMax must be positive/);
    expect(() => new optim.LinearLR(optimizer(), 0)).toThrow(/startFactor must be in \(0, 1\]/);
    expect(() => new optim.LinearLR(optimizer(), 0.5, 1.5)).toThrow(ValueError);
  });
});
