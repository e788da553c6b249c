/**
 * Loop lifting: a loop with a tensor condition, rewritten by the source transform (here at
 * run time, `rewrite: true`), becomes one loop node when every iteration computes the same
 * thing. Each case runs the function as written (eager: a one-element tensor in `<` reads
 * its value) and under jit on fresh random inputs; results must be equal bit for bit, and
 * calls with different trip counts must share one compiled variant. Loops that cannot be
 * lifted stay native with guards, and explain() says why.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Tensor, jit, noGrad, tensor } from '../../../src/node.js';
import { tensorCpu } from '../../../compiler/backends.js';
import { __kiln } from '../../../src/hooks.js';
import { randInt, withSeed } from '../random-inputs.js';
import { expectSameTree } from './compare.js';

afterEach(() => {
  vi.restoreAllMocks();
});

const int = (v: number) => tensor(v, { dtype: 'int32' });
const floats = (next: () => number, n: number, lo: number, hi: number) => tensor(Float32Array.from({ length: n }, () => lo + next() * (hi - lo)));

function seedLoop(first: Tensor, second: Tensor): Tensor[] {
  while (first < second) {
    first = first.add(2);
    second = second.add(1);
  }
  return [first, second];
}

// TypeScript compares a tensor with a tensor (not with a number), so bounds are 0-d tensors.
function newton(a: Tensor, tol: Tensor): Tensor {
  let x = a.add(1).div(2);
  while (x.mul(x).sub(a).abs().max() > tol) x = x.add(a.div(x)).div(2);
  return x;
}

/** The condition computes `d`, which the body reads: a value exported from the test. */
function shrink(x: Tensor, rate: Tensor, limit: Tensor): Tensor[] {
  let d = x.mul(0);
  while ((d = x.mul(rate)).abs().sum() > limit) x = x.sub(d);
  return [x, d];
}

/** A swap: the next `a` is the current `b`, read from the loop variable's own memory. */
function fibonacci(a: Tensor, b: Tensor, n: Tensor, zero: Tensor): Tensor[] {
  while (n > zero) {
    [a, b] = [b, a.add(b)];
    n = n.sub(1);
  }
  return [a, b, n];
}

function halveDo(x: Tensor, one: Tensor): Tensor {
  do x = x.div(2); while (x.sum() > one);
  return x;
}

function stepFor(x: Tensor, y: Tensor): Tensor[] {
  for (; x < y; x = x.add(3)) y = y.add(1);
  return [x, y];
}

/** Runs `fn` eagerly and under jit on `calls` argument lists; results must be identical. */
function differential(fn: (...args: any[]) => unknown, calls: unknown[][], options = {}) {
  const f = jit(fn, { rewrite: true, ...options });
  calls.forEach((args, i) => expectSameTree(f(...args), fn(...args), `call ${i + 1}`));
  return f;
}

