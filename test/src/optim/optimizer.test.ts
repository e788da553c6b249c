/** The optimizer base: zeroGrad, parameter groups, hyper-parameters, state dicts, argument checks. */
import { describe, expect, it } from 'vitest';
import { ValueError, optim, tensor, type Tensor } from '../../../src/index.js';
import { expectAllClose } from '../../helpers.js';
import { fixedProblem, sgdReference } from './reference.js';

const exact = { rtol: 0, atol: 0 };

function param(values: readonly number[]): Tensor {
  return tensor(Float64Array.from(values), { requiresGrad: true });
}

function setGrad(p: Tensor, g: readonly number[]): void {
  p.grad = tensor(Float64Array.from(g));
}

describe('zeroGrad', () => {
  it('drops the gradients by default (setToNone = true)', () => {
    const p = param([1, 2]);
    setGrad(p, [3, 4]);
    const opt = new optim.SGD([p], { lr: 0.1 });
    opt.zeroGrad();
    expect(p.grad).toBeNull();
    // A step with no gradient leaves the parameter alone.
    opt.step();
    expectAllClose(p, [1, 2], exact);
  });

  it('with setToNone = false fills the same gradient tensor with zeros', () => {
    const p = param([1, 2]), q = param([5]);
    setGrad(p, [3, 4]);
    const g = p.grad!;
    const opt = new optim.SGD([p, q], { lr: 0.1 });
    opt.zeroGrad(false);
    expect(p.grad).toBe(g);
    expectAllClose(g, [0, 0], exact);
    expect(q.grad).toBeNull();
  });

  it('lets backward accumulate afresh after zeroing', () => {
    const p = param([1, 2]);
    const opt = new optim.SGD([p], { lr: 0.1 });
    p.mul(p).sum().backward();
    opt.zeroGrad(false);
    p.mul(3).sum().backward();
    expectAllClose(p.grad!, [3, 3], exact);
  });
});

describe('parameter groups', () => {
  it('each group uses its own lr, others fall back to the defaults', () => {
    const a = param([1, 1]), b = param([1, 1]), c = param([1, 1]);
    const opt = new optim.SGD([{ params: [a], lr: 0.5 }, { params: [b, c], momentum: 0.9 }], { lr: 0.1 });
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.5, 0.1]);
    expect(opt.paramGroups.map((g) => g.momentum)).toEqual([0, 0.9]);
    for (const p of [a, b, c]) setGrad(p, [1, -2]);
    opt.step();
    expectAllClose(a, [0.5, 2], exact);
    expectAllClose(b, [0.9, 1.2], { rtol: 1e-15 });
    expectAllClose(c, [0.9, 1.2], { rtol: 1e-15 });
  });

  it('hyper-parameters read back exactly what was written, and a change applies to the next step', () => {
    const p = param([1]);
    const opt = new optim.SGD([p], { lr: 0.3 });
    expect(opt.paramGroups[0]!.lr).toBe(0.3);
    opt.paramGroups[0]!.lr = 0.1;
    expect(opt.paramGroups[0]!.lr).toBe(0.1);
    setGrad(p, [1]);
    opt.step();
    expectAllClose(p, [0.9], exact);
    expect(() => { (opt.paramGroups[0] as unknown as { lr: unknown }).lr = '0.1'; }).toThrow(ValueError);
  });

  it('rejects empty lists, non-leaves, tensors without grad, and a parameter in two groups', () => {
    const p = param([1]);
    expect(() => new optim.SGD([], { lr: 0.1 })).toThrow(/non-empty list/);
    expect(() => new optim.SGD([p.mul(2)], { lr: 0.1 })).toThrow(/leaf tensors that require grad/);
    expect(() => new optim.SGD([tensor([1])], { lr: 0.1 })).toThrow(ValueError);
    expect(() => new optim.Adam([{ params: [p] }, { params: [p] }])).toThrow(/more than one group/);
  });
});

