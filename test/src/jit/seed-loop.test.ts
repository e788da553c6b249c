/**
 * A data-dependent while loop under jit: the trip count depends on tensor values, so each
 * comparison is a guard. Repeated starting pairs replay; new ones fall back and add
 * variants; none ever gets a wrong answer.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Tensor, jit, tensor } from '../../../src/index.js';
import { randInt, withSeed } from '../random-inputs.js';

afterEach(() => {
  vi.restoreAllMocks();
});

function seedLoop(first: Tensor, second: Tensor): Tensor[] {
  while (first < second) {
    first = first.add(2);
    second = second.add(1);
  }
  return [first, second];
}

/** The same loop on plain numbers: the reference. */
function plainLoop(first: number, second: number): number[] {
  while (first < second) {
    first += 2;
    second += 1;
  }
  return [first, second];
}

const int = (v: number) => tensor(v, { dtype: 'int32' });

function check(got: Tensor[], a: number, b: number, what: string): void {
  expect(got.map((t) => t.dtype), what).toEqual(['int32', 'int32']);
  expect(got.map((t) => t.item()), what).toEqual(plainLoop(a, b));
}

describe('the seed loop under jit', () => {
  it('30 random starting pairs match plain-number loops; repeated pairs replay', () => {
    withSeed('jit seed loop', (next) => {
      const f = jit(seedLoop, { maxVariants: 64 });
      const pairs = Array.from({ length: 30 }, () => [randInt(next, 0, 20), randInt(next, 0, 20)] as const);
      const seen = new Set<string>();
      pairs.forEach(([a, b], i) => {
        const key = `${a},${b}`;
        const before = { ...f.stats };
        check(f(int(a), int(b)), a, b, `pair ${i + 1} (${key}), first call`);
        const afterFirst = { ...f.stats };
        if (seen.has(key) || i === 0) {
          // A pair seen before replays at once (the very first pair traces twice to compile).
          if (i > 0) expect(afterFirst.replays, `pair ${i + 1} (${key}) seen before`).toBe(before.replays + 1);
        } else {
          // A new pair's comparisons read other values: its guards fail, it runs eagerly and is recorded.
          expect(afterFirst.fallbacks, `pair ${i + 1} (${key}) is new`).toBe(before.fallbacks + 1);
          expect(afterFirst.variants, `pair ${i + 1} (${key}) is new`).toBe(before.variants + 1);
        }
        check(f(int(a), int(b)), a, b, `pair ${i + 1} (${key}), second call`);
        if (i > 0) {
          expect(f.stats.replays, `pair ${i + 1} (${key}) repeated`).toBe(afterFirst.replays + 1);
          expect(f.stats.traces, `pair ${i + 1} (${key}) repeated`).toBe(afterFirst.traces);
        }
        seen.add(key);
      });
      // Revisit every pair: all replay now.
      const replays = f.stats.replays;
      pairs.forEach(([a, b], i) => check(f(int(a), int(b)), a, b, `pair ${i + 1} revisited`));
      expect(f.stats.replays).toBe(replays + pairs.length);
      expect(f.stats.variants).toBe(seen.size);
    });
  });

  it('with the default variant limit it falls back to eager with one warning, never a wrong answer', () => {
    withSeed('jit seed loop limit', (next) => {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      const f = jit(seedLoop);
      for (let i = 0; i < 30; i++) {
        const a = randInt(next, 0, 20), b = randInt(next, 0, 20);
        // Each pair twice in a row so that replays happen until the limit.
        check(f(int(a), int(b)), a, b, `pair ${i + 1} (${a},${b})`);
        check(f(int(a), int(b)), a, b, `pair ${i + 1} (${a},${b}) again`);
      }
      expect(f.stats.replays).toBeGreaterThan(0);
      expect(f.stats.fallbacks).toBeGreaterThan(0);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toContain('stays eager');
      expect(String(warn.mock.calls[0]![0])).toMatch(/seed-loop\.test\.ts:\d+:\d+/);
    });
  });
});
