/**
 * In-place writes under jit: a tensor written in place and then returned or read, and
 * aliases (views, detach) taken before the write, replay exactly what eager computes.
 */
import { describe, expect, it } from 'vitest';
import { Tensor, grad, jit } from '../../../src/index.js';
import { withSeed } from '../random-inputs.js';
import { expectSameTree, randTensor } from './compare.js';

const CALLS = 6;

/** Calls `body` under jit and eagerly on the same fresh inputs, CALLS times, comparing bit for bit. */
function expectJitEqualsEager(label: string, body: (...args: Tensor[]) => unknown, shapes: number[][]): void {
  withSeed(label, (next) => {
    const f = jit(body);
    for (let call = 1; call <= CALLS; call++) {
      const args = shapes.map((s) => randTensor(next, s));
      const copies = args.map((a) => a.clone());
      expectSameTree(f(...args), body(...copies), `call ${call}`);
      args.forEach((a, k) => expectSameTree(a, copies[k], `call ${call}: argument ${k} afterwards`));
    }
    expect(f.stats.replays).toBeGreaterThan(0);
  });
}

describe('a tensor written in place and then returned', () => {
  it('is returned with the write (it used to crash from the first replay)', () => {
    expectJitEqualsEager('inplace returned', (a) => { const c = a.mul(2); c.add_(1); return [c]; }, [[5]]);
  });

  it('is right when several writes follow each other in one kernel run', () => {
    expectJitEqualsEager('inplace chain', (a, b) => {
      const c = a.mul(b);
      c.add_(1);
      c.mul_(b);
      return [c, c.sum()];
    }, [[3, 4], [4]]);
  });

  it('a gradient whose result is a broadcast of a reduction replays', () => {
    expectJitEqualsEager('grad of max over sum', (a, b) => grad((x: Tensor, y: Tensor) => x.sum(0).maximum(y).sum(), 0)(a, b), [[3, 4], [4]]);
  });

  it('a dead write into an intermediate made after its value replays (it used to crash)', () => {
    expectJitEqualsEager('dead write into a later value', (x, a, b) => {
      const e = a.eq(b);
      const s = b.sqrt();
      s.copy_(e);
      return [x];
    }, [[2], [4], [4]]);
  });

  it('a write into an intermediate made after its value, then read, replays', () => {
    expectJitEqualsEager('write into a later value, read', (a, b) => {
      const e = a.eq(b);
      const s = b.exp();
      return [s.copy_(e).square()];
    }, [[4], [4]]);
  });

  it('a broadcast of a row result that is itself returned replays', () => {
    expectJitEqualsEager('broadcast result', (a) => [a.sum(1, true).expand([3, 4]), a.exp().sum(1, true).mul(2)], [[3, 4]]);
  });
});

describe('aliases taken before an in-place write', () => {
  it('a detached alias of a reduction sees the later write (eager 42, jit 6 before)', () => {
    expectJitEqualsEager('detach then write', (x, y) => { const m = x.sum(); const d = m.detach(); m.mul_(y); return [d]; }, [[3], []]);
  });

  it('a keepdim reduction written in place keeps the write when used afterwards', () => {
    expectJitEqualsEager('keepdim then div_', (d, m, x) => { const v = x.max(0, true); v.div_(d); return [v.matmul(m)]; }, [[], [4, 2], [3, 4]]);
  });

  it('an alias used in later math (not returned) sees the write', () => {
    expectJitEqualsEager('alias in math', (x, y) => {
      const m = x.sum(1);
      const r = m.reshape([1, 3]);
      m.add_(y);
      return [r.mul(2), m];
    }, [[3, 4], [3]]);
  });

  it('a write through the alias reaches the base', () => {
    expectJitEqualsEager('write through alias', (x, y) => {
      const m = x.sum(1, true);
      const flat = m.reshape([3]);
      flat.mul_(y);
      return [m.exp(), flat];
    }, [[3, 4], [3]]);
  });

  it('a transposed alias of an elementwise result sees the write', () => {
    expectJitEqualsEager('transpose alias', (x, y) => {
      const c = x.exp();
      const t = c.transpose(0, 1);
      c.sub_(y);
      return [t.add(1), c.max(1)];
    }, [[3, 4], [4]]);
  });

  it('a slice written in place updates its base as eager does', () => {
    expectJitEqualsEager('slice write', (x, y) => {
      const c = x.mul(3);
      const s = c.narrow(1, 1, 2);
      s.add_(y);
      return [c.sum(1), s];
    }, [[3, 4], [2]]);
  });
});

describe('signed zero constants', () => {
  it('x.div(-0) and x.mul(-0) keep their sign after another function compiled the same kernel with +0', () => {
    withSeed('signed zero kernels', (next) => {
      const bodies = [
        (x: Tensor) => x.div(0), (x: Tensor) => x.div(-0),
        (x: Tensor) => x.mul(0), (x: Tensor) => x.mul(-0),
        (x: Tensor) => x.exp().add(-0), (x: Tensor) => x.exp().sub(0),
        (x: Tensor) => x.div(Infinity), (x: Tensor) => x.div(-Infinity), (x: Tensor) => x.add(NaN),
      ];
      const fs = bodies.map((b) => jit(b));
      for (let call = 1; call <= 4; call++) {
        const x = randTensor(next, [4], 0.5, 1);
        fs.forEach((f, k) => expectSameTree(f(x), bodies[k]!(x), `call ${call}, function ${k}`));
      }
    });
  });
});
