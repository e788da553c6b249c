/** SGD against PyTorch's update, written out in float64, over five steps of fixed gradients. */
import { describe, expect, it } from 'vitest';
import { ValueError, optim, tensor, type Tensor } from '../../../src/index.js';
import { expectAllClose } from '../../helpers.js';
import { fixedProblem, sgdReference, type SgdSettings } from './reference.js';

const close = { rtol: 1e-13, atol: 1e-15, dtype: 'float64' as const };

function param(values: readonly number[]): Tensor {
  return tensor(Float64Array.from(values), { shape: [2, 3], requiresGrad: true });
}

/** Runs `opt` for every fixed gradient, checking `p` against the reference after each step. */
function runAgainst(p: Tensor, opt: optim.Optimizer<{ lr: number }>, grads: readonly number[][], expected: readonly number[][]): void {
  grads.forEach((g, k) => {
    p.grad = tensor(Float64Array.from(g), { shape: [2, 3] });
    opt.step();
    try {
      expectAllClose(p, expected[k]!, { ...close, shape: [2, 3] });
    } catch (e) {
      if (e instanceof Error) e.message = `after step ${k + 1}: ${e.message}`;
      throw e;
    }
  });
}

const configs: [string, SgdSettings][] = [
  ['plain', { lr: 0.1 }],
  ['momentum', { lr: 0.1, momentum: 0.9 }],
  ['momentum with dampening', { lr: 0.05, momentum: 0.8, dampening: 0.3 }],
  ['Nesterov', { lr: 0.1, momentum: 0.9, nesterov: true }],
  ['weight decay', { lr: 0.1, weightDecay: 0.05 }],
  ['weight decay with momentum', { lr: 0.1, momentum: 0.7, weightDecay: 0.05 }],
  ['weight decay with Nesterov', { lr: 0.3, momentum: 0.5, nesterov: true, weightDecay: 0.2 }],
];

describe('SGD', () => {
  it.each(configs)('%s: five steps match the float64 reference', (_name, settings) => {
    const { p0, grads } = fixedProblem(600);
    const p = param(p0);
    runAgainst(p, new optim.SGD([p], settings), grads, sgdReference(p0, grads, settings));
  });

  it('the momentum buffer starts as a copy of the first gradient: step one equals plain SGD', () => {
    const { p0, grads } = fixedProblem(601);
    const plain = sgdReference(p0, grads, { lr: 0.1 });
    const damped = sgdReference(p0, grads, { lr: 0.1, momentum: 0.9, dampening: 0.5 });
    expect(damped[0]).toEqual(plain[0]);
    const p = param(p0);
    const opt = new optim.SGD([p], { lr: 0.1, momentum: 0.9, dampening: 0.5 });
    p.grad = tensor(Float64Array.from(grads[0]!), { shape: [2, 3] });
    opt.step();
    expectAllClose(p, plain[0]!, { ...close, shape: [2, 3] });
    // The buffer is a copy, not the gradient itself: changing the gradient leaves it alone.
    const buf = opt.state.get(p)!.momentumBuffer as Tensor;
    expect(buf).not.toBe(p.grad);
    p.grad.zero_();
    expectAllClose(buf, grads[0]!, { ...close, shape: [2, 3] });
  });

  it('skips parameters without a gradient', () => {
    const a = param([1, 2, 3, 4, 5, 6]), b = param([1, 2, 3, 4, 5, 6]);
    const opt = new optim.SGD([a, b], { lr: 0.5, momentum: 0.9 });
    a.grad = tensor(Float64Array.from([1, 1, 1, 1, 1, 1]), { shape: [2, 3] });
    opt.step();
    expectAllClose(a, [[0.5, 1.5, 2.5], [3.5, 4.5, 5.5]], close);
    expectAllClose(b, [[1, 2, 3], [4, 5, 6]], close);
    expect(opt.state.has(b)).toBe(false);
  });

  it('keeps float32 parameters float32', () => {
    const p = tensor([1, 2], { requiresGrad: true });
    p.grad = tensor([0.5, 0.25]);
    new optim.SGD([p], { lr: 0.1, momentum: 0.9, weightDecay: 0.01 }).step();
    expect(p.dtype).toBe('float32');
    expectAllClose(p, [1 - 0.1 * (0.5 + 0.01), 2 - 0.1 * (0.25 + 0.02)], { rtol: 1e-6 });
  });

  it('rejects bad hyper-parameters, naming them', () => {
    const p = () => [param([1, 2, 3, 4, 5, 6])];
    expect(() => new optim.SGD(p(), { lr: -0.1 })).toThrow(ValueError);
    expect(() => new optim.SGD(p(), { lr: -0.1 })).toThrow(/lr must be a non-negative number \(got -0.1\)/);
    expect(() => new optim.SGD(p(), { lr: Number.NaN })).toThrow(/lr/);
    expect(() => new optim.SGD(p(), { lr: 0.1, momentum: -0.5 })).toThrow(/momentum must be non-negative/);
    expect(() => new optim.SGD(p(), { lr: 0.1, weightDecay: -1 })).toThrow(/weightDecay must be non-negative/);
    expect(() => new optim.SGD(p(), { lr: 0.1, nesterov: true })).toThrow(/Nesterov momentum needs momentum > 0 and dampening 0/);
    expect(() => new optim.SGD(p(), { lr: 0.1, nesterov: true, momentum: 0.9, dampening: 0.1 })).toThrow(/Nesterov/);
    expect(() => new optim.SGD([{ params: p() }, { params: p(), lr: -1 }], { lr: 0.1 })).toThrow(/lr must be a non-negative/);
  });
});
