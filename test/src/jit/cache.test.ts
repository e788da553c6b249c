/**
 * The cache of compiled signatures and what users can look at: cache hits do not run the
 * function, stats, clearing, LRU eviction, strict mode, the variant limit and explain().
 */
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { JitError, Tensor, clearJitCaches, jit } from '../../../src/index.js';
import { withSeed } from '../random-inputs.js';
import { expectSameTensor, lineOf, randTensor } from './compare.js';

const CALLS = 12;
const here = fileURLToPath(import.meta.url);

afterEach(() => {
  vi.restoreAllMocks();
});

/** `body` wrapped so that every real run of it is counted. */
function counted<A extends unknown[], R>(body: (...args: A) => R): { fn: (...args: A) => R; runs: () => number } {
  let runs = 0;
  return { fn: (...args: A) => { runs++; return body(...args); }, runs: () => runs };
}

describe('cache hits', () => {
  it('a cache hit does not run the function', () => {
    withSeed('jit cache hit', (next) => {
      const body = (x: Tensor, y: Tensor) => x.mul(y).add(x.exp()).sum(1);
      const c = counted(body);
      const f = jit(c.fn);
      for (let i = 0; i < CALLS; i++) {
        const x = randTensor(next, [3, 5]), y = randTensor(next, [3, 5]);
        expectSameTensor(f(x, y), body(x, y), `call ${i + 1}`);
        expect(c.runs(), `runs after call ${i + 1}`).toBe(Math.min(i + 1, 2));
      }
    });
  });

  it('calls without numbers alternating between two signatures each replay their own graph', () => {
    withSeed('jit alternating signatures', (next) => {
      const body = (x: Tensor, y: Tensor) => x.mul(y).add(x);
      const c = counted(body);
      const f = jit(c.fn);
      for (let i = 0; i < CALLS; i++) {
        const shape = i % 2 === 0 ? [3, 5] : [5];
        const x = randTensor(next, shape), y = randTensor(next, shape);
        expectSameTensor(f(x, y), body(x, y), `call ${i + 1}`);
      }
      // Two traces per signature, then replays only: no call took the other signature's entry.
      expect(c.runs()).toBe(4);
      expect(f.stats).toMatchObject({ calls: CALLS, traces: 4, replays: CALLS - 4, fallbacks: 0, variants: 2 });
    });
  });

  it('stats count calls, traces, replays, fallbacks, variants, recompiles and untraced calls', () => {
    withSeed('jit stats', (next) => {
      const body = (x: Tensor) => (x.sum().gt(0).item() ? x.mul(2) : x.neg());
      const f = jit(body);
      expect(f.stats).toEqual({ calls: 0, traces: 0, replays: 0, fallbacks: 0, variants: 0, recompiles: 0, untraced: 0 });
      const pos = () => randTensor(next, [4], 0.1, 1), neg = () => randTensor(next, [4], -1, -0.1);
      const steps: [() => Tensor, { calls: number; traces: number; replays: number; fallbacks: number; variants: number; recompiles: number; untraced: number }][] = [
        [pos, { calls: 1, traces: 1, replays: 0, fallbacks: 0, variants: 0, recompiles: 0, untraced: 0 }],
        [pos, { calls: 2, traces: 2, replays: 0, fallbacks: 0, variants: 1, recompiles: 0, untraced: 0 }],
        [pos, { calls: 3, traces: 2, replays: 1, fallbacks: 0, variants: 1, recompiles: 0, untraced: 0 }],
        [neg, { calls: 4, traces: 3, replays: 1, fallbacks: 1, variants: 2, recompiles: 0, untraced: 0 }],
        [neg, { calls: 5, traces: 3, replays: 2, fallbacks: 1, variants: 2, recompiles: 0, untraced: 0 }],
        [pos, { calls: 6, traces: 3, replays: 3, fallbacks: 1, variants: 2, recompiles: 0, untraced: 0 }],
      ];
      for (let i = 0; i < CALLS; i++) {
        const [make, expected] = steps[i % steps.length]!;
        const x = make();
        expectSameTensor(f(x), body(x), `call ${i + 1}`);
        if (i < steps.length) expect(f.stats, `stats after call ${i + 1}`).toEqual(expected);
      }
      expect(f.stats).toEqual({ calls: CALLS, traces: 3, replays: CALLS - 3, fallbacks: 1, variants: 2, recompiles: 0, untraced: 0 });
    });
  });
});

