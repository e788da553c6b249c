/** A ReLU's mask read back from its output, on text graphs: the same bits, no stored mask. */
import { describe, expect, it } from 'vitest';
import { parseGraph, printGraphExact } from '../../../compiler/ir/text.js';
import { verifyGraph } from '../../../compiler/ir/verify.js';
import { reluMasks } from '../../../compiler/passes/relu-masks.js';
import { ir } from '../graph-builder.js';
import { runWith } from './run-graph.js';

const A0 = '%0 = input() {source={kind: "arg", slot: 0}} : float32[4]';
const A1 = '%1 = input() {source={kind: "arg", slot: 1}} : float32[4]';
const VALUES = [[-1, -0, NaN, 2], [5, 6, 7, 8]];

describe('reluMasks', () => {
  it("computes the backward's mask from the ReLU's output, just before it is read", () => {
    const g = parseGraph(`
      ${A0}
      ${A1}
      %2 = constant() {value=0} : float32[]
      %3 = expand(%2) {shape=[4]} : float32[4]
      %4 = le(%0, %3) : bool[4]
      %5 = where(%4, %3, %0) : float32[4]
      %6 = exp(%5) : float32[4]
      %7 = where(%4, %3, %1) : float32[4]
      %8 = where(%4, %1, %3) : float32[4]
    `);
    const r = reluMasks(g, { outputs: new Set([6, 7, 8]) });
    expect(printGraphExact(r.graph)).toBe(ir(`
      ${A0}
      ${A1}
      %2 = constant() {value=0} : float32[]
      %3 = expand(%2) {shape=[4]} : float32[4]
      %4 = le(%0, %3) : bool[4]
      %5 = where(%4, %3, %0) : float32[4]
      %6 = exp(%5) : float32[4]
      %7 = le(%5, %3) : bool[4]
      %8 = where(%7, %3, %1) : float32[4]
      %9 = where(%7, %1, %3) : float32[4]
    `));
    expect(r.changes).toEqual(['%4 = le(%0, %3) is read at %7 as %5 <= %3: no mask is stored for it']);
    verifyGraph(r.graph);
    // -0, NaN and a positive value included: the read-back mask is the ReLU's, bit for bit.
    expect(runWith(r.graph, VALUES, [6, 8, 9])).toEqual(runWith(g, VALUES, [6, 7, 8]));
  });

  it('keeps the mask where zero may be NaN, the output is written, or the where is not a ReLU', () => {
    const text = ir(`
      ${A0}
      ${A1}
      %2 = input() {source={kind: "capture", slot: 0}} : float32[4]
      %3 = le(%0, %2) : bool[4]
      %4 = where(%3, %2, %0) : float32[4]
      %5 = where(%3, %2, %1) : float32[4]
      %6 = constant() {value=0} : float32[4]
      %7 = le(%1, %6) : bool[4]
      %8 = where(%7, %6, %1) : float32[4]
      write(%8, %0)
      %10 = where(%7, %6, %0) : float32[4]
      %11 = le(%0, %6) : bool[4]
      %12 = where(%11, %0, %6) : float32[4]
      %13 = neg(%11) : bool[4]
    `);
    const r = reluMasks(parseGraph(text), { outputs: new Set([4, 5, 10, 12, 13]) });
    expect(printGraphExact(r.graph)).toBe(text);
    expect(r.changes).toEqual([]);
  });
});
