/**
 * Selects: an `if` on a one-element tensor whose branches only assign computed values runs
 * both branches under a trace and picks with `where`, so the branch taken is data and one
 * variant serves both outcomes. Each case runs the function as written (eager) and under
 * jit (rewritten at run time) on fresh random inputs; results must be equal bit for bit.
 */
import { describe, expect, it } from 'vitest';
import { Tensor, jit, tensor } from '../../../src/node.js';
import { withSeed } from '../random-inputs.js';
import { expectSameTree } from './compare.js';

const floats = (next: () => number, n: number, lo: number, hi: number) => tensor(Float32Array.from({ length: n }, () => lo + next() * (hi - lo)));

function scale(x: Tensor, limit: Tensor): Tensor[] {
  let y = x, z = x;
  if (x.sum() > limit) {
    y = x.mul(0.5);
    z = y.exp();
  } else {
    const t = x.add(1);
    y = t.mul(t);
  }
  return [y, z];
}

/** A float condition: true when nonzero and not NaN, as in `if` on a number. */
function truthy(x: Tensor, s: Tensor): Tensor {
  let y = x;
  if (s) y = x.neg();
  return y;
}

function differential(fn: (...args: any[]) => unknown, calls: unknown[][]) {
  const f = jit(fn, { rewrite: true });
  calls.forEach((args, i) => expectSameTree(f(...args), fn(...args), `call ${i + 1}`));
  return f;
}

describe('selects', () => {
  it('both outcomes of the condition replay one variant, with no guard', () => {
    withSeed('select scale', (next) => {
      const calls = Array.from({ length: 16 }, () => [floats(next, 5, -3, 3), tensor(next() * 4 - 2)]);
      const f = differential(scale, calls);
      expect(f.stats).toMatchObject({ traces: 2, replays: 14, fallbacks: 0, variants: 1 });
      const v = f.explain(...(calls[0] as [Tensor, Tensor])).variants[0]!;
      expect(v.guards).toEqual([]);
      expect(v.controlFlow[0]).toMatch(/^if at <scale>:\d+:\d+: a select/);
    });
  });

  it('a float condition is true when nonzero and not NaN', () => {
    // As written, `if (s)` on a tensor object is always taken: the reference reads the number.
    const reference = (x: Tensor, s: Tensor) => (Number(s) ? x.neg() : x);
    const x = tensor([1, -2, 3]);
    const f = jit(truthy, { rewrite: true });
    for (const s of [2, 3, 0, Number.NaN, -0, Number.POSITIVE_INFINITY]) expectSameTree(f(x, tensor(s)), reference(x, tensor(s)), `condition ${s}`);
    expect(f.stats).toMatchObject({ variants: 1, fallbacks: 0, replays: 4 });
  });

  it('branches that give a variable different shapes fall back to a guard, with the reason', () => {
    function reshaping(x: Tensor, limit: Tensor): Tensor {
      let y = x;
      if (x.sum() > limit) y = x.sum(0);
      return y;
    }
    const f = differential(reshaping, [[tensor([[1, 2], [3, 4]]), tensor(0)], [tensor([[1, 2], [3, 4]]), tensor(0)], [tensor([[1, 2], [3, 4]]), tensor(100)]]);
    expect(f.stats.fallbacks).toBe(1);
    expect(f.explain(tensor([[1, 2], [3, 4]]), tensor(0)).variants[0]!.controlFlow[0]).toMatch(/a guard, not a select: variable 1 is float32\[2\] in one branch and float32\[2,2\] in the other/);
  });

  it('gradients flow through a select into the branch taken', () => {
    function weighted(x: Tensor, limit: Tensor): Tensor {
      let y = x;
      if (x.sum() > limit) y = x.mul(2);
      else y = x.mul(x);
      return y.sum();
    }
    const f = jit(weighted, { rewrite: true });
    for (const [v, limit, grad] of [[[1, 2], 0, [2, 2]], [[1, 2], 0, [2, 2]], [[1, 2], 10, [2, 4]], [[3, 1], 10, [6, 2]]] as const) {
      const x = tensor(v.slice(), { requiresGrad: true });
      f(x, tensor(limit)).backward();
      expect(Array.from(x.grad!.data())).toEqual(grad);
    }
  });
});
