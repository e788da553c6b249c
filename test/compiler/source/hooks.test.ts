/**
 * The runtime hooks that rewritten code calls: plain values pass through, a one-element
 * tensor becomes its truth, a larger one is ambiguous exactly as in a plain comparison, and
 * comparisons with a tensor stay tensors. Under jit, a condition is one guard on the
 * outcome, reported at the site the transform recorded.
 */
import { describe, expect, it } from 'vitest';
import { Tensor, jit, tensor } from '../../../src/index.js';
import { __kiln, type ComparisonOp } from '../../../src/hooks.js';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);
const OPS: [ComparisonOp, (a: number, b: number) => boolean][] = [
  ['lt', (a, b) => a < b], ['le', (a, b) => a <= b], ['gt', (a, b) => a > b], ['ge', (a, b) => a >= b],
  ['eq', (a, b) => a == b], ['ne', (a, b) => a != b], ['seq', (a, b) => a === b], ['sne', (a, b) => a !== b],
];

describe('cond and loop', () => {
  it('pass plain values through untouched', () => {
    const obj = {}, arr: number[] = [], fn = () => 1;
    for (const v of [0, 1, -0, NaN, '', 'x', null, undefined, true, false, 0n, obj, arr, fn]) {
      expect(Object.is(__kiln.cond(v, 's'), v)).toBe(true);
      expect(Object.is(__kiln.loop(v, 's'), v)).toBe(true);
    }
  });

  it('turn a one-element tensor into its truth', () => {
    const cases: [Tensor, boolean][] = [
      [tensor([3]), true], [tensor([0]), false], [tensor(-0.5), true], [tensor([[0]]), false], [tensor([NaN]), false],
      [tensor([true]), true], [tensor([false]), false], [tensor([7], { dtype: 'int32' }), true], [tensor(0, { dtype: 'int32' }), false],
    ];
    for (const [t, want] of cases) {
      expect(__kiln.cond(t, 's'), `${t}`).toBe(want);
      expect(__kiln.loop(t, 's'), `${t}`).toBe(want);
    }
  });

  it('call a larger (or empty) tensor ambiguous, with the message a plain comparison gives', () => {
    for (const t of [tensor([1, 2]), tensor([[1], [2]]), tensor([])]) {
      let plain = '';
      try {
        void (+t);
      } catch (error) {
        plain = (error as Error).message;
      }
      expect(plain).toMatch(/is ambiguous as a number or boolean/);
      expect(() => __kiln.cond(t, 's')).toThrow(plain);
      expect(() => __kiln.loop(t, 's')).toThrow(plain);
    }
  });
});

describe('cmp', () => {
  it('compares plain values as JavaScript does', () => {
    const values: unknown[] = [0, 1, -1, 2.5, NaN, '1', 'a', null, undefined, true, false, [1], {}];
    for (const [op, f] of OPS) {
      for (const a of values) {
        for (const b of values) expect(__kiln.cmp(a, b, op, 's'), `${String(a)} ${op} ${String(b)}`).toBe(f(a as number, b as number));
      }
    }
  });

  it('compares a tensor with a number or boolean as tensors, whichever side it is on', () => {
    for (const [op, f] of OPS) {
      for (const [x, y] of [[1, 2], [2, 2], [3, 2], [-1, 0]]) {
        const left = __kiln.cmp(tensor([x!]), y, op, 's');
        const right = __kiln.cmp(x, tensor([y!]), op, 's');
        for (const r of [left, right]) {
          expect(r).toBeInstanceOf(Tensor);
          expect((r as Tensor).dtype).toBe('bool');
          expect((r as Tensor).item(), `${x} ${op} ${y}`).toBe(Number(f(x!, y!)));
        }
      }
    }
    expect((__kiln.cmp(tensor([1]), true, 'eq', 's') as Tensor).item()).toBe(1);
  });

  it('compares two tensors elementwise, except === and !== which test identity as plain code does', () => {
    const a = tensor([1, 5, 3]), b = tensor([2, 5, 1]);
    expect(Array.from((__kiln.cmp(a, b, 'lt', 's') as Tensor).data())).toEqual([1, 0, 0]);
    expect(Array.from((__kiln.cmp(a, b, 'eq', 's') as Tensor).data())).toEqual([0, 1, 0]);
    expect(Array.from((__kiln.cmp(a, b, 'ne', 's') as Tensor).data())).toEqual([1, 0, 1]);
    expect(__kiln.cmp(a, a, 'seq', 's')).toBe(true);
    expect(__kiln.cmp(a, b, 'seq', 's')).toBe(false);
    expect(__kiln.cmp(a, b, 'sne', 's')).toBe(true);
    // A tensor against a number under ===: always false in plain code, a comparison here.
    expect((__kiln.cmp(tensor([5]), 5, 'seq', 's') as Tensor).item()).toBe(1);
    // And the elementwise result of a larger tensor is ambiguous once it is a condition.
    expect(() => __kiln.cond(__kiln.cmp(a, 2, 'gt', 's'), 's')).toThrow(/ambiguous/);
  });

  it('leaves a tensor against anything but a number, boolean or tensor to plain JavaScript', () => {
    const t = tensor([1]);
    expect(__kiln.cmp(t, null, 'seq', 's')).toBe(false);
    expect(__kiln.cmp(t, null, 'ne', 's')).toBe(true);
    expect(__kiln.cmp(t, undefined, 'eq', 's')).toBe(false);
    expect(__kiln.cmp(undefined, t, 'sne', 's')).toBe(true);
    // A string operand converts the tensor as plain code would (its one element).
    expect(__kiln.cmp(t, '1', 'eq', 's')).toBe(true);
  });
});

describe('under jit', () => {
  it('a condition is one guard on its outcome, at the recorded site', () => {
    const site = 'model.ts:12:7';
    const f = jit((a: Tensor, b: Tensor) => (__kiln.cond(__kiln.cmp(a, b, 'lt', site), site) ? a.add(b) : a.sub(b)));
    expect(f(tensor([1]), tensor([2])).item()).toBe(3);
    expect(f(tensor([1]), tensor([2])).item()).toBe(3);
    const explained = f.explain(tensor([1]), tensor([2]));
    expect(explained.variants[0]!.guards).toEqual([{ site, how: 'a comparison or Number()', expected: [1] }]);
    // Other values with the same outcome replay; another outcome falls back and is recorded.
    expect(f(tensor([5]), tensor([9])).item()).toBe(14);
    expect(f.stats).toMatchObject({ traces: 2, replays: 1, fallbacks: 0 });
    expect(f(tensor([9]), tensor([5])).item()).toBe(4);
    expect(f.stats).toMatchObject({ traces: 3, replays: 1, fallbacks: 1, variants: 2 });
  });

  it('site() reports the guards of its reads at the given site, and only those', () => {
    const f = jit((a: Tensor) => {
      const inside = __kiln.site('outer.ts:1:1', () => __kiln.site('inner.ts:2:2', () => a.item()) + a.add(1).item());
      return a.mul(inside + a.mul(2).item());
    });
    f(tensor([1]));
    const sites = f.explain(tensor([1])).variants[0]!.guards.map((g) => g.site);
    expect(sites.slice(0, 2)).toEqual(['inner.ts:2:2', 'outer.ts:1:1']);
    expect(sites[2]).toMatch(new RegExp(`^${here.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+$`));
  });

  it('the hooks object cannot be changed', () => {
    expect(Object.isFrozen(__kiln)).toBe(true);
  });
});
