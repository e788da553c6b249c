/** Common subexpression elimination on text graphs, and the merges it must refuse. */
import { describe, expect, it } from 'vitest';
import type { Graph } from '../../../compiler/ir/graph.js';
import { parseGraph, printGraphExact } from '../../../compiler/ir/text.js';
import { verifyGraph } from '../../../compiler/ir/verify.js';
import { cse } from '../../../compiler/passes/cse.js';
import { withSeed } from '../../src/random-inputs.js';
import { ir } from '../graph-builder.js';
import { checkPass } from './random-graph.js';
import { dense, runGraph, runWith } from './run-graph.js';

const A0 = '%0 = input() {source={kind: "arg", slot: 0}} : float32[3]';
const A1 = '%1 = input() {source={kind: "arg", slot: 1}} : float32[3]';

/** Runs cse with `outputs` and returns the printed result. */
function merged(text: string, outputs: number[] = []): string {
  const r = cse(parseGraph(text), { outputs: new Set(outputs) });
  verifyGraph(r.graph);
  return printGraphExact(r.graph);
}

describe('cse', () => {
  it('merges a repeated computation and reports it', () => {
    const g = parseGraph(`
      ${A0}
      ${A1}
      %2 = mul(%0, %1) : float32[3]
      %3 = mul(%0, %1) : float32[3]
      %4 = add(%2, %3) : float32[3]
    `);
    const r = cse(g, { outputs: new Set([4]) });
    expect(printGraphExact(r.graph)).toBe(ir(`
      ${A0}
      ${A1}
      %2 = mul(%0, %1) : float32[3]
      %3 = add(%2, %2) : float32[3]
    `));
    expect(r.remap).toEqual([0, 1, 2, 2, 3]);
    expect(r.changes).toEqual(['%3 = mul(%0, %1) is %2: the same mul of the same operands']);
  });

  it('merges chains in one sweep: once operands are merged, their users are equal too', () => {
    expect(merged(`
      ${A0}
      %1 = permute(%0) {perm=[0]} : float32[3]
      %2 = permute(%0) {perm=[0]} : float32[3]
      %3 = exp(%1) : float32[3]
      %4 = exp(%2) : float32[3]
      %5 = sub(%3, %4) : float32[3]
    `, [5])).toBe(ir(`
      ${A0}
      %1 = permute(%0) {perm=[0]} : float32[3]
      %2 = exp(%1) : float32[3]
      %3 = sub(%2, %2) : float32[3]
    `));
  });

  it('does not merge different operands, operand orders, parameters or dtypes', () => {
    const text = ir(`
      ${A0}
      ${A1}
      %2 = sub(%0, %1) : float32[3]
      %3 = sub(%1, %0) : float32[3]
      %4 = sum(%0) {axes=[0]} : float32[]
      %5 = sum(%0) {axes=[]} : float32[3]
      %6 = cast(%0) {dtype="float64"} : float64[3]
      %7 = cast(%0) {dtype="int32"} : int32[3]
    `);
    expect(merged(text)).toBe(text);
  });

  it('treats constants with equal parameters as equal, telling -0 from 0 and comparing data', () => {
    expect(merged(`
      %0 = constant() {value=NaN} : float32[]
      %1 = constant() {value=NaN} : float32[]
      %2 = constant() {value=-0} : float32[]
      %3 = constant() {value=0} : float32[]
      %4 = constant() {value=0} : float64[]
      %5 = constant() {numberSlot=0} : float32[]
      %6 = constant() {numberSlot=0} : float32[]
      %7 = constant() {data=[1,2]} : float32[2]
      %8 = constant() {data=[1,2]} : float32[2]
      %9 = constant() {data=[1,3]} : float32[2]
      %10 = add(%0, %1) : float32[]
      %11 = add(%2, %3) : float32[]
      %12 = add(%5, %6) : float32[]
      %13 = add(%7, %8) : float32[2]
    `)).toBe(ir(`
      %0 = constant() {value=NaN} : float32[]
      %1 = constant() {value=-0} : float32[]
      %2 = constant() {value=0} : float32[]
      %3 = constant() {value=0} : float64[]
      %4 = constant() {numberSlot=0} : float32[]
      %5 = constant() {data=[1,2]} : float32[2]
      %6 = constant() {data=[1,3]} : float32[2]
      %7 = add(%0, %0) : float32[]
      %8 = add(%1, %2) : float32[]
      %9 = add(%4, %4) : float32[]
      %10 = add(%5, %5) : float32[2]
    `));
  });

  it('never merges random draws, inputs or effects', () => {
    const text = ir(`
      ${A0}
      %1 = input() {source={kind: "arg", slot: 1}} : float32[3]
      %2 = random() {shape=[3], offset=0} : float32[3]
      %3 = random() {shape=[3], offset=0} : float32[3]
      observe(%0) {guard=0, expected=[1,2,3], site="s", how="h", gradNull=false}
      observe(%0) {guard=1, expected=[1,2,3], site="s", how="h", gradNull=false}
      write(%1, %2)
      write(%1, %2)
    `);
    expect(merged(text)).toBe(text);
  });

  it('does not merge across a write into an operand: the second read sees the written values', () => {
    const text = ir(`
      ${A0}
      ${A1}
      %2 = neg(%0) : float32[3]
      write(%0, %1)
      %4 = neg(%0) : float32[3]
      %5 = sub(%2, %4) : float32[3]
    `);
    expect(merged(text, [5])).toBe(text);
    // Merged anyway, the result would be all zeros.
    const wrong = parseGraph(text.replace('%5 = sub(%2, %4)', '%5 = sub(%2, %2)'));
    const args = [[1, 2, 3], [0, 0, 0]];
    expect(runWith(parseGraph(text), args, [5]).outputs).toEqual([['-1', '-2', '-3']]);
    expect(runWith(wrong, args, [5]).outputs).toEqual([['0', '0', '0']]);
  });

  it('does not merge across a write into another input either: arguments may share memory', () => {
    const text = ir(`
      ${A0}
      ${A1}
      %2 = exp(%0) : float32[3]
      %3 = constant() {value=5} : float32[]
      %4 = expand(%3) {shape=[3]} : float32[3]
      write(%1, %4)
      %6 = exp(%0) : float32[3]
      %7 = div(%6, %2) : float32[3]
    `);
    expect(merged(text, [7])).toBe(text);
    // f(x, x): writing argument 1 writes argument 0.
    const same = (g: Graph) => {
      const x = dense('float32', [3], [0, 0, 0]);
      return runGraph(g, () => x, [7]).outputs;
    };
    expect(same(parseGraph(text))).toEqual([[String(Math.fround(Math.exp(5))), String(Math.fround(Math.exp(5))), String(Math.fround(Math.exp(5)))]]);
    expect(same(parseGraph(text.replace('%7 = div(%6, %2)', '%7 = div(%2, %2)')))).toEqual([['1', '1', '1']]);
  });

  it('merges across a write into unrelated memory', () => {
    expect(merged(`
      ${A0}
      ${A1}
      %2 = exp(%0) : float32[3]
      %3 = copy(%0) : float32[3]
      write(%3, %1)
      %5 = exp(%0) : float32[3]
      %6 = add(%2, %5) : float32[3]
    `, [6])).toBe(ir(`
      ${A0}
      ${A1}
      %2 = exp(%0) : float32[3]
      %3 = copy(%0) : float32[3]
      write(%3, %1)
      %5 = add(%2, %2) : float32[3]
    `));
  });

  it('does not merge a node that is written in place: the write would reach the other node\'s readers', () => {
    const text = ir(`
      ${A0}
      ${A1}
      %2 = add(%0, %1) : float32[3]
      %3 = add(%0, %1) : float32[3]
      write(%2, %0)
      %5 = sub(%3, %2) : float32[3]
    `);
    expect(merged(text, [5])).toBe(text);
    const args = [[1, 2, 3], [10, 10, 10]];
    expect(runWith(parseGraph(text), args, [5]).outputs).toEqual([['10', '10', '10']]);
    expect(runWith(parseGraph(text.replace('%5 = sub(%3, %2)', '%5 = sub(%2, %2)')), args, [5]).outputs).toEqual([['0', '0', '0']]);
  });

  it('does not merge two results the caller receives: writing into one would change the other', () => {
    const text = ir(`
      ${A0}
      %1 = exp(%0) : float32[3]
      %2 = exp(%0) : float32[3]
    `);
    expect(merged(text, [1, 2])).toBe(text);
    // One escaping node may take the other's place: the internal one's readers are done by then.
    expect(merged(`${text}\n%3 = neg(%2) : float32[3]`, [1, 3])).toBe(ir(`
      ${A0}
      %1 = exp(%0) : float32[3]
      %2 = neg(%1) : float32[3]
    `));
    // A gradient assignment hands its tensor out just as an output does.
    const grads = ir(`
      ${A0}
      %1 = exp(%0) : float32[3]
      %2 = exp(%0) : float32[3]
      setGrad(%0, %2)
    `);
    expect(merged(grads, [1])).toBe(grads);
  });

  it('leaves its input graph as it was', () => {
    const text = ir(`${A0}\n%1 = exp(%0) : float32[3]\n%2 = exp(%0) : float32[3]`);
    const g = parseGraph(text);
    cse(g, { outputs: new Set() });
    expect(printGraphExact(g)).toBe(text);
  });
});

describe('cse on random graphs', () => {
  // Hundreds of graphs run through the reference evaluator: seconds on a loaded 2-core CI machine.
  it('keeps every result, guard read, write and gradient bit for bit', () => {
    withSeed('cse keeps results', (next) => {
      let changed = 0;
      for (let k = 0; k < 400; k++) changed += checkPass(cse, next);
      // The graphs are built to have something to rewrite; a pass that never fires proves nothing.
      expect(changed).toBeGreaterThan(100);
    });
  }, 60_000);
});
