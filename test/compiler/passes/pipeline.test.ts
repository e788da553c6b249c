/** The pass pipeline: order, verification after each pass, reports, renumbered outputs; random and recorded graphs before and after. */
import { describe, expect, it } from 'vitest';
import type { Graph } from '../../../compiler/ir/graph.js';
import { parseGraph, printGraphExact } from '../../../compiler/ir/text.js';
import { GraphVerifyError, verifyGraph } from '../../../compiler/ir/verify.js';
import type { Pass, PassResult } from '../../../compiler/passes/pass.js';
import { defaultPasses, runPasses, type NamedPass } from '../../../compiler/passes/pipeline.js';
import { InternalError } from '../../../runtime/errors.js';
import { withSeed } from '../../src/random-inputs.js';
import { recordedGraphs } from '../recorded-graphs.js';
import { checkPass } from './random-graph.js';
import { dense, runGraph, type Inputs } from './run-graph.js';
import type { Recorded } from '../recorded-graphs.js';

const pipeline: Pass = (g, info) => {
  const r = runPasses(g, defaultPasses, info, { verify: true });
  return { graph: r.graph, changes: r.reports.flatMap((p) => p.changes.map((c) => `${p.pass}: ${c}`)), remap: r.remap };
};

describe('the default pipeline keeps results bit for bit on random graphs', () => {
  // Hundreds of graphs run through the reference evaluator: seconds on a loaded 2-core CI machine.
  it('over 400 graphs', () => {
    withSeed('the default pipeline keeps results', (next) => {
      let changed = 0;
      for (let k = 0; k < 400; k++) changed += checkPass(pipeline, next);
      expect(changed).toBeGreaterThan(400);
    });
  }, 60_000);
});

/** Input memory for running `g` (recorded as `r`, perhaps optimized since): the recorded tensors' current values, fresh for each run. */
function recordedInputs(r: Recorded, g: Graph): Inputs {
  const made = new Map<string, ReturnType<typeof dense>>();
  return (source, node) => {
    // Gradient inputs are numbered by the node they belong to, which passes renumber; their order is kept.
    const key = source.kind === 'grad' ? `grad ${g.nodes.slice(0, node).filter((n) => n.op === 'input').length}` : `${source.kind} ${source.slot}`;
    let x = made.get(key);
    if (x === undefined) {
      const n = g.nodes[node]!;
      const t = source.kind === 'arg' ? r.args[source.slot]! : source.kind === 'capture' ? r.trace.captures[source.slot]! : undefined;
      const values = t !== undefined ? t.contiguous().data() : Array.from({ length: n.shape.reduce((a, b) => a * b, 1) }, (_, i) => (i % 7) - 3.5);
      made.set(key, (x = dense(n.dtype, n.shape, values)));
    }
    return x;
  };
}

describe('the default pipeline on graphs recorded from kiln functions', () => {
  const recorded = recordedGraphs();

  it.each(recorded.map((r) => [r.name, r] as const))('%s: valid after every pass, results unchanged', (_, r) => {
    const before = runGraph(r.graph, recordedInputs(r, r.graph), r.outputs);
    const text = printGraphExact(r.graph);
    const result = runPasses(r.graph, defaultPasses, { outputs: new Set(r.outputs) }, { verify: true });
    expect(printGraphExact(r.graph)).toBe(text);
    const outputs = r.outputs.map((o) => result.remap[o]!);
    expect([...result.outputs].sort((a, b) => a - b)).toEqual([...new Set(outputs)].sort((a, b) => a - b));
    // Input nodes keep their order, so the renumbered graph binds the same tensors.
    const inputsOf = (g: Graph) => g.nodes.flatMap((n) => (n.op === 'input' ? [JSON.stringify(n.params)] : []));
    expect(inputsOf(result.graph).length).toBe(inputsOf(r.graph).length);
    const after = runGraph(result.graph, recordedInputs(r, result.graph), outputs);
    expect(after).toEqual(before);
    expect(result.graph.nodes.length).toBeLessThanOrEqual(r.graph.nodes.length);
  });

  it('shrinks a training step: repeated constants merge, x * 1 and dead nodes go', () => {
    const r = recorded.find((x) => x.name === 'training step, Adam')!;
    const result = runPasses(r.graph, defaultPasses, { outputs: new Set(r.outputs) }, { verify: true });
    const [simplified, merged, removed] = result.reports;
    expect(result.reports.map((p) => p.pass)).toEqual(['simplify', 'cse', 'dce', 'elide-copies', 'relu-masks']);
    expect(simplified!.changes.some((c) => c.includes('x * 1 = x') || c.includes('1 * x = x'))).toBe(true);
    expect(merged!.changes.filter((c) => c.includes('the same constant')).length).toBeGreaterThan(10);
    expect(removed!.changes.length).toBeGreaterThan(0);
    expect(result.graph.nodes.length).toBeLessThan(r.graph.nodes.length - 30);
  });
});