describe('lifted loops', () => {
  it('the seed loop: every trip count, zero included, replays one variant', () => {
    withSeed('lift seed loop', (next) => {
      const pairs = [[0, 20], [3, 10], ...Array.from({ length: 40 }, () => [randInt(next, -5, 30), randInt(next, -5, 30)])];
      const f = differential(seedLoop, pairs.map(([a, b]) => [int(a!), int(b!)]));
      expect(f.stats).toMatchObject({ traces: 2, replays: 40, fallbacks: 0, variants: 1 });
      // The seed's own answer.
      expect((f(int(0), int(20)) as Tensor[]).map((t) => t.item())).toEqual([40, 40]);
      const explained = f.explain(int(0), int(20));
      expect(explained.variants[0]!.guards).toEqual([]);
      expect(explained.variants[0]!.optimized).toMatch(/loop\(%0, %1\) \{carried=2/);
    });
  });

  it("Newton's method on float32 vectors matches eager bit for bit", () => {
    withSeed('lift newton', (next) => {
      const calls = Array.from({ length: 12 }, () => [floats(next, 6, 0.01, 1e4), tensor(1e-3)]);
      const f = differential(newton, calls);
      expect(f.stats).toMatchObject({ variants: 1, fallbacks: 0, replays: 10 });
    });
  });

  it('values the condition computes reach the body; tensors from before the loop are loop invariants', () => {
    withSeed('lift shrink', (next) => {
      const calls = Array.from({ length: 10 }, () => [floats(next, 4, -20, 20), floats(next, 4, 0.05, 0.5), tensor(1)]);
      const f = differential(shrink, calls);
      expect(f.stats).toMatchObject({ variants: 1, fallbacks: 0 });
      expect(f.explain(...(calls[0] as [Tensor, Tensor, Tensor])).variants[0]!.controlFlow[0]).toMatch(/lifted into one loop node \(2 loop variables, 2 loop-invariant tensors/);
    });
  });

  it('a swap of loop variables reads the old values (Fibonacci)', () => {
    withSeed('lift fibonacci', (next) => {
      const ns = [5, 3, ...Array.from({ length: 12 }, () => randInt(next, 0, 40))];
      const f = differential(fibonacci, ns.map((n) => [int(0), int(1), int(n), int(0)]));
      expect(f.stats).toMatchObject({ variants: 1, fallbacks: 0, traces: 2 });
      expect((f(int(0), int(1), int(10), int(0)) as Tensor[]).map((t) => t.item())).toEqual([55, 89, 0]);
    });
  });

  it('do…while and for (with an update) lift too', () => {
    withSeed('lift do for', (next) => {
      const d = differential(halveDo, Array.from({ length: 8 }, () => [floats(next, 3, 0, 100), tensor(1)]));
      expect(d.stats).toMatchObject({ variants: 1, fallbacks: 0 });
      const pairs = [[0, 10], [1, 20], ...Array.from({ length: 10 }, () => [randInt(next, -10, 10), randInt(next, -10, 40)])];
      const f = differential(stepFor, pairs.map(([a, b]) => [int(a!), int(b!)]));
      expect(f.stats).toMatchObject({ variants: 1, fallbacks: 0 });
    });
  });

  it('a replay runs the loop in compiled kernels: no tensor op is dispatched per iteration', () => {
    const g = jit(seedLoop, { rewrite: true });
    g(int(0), int(10));
    g(int(0), int(30));
    const add = vi.spyOn(Tensor.prototype, 'add');
    const lt = vi.spyOn(Tensor.prototype, 'lt');
    expect((g(int(0), int(1000)) as Tensor[]).map((t) => t.item())).toEqual([2000, 2000]);
    expect(g.stats).toMatchObject({ replays: 1, variants: 1 });
    expect(add).not.toHaveBeenCalled();
    expect(lt).not.toHaveBeenCalled();
  });

  it('an iteration of a replayed loop makes no tensor: 10 and 1,000 iterations allocate the same buffers', () => {
    const g = jit(seedLoop, { rewrite: true });
    g(int(0), int(10));
    g(int(0), int(30));
    const buffersMade = (n: number) => {
      const [first, second] = [int(0), int(n)];
      const alloc = vi.spyOn(tensorCpu, 'alloc');
      try {
        expect((g(first, second) as Tensor[]).map((t) => t.item())).toEqual([2 * n, 2 * n]);
        return alloc.mock.calls.length;
      } finally {
        alloc.mockRestore();
      }
    };
    // The first replay compiles the loop's graphs and makes their buffers.
    buffersMade(20);
    const few = buffersMade(10);
    expect(buffersMade(1000)).toBe(few);
    expect(g.stats).toMatchObject({ replays: 3, variants: 1 });
  });
});

describe('loops that stay native, and why', () => {
  it('a JS counter carried by the loop keeps the loop native, with guards', () => {
    function counted(x: Tensor, one: Tensor): unknown[] {
      let steps = 0;
      while (x.sum() > one) {
        x = x.div(2);
        steps++;
      }
      return [x, steps];
    }
    const f = differential(counted, [[8, 8], [8, 8], [1, 0], [100, 3]].map((v) => [tensor(v), tensor(1)]));
    const v = f.explain(tensor([8, 8]), tensor(1)).variants[0]!;
    expect(v.controlFlow[0]).toMatch(/not lifted, loop variable 2 holds a number, not a tensor; each iteration's condition is a guard/);
    expect(v.guards.length).toBeGreaterThan(1);
  });

  it('an if on a tensor inside the body becomes a select, so the loop still lifts', () => {
    function bumpy(x: Tensor, one: Tensor, five: Tensor): Tensor {
      while (x.sum() > one) {
        if (x.max() > five) x = x.sub(1);
        else x = x.div(2);
      }
      return x;
    }
    withSeed('lift bumpy', (next) => {
      // Every call's loop iterates (each sum is over 1): a call whose loop runs no iteration shows no body
      // to lift, and how many traces that costs depends on where it falls among the calls.
      const calls = Array.from({ length: 10 }, () => [floats(next, 2, 0.6, 20), tensor(1), tensor(5)]);
      const f = differential(bumpy, calls);
      expect(f.stats).toMatchObject({ variants: 1, fallbacks: 0, traces: 2 });
      const notes = f.explain(tensor([7, 1]), tensor(1), tensor(5)).variants[0]!.controlFlow;
      expect(notes).toEqual([
        expect.stringMatching(/^if at <bumpy>:\d+:\d+: a select \(both branches computed, where picks the values\); no guard$/),
        expect.stringMatching(/^loop at <bumpy>:\d+:\d+: lifted into one loop node \(1 loop variables, 2 loop-invariant tensors/),
      ]);
    });
  });

  it('a value read in the body (a ?: on a tensor) keeps the loop native, with guards', () => {
    function stepped(x: Tensor, one: Tensor, five: Tensor): Tensor {
      while (x.sum() > one) x = x.div(x.max() > five ? 3 : 2);
      return x;
    }
    withSeed('native stepped', (next) => {
      differential(stepped, Array.from({ length: 6 }, () => [floats(next, 2, 0, 9), tensor(1), tensor(5)]), { maxVariants: 64 });
    });
    const g = jit(stepped, { rewrite: true });
    g(tensor([7, 1]), tensor(1), tensor(5));
    g(tensor([7, 1]), tensor(1), tensor(5));
    expect(g.explain(tensor([7, 1]), tensor(1), tensor(5)).variants[0]!.controlFlow[0]).toMatch(/not lifted, its body reads a tensor value/);
  });

  it('loop variables that require grad stay native (autograd sees every op); under noGrad they lift', () => {
    const f = jit(halveDo, { rewrite: true });
    const x = tensor([8, 8], { requiresGrad: true });
    const y = f(x, tensor(1));
    f(x, tensor(1));
    expect(f.explain(x, tensor(1)).variants[0]!.controlFlow[0]).toMatch(/not lifted, its tensors require grad/);
    y.sum().backward();
    expect(Array.from(x.grad!.data())).toEqual([1 / 16, 1 / 16]);
    const g = jit((t: Tensor) => noGrad(() => halveDo(t, tensor(1))));
    expect(Array.from(g(x).data())).toEqual(Array.from(y.data()));
  });

  it('a tensor made in a lifted loop that escapes it (not as a loop variable) turns lifting off, with right results', () => {
    function escapes(x: Tensor, one: Tensor): Tensor[] {
      const seen: Tensor[] = [];
      while (x.sum() > one) {
        x = x.div(2);
        seen.push(x);
      }
      return [x, seen[0]!];
    }
    const inputs = [[8, 8], [16, 16], [64, 4], [8, 8], [16, 16], [3, 3]];
    const f = differential(escapes, inputs.map((v) => [tensor(v), tensor(1)]));
    expect(f.explain(tensor([8, 8]), tensor(1)).events.join('\n')).toMatch(/computed inside a lifted loop is used after the loop.*loops are no longer lifted/);
  });

  it('the first trace with no iteration cannot see the body: that trip count gets a guarded variant of its own', () => {
    const f = differential(seedLoop, [[int(5), int(1)], [int(5), int(1)], [int(0), int(10)], [int(0), int(10)], [int(2), int(50)]]);
    const notes = f.explain(int(5), int(1)).variants.flatMap((v) => v.controlFlow);
    expect(notes).toContainEqual(expect.stringMatching(/not lifted, it ran no iteration when traced/));
    expect(notes).toContainEqual(expect.stringMatching(/lifted into one loop node/));
    expect(f.stats.variants).toBe(2);
  });
});

describe('the lift hooks outside a trace are the loop as written', () => {
  it('while, do…while and for with break (1) and continue', () => {
    let i = 0, seen: number[] = [];
    __kiln.lift('s', () => i < 10, () => { i++; if (i % 2) return; if (i > 6) return 1; seen.push(i); }, () => [i]);
    expect([i, seen]).toEqual([8, [2, 4, 6]]);
    let j = 5;
    seen = [];
    __kiln.liftDo('s', () => { seen.push(j); j++; }, () => j < 3, () => [j]);
    expect(seen).toEqual([5]);
    let k = 0;
    seen = [];
    __kiln.liftFor('s', () => k < 5, () => { k++; }, () => { if (k === 2) return; seen.push(k); }, () => [k]);
    expect([k, seen]).toEqual([5, [0, 1, 3, 4]]);
  });
});

describe('explain() of a lifted loop', () => {
  it('shows the loop node with its graphs and the kernels of its condition and body', () => {
    const f = jit(seedLoop, { rewrite: true });
    for (const [a, b] of [[0, 4], [0, 9], [1, 3]]) f(int(a!), int(b!));
    const text = f.explain(int(0), int(4)).format({ ir: true, kernels: true });
    expect(text).toMatch(/loop at <seedLoop>:2:\d+: lifted into one loop node/);
    expect(text).toMatch(/cond \(continues while %2 holds, else ends with %0, %1\):/);
    expect(text).toMatch(/kernel \d+ \(map, in the cond of loop %2\)/);
    // Both adds of the body run as one kernel (horizontal fusion).
    expect(text).toMatch(/kernel \d+ \(multi, in the body of loop %2\) computes %3 %5/);
  });
});
