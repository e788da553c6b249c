/**
 * The pass API as a user meets it: examples/custom-pass.ts written against the exported
 * types only. Its fold takes effect under jit, declines next to an in-place write (where a
 * fold that ignores the memory facts changes the result), and a broken pass is named by
 * the verifier.
 */
import { describe, expect, it } from 'vitest';
import {
  GraphVerifyError,
  Rebuilder,
  defaultPasses,
  evaluateGraph,
  jit,
  parseGraph,
  printGraph,
  printGraphExact,
  tensor,
  trace,
  type Pass,
  type Tensor,
} from '../../../src/node.js';
import { foldDoubleNeg, scaled, withFold, writesBetweenNegs } from '../../../examples/custom-pass.js';
import { expectSameTensor } from './compare.js';

/** The same fold without asking the memory facts. */
const naiveFold: Pass = (g) => {
  const b = new Rebuilder(g);
  g.nodes.forEach((n, i) => {
    const inner = n.op === 'neg' ? g.nodes[n.inputs[0]!]! : undefined;
    if (inner?.op === 'neg') b.remap[i] = b.remap[inner.inputs[0]!]!;
    else b.keep(i);
  });
  return b.result(['folded']);
};

describe('a custom pass from the README', { timeout: 60_000 }, () => {
  it('folds neg(neg(x)) under jit, bit for bit, and explain shows it', () => {
    const f = jit(scaled, { passes: withFold });
    const x = tensor([1.5, -2, 0, -0]);
    for (let i = 0; i < 3; i++) expectSameTensor(f(x), scaled(x), `call ${i + 1}`);
    expect(f.stats.replays).toBe(1);
    const e = f.explain(x);
    expect(e.sections.passes).toMatch(/pass fold-double-neg: %2 = neg\(%1\) of %1 = neg\(%0\) is %0/);
    expect(e.variants[0]!.optimized).not.toContain('neg(');
  });

  it('declines next to an in-place write, where the naive fold changes the result', () => {
    const t = trace(writesBetweenNegs, tensor([1, 2, 3]));
    const outputs = new Set(t.outputs);
    expect(foldDoubleNeg(t.graph, { outputs }).graph.nodes.length).toBe(t.graph.nodes.length);
    const naive = naiveFold(t.graph, { outputs });
    const original = evaluateGraph(t.graph, { args: [tensor([1, 2, 3])] }).values[t.outputs[0]!]!;
    const folded = evaluateGraph(naive.graph, { args: [tensor([1, 2, 3])] }).values[naive.remap[t.outputs[0]!]!]!;
    expect(Array.from(original.data())).toEqual([2, 4, 6]);
    expect(Array.from(folded.data())).toEqual([4, 6, 8]);
    const g = jit(writesBetweenNegs, { passes: withFold });
    for (let i = 0; i < 3; i++)
      expectSameTensor(g(tensor([1, 2, 3])), writesBetweenNegs(tensor([1, 2, 3])), `call ${i + 1}`);
  });

  it('a pass that breaks the graph is named by the verifier inside jit', () => {
    const broken: Pass = (g) => {
      const b = new Rebuilder(g);
      g.nodes.forEach((_, i) => b.keep(i));
      // Claims a wrong shape for the last node: replay would read past its buffer.
      const last = b.nodes.at(-1)!;
      b.nodes[b.nodes.length - 1] = { ...last, shape: [...last.shape, 2] };
      return b.result(['reshaped the result']);
    };
    const f = jit((x: Tensor) => x.mul(2).add(1), { passes: [...defaultPasses, { name: 'broken', run: broken }] });
    const x = tensor([1, 2]);
    f(x);
    f(x);
    expect(() => f(x)).toThrow(GraphVerifyError);
    expect(() => f(x)).toThrow(/after pass broken/);
  });

  it('trace, optimize and lower are stages of their own, each printable', () => {
    const f = (x: Tensor) => x.neg().neg().mul(3).add(1).exp().sum(0);
    const x = tensor([
      [1, 2],
      [3, 4],
    ]);
    const t = trace(f, x);
    expect(String(t)).toContain('neg(%1)');
    const opt = t.optimize(withFold);
    expect(opt.reports.map((r) => r.pass))
      .toEqual(['fold-double-neg', 'simplify', 'cse', 'dce', 'elide-copies', 'relu-masks']);
    expect(String(opt)).not.toContain('neg(');
    const lowered = opt.lower();
    const compiled = jit(f, { passes: withFold });
    for (let i = 0; i < 3; i++) compiled(x);
    expect(lowered.kernels.length).toBe(compiled.explain(x).variants[0]!.kernels.length);
    expect(String(lowered)).toMatch(/^\/\/ kernel 1 computes %\d+/);
    expectSameTensor(evaluateGraph(opt.graph, { args: [x] }).values[opt.outputs[0]!]!, f(x));
  });

  it('the printed (readable) form of a lifted loop parses back', () => {
    const seed = jit(
      function seedLoop(a: Tensor, b: Tensor) {
        while (a < b) {
          a = a.add(2);
          b = b.add(1);
        }
        return [a, b];
      },
      { rewrite: true },
    );
    const t = trace(seed, tensor([0]), tensor([10]));
    const readable = printGraph(t.graph);
    expect(readable).toMatch(/\n {2}cond \(continues while %\d+ holds/);
    expect(printGraphExact(parseGraph(readable))).toBe(printGraphExact(t.graph));
    // A mistake inside the loop's body is reported at its line of the whole text.
    const lines = readable.split('\n');
    const bad = lines.findIndex((l) => l.includes('add('));
    lines[bad] = lines[bad]!.replace('add(', 'bogus(');
    expect(() => parseGraph(lines.join('\n'))).toThrow(new RegExp(`line ${bad + 1}, column \\d+: unknown op "bogus"`));
  });

  it('printed graphs parse back exactly, lifted loops and long constants included', () => {
    // Run-time rewriting needs a function that reads only its own variables: the step comes in.
    const seed = jit(
      function seedLoop(a: Tensor, b: Tensor, steps: Tensor) {
        const c = steps.sum();
        while (a < b) {
          a = a.add(c);
          b = b.add(1);
        }
        return [a, b];
      },
      { rewrite: true },
    );
    // The steps are made inside the trace: a constant of 10 elements, past the 8 printGraph shows.
    const t = trace(
      (a: Tensor, b: Tensor) => seed(a, b, tensor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10.5])),
      tensor([0]),
      tensor([30]),
    );
    expect(
      t.graph.nodes.some((n) => n.op === 'constant' && (n.params as { data?: ArrayLike<number> }).data?.length === 10),
    ).toBe(true);
    expect(t.controlFlow.join()).toContain('lifted');
    expect(t.graph.nodes.some((n) => n.op === 'loop')).toBe(true);
    const text = printGraphExact(t.graph);
    expect(printGraphExact(parseGraph(text))).toBe(text);
    expect(String(t)).toBe(text);
    const [a, b] = evaluateGraph(parseGraph(text), { args: [tensor([0]), tensor([30])] }).values.slice(-2) as Tensor[];
    expect([a!.item(), b!.item()]).toEqual([55.5, 31]);
  });
});