describe('runPasses', () => {
  const text = `
    %0 = input() {source={kind: "arg", slot: 0}} : float32[3]
    %1 = constant() {value=1} : float32[]
    %2 = expand(%1) {shape=[3]} : float32[3]
    %3 = mul(%0, %2) : float32[3]
    %4 = exp(%3) : float32[3]
    %5 = exp(%0) : float32[3]
    %6 = add(%4, %5) : float32[3]
  `;

  it('applies passes in order, collects their reports (numbered as each pass saw the graph) and renumbers the outputs', () => {
    const g = parseGraph(text);
    const r = runPasses(g, defaultPasses, { outputs: new Set([6]) }, { verify: true });
    expect(printGraphExact(r.graph)).toBe([
      '%0 = input() {source={kind: "arg", slot: 0}} : float32[3]',
      '%1 = exp(%0) : float32[3]',
      '%2 = add(%1, %1) : float32[3]',
    ].join('\n'));
    expect(r.reports).toEqual([
      { pass: 'simplify', changes: ['%3 = mul(%0, %2) is %0: x * 1 = x'] },
      { pass: 'cse', changes: ['%4 = exp(%0) is %3: the same exp of the same operands'] },
      { pass: 'dce', changes: ['removed %1 = constant(): its value is unused', 'removed %2 = expand(%1): its value is unused'] },
      { pass: 'elide-copies', changes: [] },
      { pass: 'relu-masks', changes: [] },
    ]);
    expect(r.remap).toEqual([0, -1, -1, 0, 1, 1, 2]);
    expect([...r.outputs]).toEqual([2]);
  });

  it('runs user passes alongside the built-in ones', () => {
    const seen: number[] = [];
    const count: NamedPass = { name: 'count', run: (g) => (seen.push(g.nodes.length), { graph: g, changes: [], remap: g.nodes.map((_, i) => i) }) };
    const r = runPasses(parseGraph(text), [count, ...defaultPasses, count], { outputs: new Set([6]) }, { verify: true });
    expect(seen).toEqual([7, 3]);
    expect(r.reports.map((p) => p.pass))
      .toEqual(['count', 'simplify', 'cse', 'dce', 'elide-copies', 'relu-masks', 'count']);
  });

  /** A pass that swaps the operands' order in the node list, so %3 reads a later node. */
  const breaking: NamedPass = {
    name: 'breaking',
    run: (g): PassResult => {
      const nodes = g.nodes.map((n) => ({ ...n, inputs: n.op === 'mul' ? [n.inputs[0]!, 6] : n.inputs }));
      return { graph: { nodes }, changes: ['broke it'], remap: g.nodes.map((_, i) => i) };
    },
  };

  it('verifies after each pass and names the pass that broke the graph', () => {
    const run = () => runPasses(parseGraph(text), [breaking], { outputs: new Set([6]) }, { verify: true });
    expect(run).toThrow(GraphVerifyError);
    expect(run).toThrow('internal: verifyGraph: node %3 (mul(%0, %6)): operand %6 is not an earlier node (operands must be defined before they are used) (after pass breaking)');
  });

  it('verifies the input graph first, so a broken input is not blamed on a pass', () => {
    const bad = parseGraph(text.replace('%4 = exp(%3) : float32[3]', '%4 = exp(%3) : float32[4]'));
    expect(() => runPasses(bad, defaultPasses, { outputs: new Set([6]) }, { verify: true })).toThrow(/node %4 .*\(in the input graph, before any pass\)$/);
  });

  it('skips verification unless asked', () => {
    const r = runPasses(parseGraph(text), [breaking], { outputs: new Set([6]) });
    expect(() => verifyGraph(r.graph)).toThrow(GraphVerifyError);
  });

  it('rejects a pass that removes an output or returns a malformed remap', () => {
    const dropAll: NamedPass = { name: 'drop', run: (g) => ({ graph: { nodes: [] }, changes: [], remap: g.nodes.map(() => -1) }) };
    expect(() => runPasses(parseGraph(text), [dropAll], { outputs: new Set([6]) })).toThrow(InternalError);
    expect(() => runPasses(parseGraph(text), [dropAll], { outputs: new Set([6]) })).toThrow('internal: pass drop removed %6, an output');
    const short: NamedPass = { name: 'short', run: (g) => ({ graph: g, changes: [], remap: [0] }) };
    expect(() => runPasses(parseGraph(text), [short], { outputs: new Set() })).toThrow('internal: pass short: its remap must give every old node a new index or -1');
  });
});
