/** Dead code elimination on text graphs. */
import { describe, expect, it } from 'vitest';
import { parseGraph, printGraphExact } from '../../../compiler/ir/text.js';
import { verifyGraph } from '../../../compiler/ir/verify.js';
import { dce } from '../../../compiler/passes/dce.js';
import { withSeed } from '../../src/random-inputs.js';
import { ir } from '../graph-builder.js';
import { checkPass } from './random-graph.js';
import { runWith } from './run-graph.js';

const A0 = '%0 = input() {source={kind: "arg", slot: 0}} : float32[3]';
const A1 = '%1 = input() {source={kind: "arg", slot: 1}} : float32[3]';

describe('dce', () => {
  it('removes unused values, dead chains and unused draws, and keeps inputs, effects and outputs', () => {
    const g = parseGraph(`
      ${A0}
      ${A1}
      %2 = exp(%0) : float32[3]
      %3 = neg(%2) : float32[3]
      %4 = log(%3) : float32[3]
      %5 = add(%0, %0) : float32[3]
      %6 = random() {shape=[3], offset=0} : float32[3]
      %7 = sum(%5) {axes=[0]} : float32[]
      observe(%7) {guard=0, expected=[1], site="s", how="item()", gradNull=false}
      %9 = constant() {value=2} : float32[]
      %10 = mul(%0, %0) : float32[3]
    `);
    const r = dce(g, { outputs: new Set([10]) });
    expect(printGraphExact(r.graph)).toBe(ir(`
      ${A0}
      ${A1}
      %2 = add(%0, %0) : float32[3]
      %3 = sum(%2) {axes=[0]} : float32[]
      observe(%3) {guard=0, expected=[1], site="s", how="item()", gradNull=false}
      %5 = mul(%0, %0) : float32[3]
    `));
    expect(r.remap).toEqual([0, 1, -1, -1, -1, 2, -1, 3, 4, -1, 5]);
    expect(r.changes).toEqual([
      'removed %2 = exp(%0): its value is unused',
      'removed %3 = neg(%2): its value is unused',
      'removed %4 = log(%3): its value is unused',
      'removed %6 = random(): its value is unused',
      'removed %9 = constant(): its value is unused',
    ]);
    verifyGraph(r.graph);
    expect(runWith(r.graph, [[1, -0, NaN], [0, 0, 0]], [5])).toEqual(runWith(g, [[1, -0, NaN], [0, 0, 0]], [10]));
  });

  it('keeps what writes and gradient assignments read, even when nothing reads it afterwards', () => {
    const text = ir(`
      ${A0}
      %1 = copy(%0) : float32[3]
      %2 = exp(%0) : float32[3]
      write(%1, %2)
      %4 = neg(%0) : float32[3]
      setGrad(%0, %4)
      setGrad(%1)
    `);
    const r = dce(parseGraph(text), { outputs: new Set() });
    expect(printGraphExact(r.graph)).toBe(text);
    expect(r.changes).toEqual([]);
  });

  it('keeps the node a gradient input belongs to and renumbers the reference', () => {
    const g = parseGraph(`
      %0 = input() {source={kind: "arg", slot: 0}} : float32[2]
      %1 = exp(%0) : float32[2]
      %2 = neg(%0) : float32[2]
      %3 = input() {source={kind: "grad", of: 2}} : float32[2]
      %4 = add(%3, %3) : float32[2]
    `);
    const r = dce(g, { outputs: new Set([4]) });
    expect(printGraphExact(r.graph)).toBe(ir(`
      %0 = input() {source={kind: "arg", slot: 0}} : float32[2]
      %1 = neg(%0) : float32[2]
      %2 = input() {source={kind: "grad", of: 1}} : float32[2]
      %3 = add(%2, %2) : float32[2]
    `));
    verifyGraph(r.graph);
  });

  it('never removes an input node, used or not: replay binds arguments by position', () => {
    const g = parseGraph(`${A0}\n${A1}\n%2 = input() {source={kind: "capture", slot: 0}} : float32[]`);
    expect(dce(g, { outputs: new Set() }).graph).toEqual(g);
  });

  it('leaves its input graph as it was', () => {
    const text = `${A0}\n%1 = exp(%0) : float32[3]\n%2 = input() {source={kind: "grad", of: 0}} : float32[3]`;
    const g = parseGraph(text);
    dce(g, { outputs: new Set() });
    expect(printGraphExact(g)).toBe(text);
    expect(dce({ nodes: [] }, { outputs: new Set() })).toEqual({ graph: { nodes: [] }, changes: [], remap: [] });
  });
});

describe('dce on random graphs', () => {
  // Hundreds of graphs run through the reference evaluator: seconds on a loaded 2-core CI machine.
  it('keeps every result, guard read, write and gradient bit for bit', () => {
    withSeed('dce keeps results', (next) => {
      let changed = 0;
      for (let k = 0; k < 400; k++) changed += checkPass(dce, next);
      // The graphs are built to have something to rewrite; a pass that never fires proves nothing.
      expect(changed).toBeGreaterThan(100);
    });
  }, 60_000);
});
