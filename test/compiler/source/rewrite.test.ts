/**
 * The run-time path: `jit.toCode(fn)` shows a function rewritten, and `jit(fn, { rewrite:
 * true })` compiles that rewrite from the function's own text when it reads nothing from
 * its surroundings; otherwise the function is traced as written after one warning naming
 * the conditions that stay plain JavaScript.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Tensor, jit, tensor } from '../../../src/node.js';

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

/** `<name>:line:column` of `text` in the function's own source, as run-time sites name it. */
function siteIn(fn: Function, text: string): string {
  const lines = fn.toString().split('\n');
  const line = lines.findIndex((l) => l.includes(text));
  return `<${fn.name}>:${line + 1}:${lines[line]!.indexOf(text) + 1}`;
}

describe('jit.toCode', () => {
  it('shows the rewritten source of a function', () => {
    const code = jit.toCode(seedLoop);
    // The loop becomes closures the tracer can lift: its test, its body, its loop variables and their setter.
    const lifted = seedLoop.toString()
      .replace('while (first < second) {', '__kiln.lift(__kiln_sites[0], () => (__kiln.cmp(first, second, "lt", __kiln_sites[0])), () => {')
      .replace(/(\n\s*\})(;?\n\s*return)/, '$1, () => [first, second], (__kiln_values) => { [first, second] = __kiln_values; });$2');
    expect(code).toBe(lifted);
    expect(jit.toCode((x: Tensor) => (x.sum().gt(0) ? x : x.neg()))).toBe('(x) => __kiln.cond(x.sum().gt(0), __kiln_sites[0]) ? x : x.neg()');
  });

  it('explains what it cannot show', () => {
    expect(() => jit.toCode(Math.max)).toThrow(/jit.toCode: the source of max is not available/);
    expect(() => jit.toCode(42 as unknown as () => void)).toThrow('jit.toCode: expects a function (got number)');
  });
});

describe('jit(fn, { rewrite: true })', () => {
  it('compiles a self-contained function rewritten: the seed loop is lifted, one variant for every trip count', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const f = jit(seedLoop, { rewrite: true });
    expect(f.name).toBe('seedLoop');
    const pairs: [number, number][] = [[0, 10], [0, 10], [1, 11], [3, 5]];
    const values = pairs.map(([a, b]) => f(tensor([a]), tensor([b])).map((t) => t.item()));
    expect(values).toEqual([[20, 20], [20, 20], [21, 21], [7, 7]]);
    expect(f.stats).toMatchObject({ traces: 2, replays: 2, fallbacks: 0, variants: 1 });
    const explained = f.explain(tensor([0]), tensor([10])).variants;
    expect(explained.flatMap((v) => v.guards)).toEqual([]);
    expect(explained[0]!.controlFlow).toEqual([`loop at ${siteIn(seedLoop, 'first < second')}: lifted into one loop node (2 loop variables, 0 loop-invariant tensors; traced with 10 iterations)`]);
    expect(warn).not.toHaveBeenCalled();
  });

  it('without loop lifting, each evaluation of the condition is a guard: a pair with as many iterations replays', () => {
    const f = jit(seedLoop, { rewrite: true, liftLoops: false });
    const pairs: [number, number][] = [[0, 10], [0, 10], [1, 11], [3, 5]];
    expect(pairs.map(([a, b]) => f(tensor([a]), tensor([b])).map((t) => t.item()))).toEqual([[20, 20], [20, 20], [21, 21], [7, 7]]);
    expect(f.stats).toMatchObject({ traces: 3, replays: 1, fallbacks: 1, variants: 2 });
    const sites = new Set(f.explain(tensor([0]), tensor([10])).variants.flatMap((v) => v.guards.map((g) => g.site)));
    expect([...sites]).toEqual([siteIn(seedLoop, 'first < second')]);
  });

  it('gives a tensor condition its meaning in a method taken from an object', () => {
    const obj = { flip(x: Tensor): Tensor { return x.sum().gt(0) ? x : x.neg(); } };
    // As written, `x.sum().gt(0)` is an object: always true.
    expect(Array.from(jit(obj.flip)(tensor([-1, -2])).data())).toEqual([-1, -2]);
    expect(Array.from(jit(obj.flip, { rewrite: true })(tensor([-1, -2])).data())).toEqual([1, 2]);
  });

  it('leaves a function that reads its closure as written, with one warning naming its conditions', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const limit = tensor([0]);
    const body = (x: Tensor) => (x.sum().gt(limit) ? x : x.neg());
    const f = jit(body, { rewrite: true });
    jit(body, { rewrite: true });
    expect(Array.from(f(tensor([-1, -2])).data())).toEqual([-1, -2]);
    expect(warn).toHaveBeenCalledTimes(1);
    const message = String(warn.mock.calls[0]![0]);
    expect(message).toMatch(/jit\(body\) at \S*rewrite\.test\.ts:\d+:\d+: its conditions run as plain JavaScript/);
    expect(message).toContain('`x.sum().gt(limit)` (?:, line 1 of the function): always true (a tensor object is truthy)');
    expect(message).toContain('it reads limit from its surroundings');
    expect(message).toContain('kiln/vite');
  });

  it('leaves an arrow that uses this from outside, with a warning', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const holder = {
      scale: 2,
      make() {
        return (x: Tensor) => (x.sum().gt(0) ? x.mul(this.scale) : x);
      },
    };
    const arrow = holder.make();
    const f = jit(arrow, { rewrite: true });
    expect(Array.from(f(tensor([1])).data())).toEqual([2]);
    expect(String(warn.mock.calls[0]![0])).toContain('it takes this from its surroundings');
  });

  it('does nothing, silently, when there is nothing to rewrite or it was rewritten already', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const plain = (x: Tensor) => x.add(1);
    const built = new Function('__kiln', '__kiln_sites', 'return (x) => __kiln.cond(x, __kiln_sites[0]) ? 1 : 2')({ cond: (v: unknown) => v }, ['a.ts:1:1']) as (x: unknown) => number;
    expect(jit(plain, { rewrite: true })(tensor([1])).item()).toBe(2);
    expect(jit(built, { rewrite: true })(0)).toBe(2);
    expect(jit(Math.abs, { rewrite: true })(-3)).toBe(3);
    expect(warn).not.toHaveBeenCalled();
  });
});