describe('clearing and eviction', () => {
  it('clearCache() drops one function\'s graphs; clearJitCaches() drops every function\'s', () => {
    withSeed('jit clear', (next) => {
      const bodyF = (x: Tensor) => x.square().sum();
      const bodyG = (x: Tensor) => x.abs().max(0);
      const cf = counted(bodyF), cg = counted(bodyG);
      const f = jit(cf.fn), g = jit(cg.fn);
      const callBoth = (label: string) => {
        const x = randTensor(next, [3, 2]);
        expectSameTensor(f(x), bodyF(x), `f ${label}`);
        expectSameTensor(g(x), bodyG(x), `g ${label}`);
      };
      for (let i = 0; i < 4; i++) callBoth(`call ${i + 1}`);
      expect([cf.runs(), cg.runs()]).toEqual([2, 2]);

      f.clearCache();
      expect(f.stats.variants).toBe(0);
      expect(g.stats.variants).toBe(1);
      for (let i = 0; i < 4; i++) callBoth(`call ${i + 5} after f.clearCache()`);
      expect([cf.runs(), cg.runs()]).toEqual([4, 2]);

      clearJitCaches();
      expect([f.stats.variants, g.stats.variants]).toEqual([0, 0]);
      for (let i = 0; i < 4; i++) callBoth(`call ${i + 9} after clearJitCaches()`);
      expect([cf.runs(), cg.runs()]).toEqual([6, 4]);
      expect([f.stats.replays, g.stats.replays]).toEqual([6, 8]);
    });
  });

  it('cacheSize: 2 keeps the two most recently used signatures', () => {
    withSeed('jit lru', (next) => {
      const body = (x: Tensor) => x.softmax(0).mul(3);
      const c = counted(body);
      const f = jit(c.fn, { cacheSize: 2 });
      const shapes = { a: [2], b: [3], c: [4] } as const;
      // Each entry: the shape called, and whether it runs the function (trace) or replays.
      // A new size of the computation a compiled signature records is confirmed by one trace.
      const plan: [keyof typeof shapes, 'trace' | 'replay'][] = [
        ['a', 'trace'], ['a', 'trace'], ['a', 'replay'],
        ['b', 'trace'], ['b', 'replay'], ['a', 'replay'], // a is now the most recent
        ['c', 'trace'], ['c', 'replay'], // evicts b, the least recently used
        ['a', 'replay'], ['b', 'trace'], ['b', 'replay'], // b is traced again and evicts c
        ['a', 'replay'], ['c', 'trace'], // c comes back and evicts b
      ];
      plan.forEach(([k, what], i) => {
        const runs = c.runs();
        const x = randTensor(next, [...shapes[k]]);
        expectSameTensor(f(x), body(x), `call ${i + 1} (${k})`);
        expect(c.runs() - runs, `call ${i + 1} (${k}) should ${what}`).toBe(what === 'trace' ? 1 : 0);
      });
      // a and c are compiled (b was evicted).
      expect(f.stats.variants).toBe(2);
    });
  });
});

