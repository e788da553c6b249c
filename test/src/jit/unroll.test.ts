/**
 * Tracing is bounded: a loop is not unrolled a hundred thousand times to find out it is a
 * loop. Without the source transform, a trace that keeps recording the same iteration of a
 * `while` stops after `maxUnroll` iterations and the signature runs eagerly, with one
 * warning naming the loop's line; with it, a lifted loop's trace records a few iterations
 * and runs the rest compiled. Results are compared with plain-number loops and with eager
 * execution, bit for bit. (Times are measured in bench/jit.ts and bench/loop.ts.)
 */
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Tensor, jit, tensor } from '../../../src/node.js';
import { CONFIRMING } from '../../../src/jit/loop-hook.js';
import { randInt, withSeed } from '../random-inputs.js';
import { expectSameTree, lineOf } from './compare.js';

const here = fileURLToPath(import.meta.url);

afterEach(() => {
  vi.restoreAllMocks();
});

function seedLoop(first: Tensor, second: Tensor): Tensor[] {
  while (first < second) { // MARK seed loop
    first = first.add(2);
    second = second.add(1);
  }
  return [first, second];
}

/** The seed loop with a body that reads a tensor from before the loop. */
function stepLoop(x: Tensor, limit: Tensor, step: Tensor): Tensor {
  while (x.sum() < limit) x = x.add(step).mul(1.5);
  return x;
}

const int = (v: number) => tensor(v, { dtype: 'int32' });
const values = (ts: Tensor[]) => ts.map((t) => t.item());

describe('plain jit on a tensor while loop', () => {
  it('stops unrolling after maxUnroll equal iterations: the signature runs eagerly, one warning names the loop line', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const f = jit(seedLoop);
    for (let i = 0; i < 3; i++) expect(values(f(int(i), int(1000 + i)))).toEqual([2000 + i, 2000 + i]);
    expect(f.stats).toMatchObject({ calls: 3, traces: 1, replays: 0, variants: 0 });
    expect(warn).toHaveBeenCalledTimes(1);
    const message = String(warn.mock.calls[0]![0]);
    expect(message).toContain('stays eager');
    expect(message).toContain(`the loop at ${here}:${lineOf(here, 'MARK seed loop')}:`);
    expect(message).toContain('repeats the same recorded iteration (32 times in a row)');
    expect(message).toContain('kiln/register');
    const explained = f.explain(int(0), int(1000));
    expect(explained.state).toBe('eager');
    expect(explained.events.join('\n')).toContain('repeats the same recorded iteration');
  });

  it('loops shorter than maxUnroll still unroll into guarded variants that replay', () => {
    withSeed('jit unroll short', (next) => {
      const f = jit(seedLoop, { maxUnroll: 8, maxVariants: 64 });
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      for (let i = 0; i < 10; i++) {
        const a = randInt(next, 0, 5), b = a + randInt(next, 0, 6);
        expect(values(f(int(a), int(b))), `pair ${a},${b}`).toEqual(values(seedLoop(int(a), int(b))));
        expect(values(f(int(a), int(b))), `pair ${a},${b} again`).toEqual(values(seedLoop(int(a), int(b))));
      }
      expect(f.stats.replays).toBeGreaterThan(0);
      expect(warn).not.toHaveBeenCalled();
      expect(() => jit(seedLoop, { maxUnroll: 1 })).toThrow('jit: maxUnroll must be a number of iterations, at least 2 (got 1)');
    });
  });

  it('maxUnroll: Infinity unrolls every iteration, as before', () => {
    const f = jit(seedLoop, { maxUnroll: Infinity });
    for (let i = 0; i < 3; i++) expect(values(f(int(0), int(40)))).toEqual([80, 80]);
    expect(f.stats).toMatchObject({ traces: 2, replays: 1, variants: 1 });
  });
});

describe('the lifted loop records a few iterations, then runs the rest compiled', () => {
  it('a trace with 100,000 iterations records CONFIRMING of them and replays for every trip count', () => {
    const f = jit(seedLoop, { rewrite: true });
    for (const [a, b] of [[0, 100_000], [0, 100_000], [5, 50_000], [3, 9]]) {
      expect(values(f(int(a!), int(b!)))).toEqual([2 * b! - a!, 2 * b! - a!]);
    }
    expect(f.stats).toMatchObject({ traces: 2, replays: 2, variants: 1 });
    const v = f.explain(int(0), int(10)).variants[0]!;
    // The loop node with its condition and body graphs: nothing per iteration (unrolled, 400,000 nodes).
    expect(v.graph.split('\n').length).toBeLessThan(40);
    expect(v.controlFlow[0]).toContain('lifted into one loop node');
    expect(v.controlFlow[0]).toContain('traced with 100000 iterations');
    expect(CONFIRMING).toBeLessThanOrEqual(4);
  });

  it('the compiled rest gives what eager gives, bit for bit, for loop-invariant operands and random trip counts', () => {
    withSeed('jit lifted fast-forward', (next) => {
      const f = jit(stepLoop, { rewrite: true });
      for (let i = 0; i < 8; i++) {
        const x = tensor(Float32Array.from({ length: 3 }, () => next()));
        const step = tensor(Float32Array.from({ length: 3 }, () => 0.01 + next() * 0.1));
        const limit = tensor(10 + randInt(next, 0, 40));
        expectSameTree(f(x, limit, step), stepLoop(x, limit, step), `call ${i + 1}`);
      }
      expect(f.stats.replays).toBeGreaterThan(0);
    });
  });
});
