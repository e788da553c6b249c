/**
 * Gradients through in-place ops: a broadcast copy_ sums back to its source's shape, an
 * overwrite with a constant (fill_, zero_, copy_ of a number) cuts the old history, and an
 * update whose only tracked operand is the other one (a.mul_(b)) saves nothing it overwrites,
 * and indexPut_ routes gradients to the values and to the old entries it keeps.
 * Eager and jit'd backward must agree bit for bit.
 */
import { describe, expect, it } from 'vitest';
import { Tensor, grad, jit, tensor, zeros } from '../../../src/index.js';
import { expectAllClose } from '../../helpers.js';
import { expectSameTensor } from '../jit/compare.js';

describe('copy_ from a broadcast source', () => {
  it('gives the source a gradient of its own shape, summed over the broadcast', () => {
    const s1 = tensor([2], { requiresGrad: true });
    const u = zeros([3]);
    u.copy_(s1);
    u.mul(tensor([1, 2, 3])).sum().backward();
    expectAllClose(s1.grad!, [6], { rtol: 0, atol: 0 });
  });

  it('a row broadcast into a matrix sums over the rows', () => {
    const g = grad((row: Tensor) => { const m = zeros([4, 3]); m.copy_(row); return m.mul(m).sum(); })(tensor([[1, -2, 0.5]]));
    expect(g.shape).toEqual([1, 3]);
    expectAllClose(g, [[8, -16, 4]], { rtol: 0, atol: 0 });
  });
});

describe('overwriting with a constant cuts the old history', () => {
  const overwrites: [string, (c: Tensor) => void][] = [
    ['fill_', (c) => { c.fill_(0.1); }],
    ['zero_', (c) => { c.zero_(); }],
    ['copy_ of a number', (c) => { c.copy_(3); }],
    ['copy_ of a constant tensor', (c) => { c.copy_(tensor([1, 2, 3])); }],
  ];
  for (const [name, overwrite] of overwrites) {
    it(`${name}: the gradient of what was overwritten is 0`, () => {
      const g = grad((x: Tensor) => { const c = x.mul(2); overwrite(c); return c.sum(); })(tensor([1, 2, 3]));
      expectAllClose(g, [0, 0, 0], { rtol: 0, atol: 0 });
    });
  }
});

describe('an in-place update whose other operand requires grad', () => {
  it('a.mul_(b) and a.div_(b) give b its gradient (kiln no longer saves the overwritten a)', () => {
    const b = tensor([2, 4], { requiresGrad: true });
    const a = tensor([1, 2]);
    a.mul_(b);
    a.sum().backward();
    expectAllClose(b.grad!, [1, 2], { rtol: 0, atol: 0 });
    const b2 = tensor([2, 4], { requiresGrad: true });
    const a2 = tensor([1, 2]);
    a2.div_(b2);
    a2.sum().backward();
    expectAllClose(b2.grad!, [-0.25, -0.125], { rtol: 0, atol: 0 });
  });

  it('the same steps under jit give the same gradients, bit for bit', () => {
    const body = (a: Tensor, b: Tensor) => grad((y: Tensor) => {
      const t = a.clone();
      t.mul_(y);
      t.div_(y.add(1));
      const u = zeros([3]);
      u.copy_(y.narrow(0, 0, 1));
      return t.sum().add(u.sum());
    })(b);
    const f = jit(body);
    for (let call = 1; call <= 5; call++) {
      const a = tensor([1, -2, 3].map((v) => v * call)), b = tensor([0.5, 1.5, -3].map((v) => v + call));
      expectSameTensor(f(a, b), body(a, b), `call ${call}`);
    }
    expect(f.stats.replays).toBeGreaterThan(0);
  });
});

describe('indexPut_', () => {
  const w = tensor([[1, 2], [3, 4], [5, 6]]);
  const rows = tensor([2, 0, 2], { dtype: 'int32' });

  it('overwritten rows give the old values no gradient, and the values the sum over their rows', () => {
    const x = tensor([[1, 2], [3, 4], [5, 6]], { requiresGrad: true }), y = tensor([10, 20], { requiresGrad: true });
    x.mul(2).indexPut_([rows.narrow(0, 0, 2)], y).mul(w).sum().backward();
    expectAllClose(x.grad!, [[0, 0], [6, 8], [0, 0]], { rtol: 0, atol: 0 });
    expectAllClose(y.grad!, [6, 8], { rtol: 0, atol: 0 });
  });

  it('accumulating keeps every old value\'s gradient and counts a repeated row twice', () => {
    const x = tensor([[1, 2], [3, 4], [5, 6]], { requiresGrad: true }), y = tensor([10, 20], { requiresGrad: true });
    x.mul(2).indexPut_([rows], y, true).mul(w).sum().backward();
    expectAllClose(x.grad!, [[2, 4], [6, 8], [10, 12]], { rtol: 0, atol: 0 });
    expectAllClose(y.grad!, [11, 14], { rtol: 0, atol: 0 });
  });

  it('values that require grad written into an untracked tensor get their gradient', () => {
    const y = tensor([10, 20], { requiresGrad: true });
    zeros([3, 2]).indexPut_([rows.narrow(0, 0, 2)], y).mul(w).sum().backward();
    expectAllClose(y.grad!, [6, 8], { rtol: 0, atol: 0 });
  });
});