describe('strict mode and the variant limit', () => {
  it('strict: true throws a JitError naming the guard and both values', () => {
    withSeed('jit strict', (next) => {
      const body = (x: Tensor) => {
        const n = x.argmax().item(); // guard: strict argmax
        return x.mul(n);
      };
      const f = jit(body, { strict: true });
      const x = randTensor(next, [5]);
      const traced = x.argmax().item();
      for (let i = 0; i < CALLS; i++) {
        // Same argmax as traced: replays; elsewhere the guard fails.
        const y = randTensor(next, [5], -1, 0.5);
        const k = i < 3 || i % 2 === 0 ? traced : (traced + 1) % 5;
        y.narrow(0, k, 1).fill_(0.9);
        const input = i === 0 ? x : y;
        if (i < 3 || i % 2 === 0 || k === traced) {
          expectSameTensor(f(input), body(input), `call ${i + 1}`);
          continue;
        }
        let error: unknown;
        try {
          f(input);
        } catch (e) {
          error = e;
        }
        expect(error, `call ${i + 1}`).toBeInstanceOf(JitError);
        const message = (error as Error).message;
        expect(message).toMatch(new RegExp(`item\\(\\) at \\S*cache\\.test\\.ts:${lineOf(here, 'guard: strict argmax')}:\\d+`));
        expect(message).toContain(`traced [${traced}]`);
        expect(message).toContain(`this call [${k}]`);
      }
      expect(f.stats.fallbacks).toBe(0);
    });
  });

  it('past maxVariants a guard that keeps changing leaves the signature eager with one warning naming it', () => {
    withSeed('jit max variants', (next) => {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      const body = (x: Tensor) => {
        const k = x.argmax().item(); // guard: keeps changing
        return x.narrow(0, k, 1).mul(2);
      };
      const f = jit(body, { maxVariants: 3 });
      const at = (k: number) => {
        const x = randTensor(next, [8], -1, 0.5);
        x.narrow(0, k, 1).fill_(0.9);
        return x;
      };
      // Two calls with the same argmax compile; then each new argmax adds a variant up to the limit.
      const ks = [0, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4];
      ks.forEach((k, i) => {
        const x = at(k);
        expectSameTensor(f(x), body(x), `call ${i + 1}`);
      });
      expect(warn).toHaveBeenCalledTimes(1);
      const message = String(warn.mock.calls[0]![0]);
      expect(message).toContain('stays eager');
      expect(message).toMatch(new RegExp(`item\\(\\) at \\S*cache\\.test\\.ts:${lineOf(here, 'guard: keeps changing')}:\\d+`));
      expect(f.stats.variants).toBe(0);
      expect(f.explain(at(0)).state).toBe('eager');
    });
  });

  it('a value that differs on every call from the first leaves the signature eager with one warning naming its guard', () => {
    withSeed('jit max attempts', (next) => {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      const body = (x: Tensor) => x.mul(x.sum().item()); // guard: differs every call
      const f = jit(body, { maxVariants: 4 });
      for (let i = 0; i < CALLS; i++) {
        const x = randTensor(next, [3]);
        expectSameTensor(f(x), body(x), `call ${i + 1}`);
      }
      expect(f.stats.traces).toBe(4);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toMatch(new RegExp(`item\\(\\) at \\S*cache\\.test\\.ts:${lineOf(here, 'guard: differs every call')}:\\d+`));
    });
  });
});

describe('explain', () => {
  it('explain() shows the signature, the guards at their source lines and the IR', () => {
    withSeed('jit explain', (next) => {
      const body = (x: Tensor, w: Tensor) => {
        const h = x.matmul(w).tanh();
        if (h.sum().gt(0).item()) return h.mul(2); // guard: explained
        return h;
      };
      const f = jit(body);
      const w = randTensor(next, [4, 2], 0.1, 1);
      const before = f.explain(randTensor(next, [3, 4], 0.1, 1), w);
      expect(before.state).toBe('not traced');
      for (let i = 0; i < CALLS; i++) {
        const x = randTensor(next, [3, 4], 0.1, 1);
        expectSameTensor(f(x, w), body(x, w), `call ${i + 1}`);
      }
      const e = f.explain(randTensor(next, [3, 4]), w);
      expect(e.state).toBe('compiled');
      expect(e.signature).toContain('float32[3,4]');
      expect(e.signature).toContain('float32[4,2]');
      expect(e.stats.replays).toBe(CALLS - 2);
      expect(e.variants).toHaveLength(1);
      const line = lineOf(here, 'guard: explained');
      expect(e.variants[0]!.guards).toEqual([{ site: expect.stringMatching(new RegExp(`cache\\.test\\.ts:${line}:\\d+$`)), how: 'item()', expected: [1] }]);
      const text = e.toString();
      expect(text).toContain(`for signature ${e.signature}: compiled`);
      expect(text).toMatch(new RegExp(`guard item\\(\\) at \\S*cache\\.test\\.ts:${line}:\\d+: \\[1\\]`));
      // The IR is a section: the summary leaves it out, format({ ir: true }) adds it.
      expect(text).not.toContain('matmul(');
      const full = e.format({ ir: true });
      for (const op of ['input(', 'matmul(', 'tanh(', 'sum(', 'observe(', 'mul(']) expect(full).toContain(op);
      // Another shape has its own (untraced) signature.
      expect(f.explain(randTensor(next, [5, 4]), w).state).toBe('not traced');
    });
  });
});