describe('stateDict and loadStateDict', () => {
  /** Steps `from`..`to` of the fixed gradients (one list per parameter) through `opt`. */
  function run(opt: optim.Optimizer<{ lr: number }>, ps: Tensor[], grads: readonly number[][][], from: number, to: number): void {
    for (let k = from; k < to; k++) {
      ps.forEach((p, i) => setGrad(p, grads[i]![k]!));
      opt.step();
    }
  }

  const problems = [fixedProblem(800, 4), fixedProblem(801, 3)];
  const grads = problems.map((q) => q.grads);

  const makers: [string, (ps: Tensor[], lr: number) => optim.Optimizer<{ lr: number }>][] = [
    ['SGD with Nesterov momentum', (ps, lr) => new optim.SGD([{ params: [ps[0]!] }, { params: [ps[1]!], lr: lr / 2 }], { lr, momentum: 0.9, nesterov: true })],
    ['Adam with AMSGrad', (ps, lr) => new optim.Adam([{ params: [ps[0]!] }, { params: [ps[1]!], lr: lr / 2 }], { lr, amsgrad: true, weightDecay: 0.1 })],
    ['AdamW', (ps, lr) => new optim.AdamW([{ params: [ps[0]!] }, { params: [ps[1]!], lr: lr / 2 }], { lr, betas: [0.8, 0.9] })],
  ];

  it.each(makers)('%s: save after 3 steps, load into a fresh optimizer, 2 more steps equal 5 uninterrupted', (_name, make) => {
    const straight = problems.map((q) => param(q.p0));
    run(make(straight, 0.05), straight, grads, 0, 5);

    const first = problems.map((q) => param(q.p0));
    const optA = make(first, 0.05);
    run(optA, first, grads, 0, 3);
    const saved = optA.stateDict();
    const resumed = first.map((p) => param(Array.from(p.data() as Float64Array)));
    // Keep training the original afterwards: the saved dict must be a snapshot of step 3.
    run(optA, first, grads, 3, 5);
    // A different lr in the fresh optimizer: loading must restore the saved hyper-parameters.
    const optB = make(resumed, 1.0);
    optB.loadStateDict(saved);
    expect(optB.paramGroups.map((g) => g.lr)).toEqual([0.05, 0.025]);
    run(optB, resumed, grads, 3, 5);
    resumed.forEach((p, i) => expectAllClose(p, straight[i]!, exact));
    first.forEach((p, i) => expectAllClose(p, straight[i]!, exact));
  });

  it('refers to parameters by index, with the groups\' hyper-parameters', () => {
    const a = param([1, 2]), b = param([3]);
    const opt = new optim.SGD([{ params: [a] }, { params: [b], lr: 0.2 }], { lr: 0.1, momentum: 0.5 });
    setGrad(a, [1, 1]);
    opt.step();
    const saved = opt.stateDict();
    expect(saved.paramGroups.map((g) => g.params)).toEqual([[0], [1]]);
    expect(saved.paramGroups.map((g) => [g.lr, g.momentum])).toEqual([[0.1, 0.5], [0.2, 0.5]]);
    // Only a has state: b never had a gradient.
    expect(Object.keys(saved.state)).toEqual(['0']);
    expectAllClose(saved.state[0]!.momentumBuffer as Tensor, [1, 1], exact);
  });

  it('rejects a state dict whose groups do not match', () => {
    const a = param([1]), b = param([2]);
    const saved = new optim.SGD([a, b], { lr: 0.1 }).stateDict();
    expect(() => new optim.SGD([param([1])], { lr: 0.1 }).loadStateDict(saved)).toThrow(/do not match/);
    expect(() => new optim.SGD([{ params: [a] }, { params: [b] }], { lr: 0.1 }).loadStateDict(saved)).toThrow(ValueError);
  });
});

describe('a step runs without recording', () => {
  it('parameters stay leaves, and the reference trajectory holds', () => {
    const { p0, grads } = fixedProblem(802);
    const p = param(p0);
    const opt = new optim.SGD([p], { lr: 0.1, momentum: 0.9 });
    const expected = sgdReference(p0, grads, { lr: 0.1, momentum: 0.9 });
    grads.forEach((g, k) => {
      setGrad(p, g);
      opt.step();
      expect(p.isLeaf).toBe(true);
      expect(p.gradFn).toBeNull();
      expectAllClose(p, expected[k]!, { rtol: 1e-13, atol: 1e-15 });
    });
  });
});
