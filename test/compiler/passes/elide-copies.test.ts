/** Copy elision on text graphs: a copy goes only where its operand has no other reader. */
import { describe, expect, it } from 'vitest';
import { parseGraph, printGraphExact } from '../../../compiler/ir/text.js';
import { verifyGraph } from '../../../compiler/ir/verify.js';
import { elideCopies } from '../../../compiler/passes/elide-copies.js';
import { withSeed } from '../../src/random-inputs.js';
import { ir } from '../graph-builder.js';
import { checkPass } from './random-graph.js';
import { runWith } from './run-graph.js';

const A0 = '%0 = input() {source={kind: "arg", slot: 0}} : float32[3]';
const P = '%1 = input() {source={kind: "capture", slot: 0}} : float32[3]';

describe('elideCopies', () => {
  it("drops the copy of a gradient nothing else reads: the value takes the copy's place", () => {
    const g = parseGraph(`
      ${A0}
      ${P}
      %2 = mul(%0, %1) : float32[3]
      %3 = copy(%2) : float32[3]
      setGrad(%1, %3)
      %5 = exp(%0) : float32[3]
      %6 = copy(%5) : float32[3]
      %7 = neg(%6) : float32[3]
    `);
    const r = elideCopies(g, { outputs: new Set([7]) });
    expect(printGraphExact(r.graph)).toBe(ir(`
      ${A0}
      ${P}
      %2 = mul(%0, %1) : float32[3]
      setGrad(%1, %2)
      %4 = exp(%0) : float32[3]
      %5 = neg(%4) : float32[3]
    `));
    expect(r.remap).toEqual([0, 1, 2, 2, 3, 4, 4, 5]);
    expect(r.changes).toEqual([
      "removed %3 = copy(%2): %2 is read by nothing else, so it takes the copy's place",
      "removed %6 = copy(%5): %5 is read by nothing else, so it takes the copy's place",
    ]);
    verifyGraph(r.graph);
    expect(runWith(r.graph, [[1, -0, NaN], [2, 3, 4]], [5])).toEqual(runWith(g, [[1, -0, NaN], [2, 3, 4]], [7]));
  });

  it('keeps copies of inputs, constants, views, shared or escaping values, written values and moves', () => {
    const text = ir(`
      ${A0}
      ${P}
      %2 = copy(%0) : float32[3]
      %3 = constant() {value=2} : float32[3]
      %4 = copy(%3) : float32[3]
      %5 = reshape(%0) {shape=[3]} : float32[3]
      %6 = copy(%5) : float32[3]
      %7 = exp(%0) : float32[3]
      %8 = copy(%7) : float32[3]
      %9 = neg(%7) : float32[3]
      %10 = log(%0) : float32[3]
      %11 = copy(%10) : float32[3]
      %12 = sin(%0) : float32[3]
      write(%12, %0)
      %14 = copy(%12) : float32[3]
      %15 = cos(%0) : float32[3]
      %16 = copy(%15) {device="webgpu"} : float32[3]
      %17 = add(%2, %4) : float32[3]
    `);
    const r = elideCopies(parseGraph(text), { outputs: new Set([6, 8, 9, 10, 11, 14, 16, 17]) });
    expect(printGraphExact(r.graph)).toBe(text);
    expect(r.changes).toEqual([]);
  });
});

describe('elideCopies on random graphs', () => {
  it('keeps every result, guard read, write and gradient bit for bit', () => {
    withSeed('elideCopies keeps results', (next) => {
      let changed = 0;
      for (let k = 0; k < 300; k++) changed += checkPass(elideCopies, next);
      expect(changed).toBeGreaterThan(5);
    });
  }, 60_000);
});
