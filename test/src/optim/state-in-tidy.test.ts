/**
 * Optimizer state made inside tidy() (moments created on the first step, or loaded from a
 * state dict) lives as long as the optimizer: the scope must not dispose it.
 */
import { describe, expect, it } from 'vitest';
import { keep, optim, tensor, tidy, type Tensor } from '../../../src/index.js';

const { Adam, SGD } = optim;

function stepInTidy(opt: InstanceType<typeof SGD> | InstanceType<typeof Adam>, p: Tensor): void {
  tidy(() => {
    p.grad = tensor([0.5, -1]);
    opt.step();
  });
}

describe('optimizer state and tidy', () => {
  it('SGD momentum made by a first step inside tidy survives the scope', () => {
    const p = tensor([1, 2]).requiresGrad_();
    const opt = new SGD([p], { lr: 0.1, momentum: 0.9 });
    stepInTidy(opt, p);
    stepInTidy(opt, p);
    // Two steps: v1 = g, v2 = 0.9·g + g; p = p0 - 0.1·(v1 + v2).
    expect(Array.from(p.data())).toEqual([1 - 0.1 * (0.5 + 0.95), 2 - 0.1 * (-1 - 1.9)].map(Math.fround));
  });

  it('Adam moments made inside tidy survive it, and so does state loaded inside tidy', () => {
    const p = tensor([1, 2]).requiresGrad_();
    const opt = new Adam([p], { lr: 0.01 });
    stepInTidy(opt, p);
    const saved = opt.stateDict();
    const q = tensor(Array.from(p.data())).requiresGrad_();
    const other = new Adam([q], { lr: 0.01 });
    tidy(() => other.loadStateDict(saved));
    stepInTidy(opt, p);
    stepInTidy(other, q);
    // The loaded moments were not disposed by the scope, so the second steps agree bit for bit.
    expect(Array.from(q.data())).toEqual(Array.from(p.data()));
  });

  it('keep() takes a tensor out of every open scope', () => {
    let kept!: Tensor;
    let dropped!: Tensor;
    tidy(() => {
      tidy(() => {
        kept = keep(tensor([3]));
        dropped = tensor([4]);
      });
    });
    expect(kept.isDisposed).toBe(false);
    expect(dropped.isDisposed).toBe(true);
  });
});
