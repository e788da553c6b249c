/** The text form of the graph IR: printGraphExact and parseGraph, and how they relate to printGraph. */
import { describe, expect, it } from 'vitest';
import { jit, nn, optim, randn, tensor, type Tensor } from '../../../src/index.js';
import { printGraph, type Graph } from '../../../compiler/ir/graph.js';
import { primitiveRules } from '../../../compiler/ir/primitives.js';
import { GraphSyntaxError, parseGraph, printGraphExact } from '../../../compiler/ir/text.js';
import { verifyGraph } from '../../../compiler/ir/verify.js';
import { GraphBuilder, everyKind } from '../graph-builder.js';
import { recordedGraphs } from '../recorded-graphs.js';

/** Checks that two graphs are equal with -0 and +0 told apart in every number. */
function expectSameBits(a: Graph, b: Graph): void {
  expect(a).toEqual(b);
  const exact = (v: unknown): string => JSON.stringify(v, (_, x) => (typeof x === 'number' ? (Object.is(x, -0) ? '-0' : String(x)) : ArrayBuffer.isView(x) ? [x.constructor.name, ...Array.from(x as Float64Array, String)] : x));
  expect(exact(a)).toBe(exact(b));
}

describe('printGraphExact and parseGraph', () => {
  it('read back every node kind that printGraph writes, params and 0-d shapes included', () => {
    const g = everyKind();
    verifyGraph(g);
    const covered = new Set(g.nodes.map((n) => n.op));
    for (const op of [...Object.keys(primitiveRules), 'input', 'constant', 'write', 'observe', 'setGrad']) expect(covered, op).toContain(op);
    const text = printGraph(g);
    expect(parseGraph(text)).toEqual(g);
    expect(printGraph(parseGraph(text))).toBe(text);
    // With nothing to shorten, the exact text is printGraph's text.
    expect(printGraphExact(g)).toBe(text);
    expectSameBits(parseGraph(printGraphExact(g)), g);
  });

  it('reads hand-written text: indentation, blank lines and // comments', () => {
    const g = parseGraph(`
      // two inputs and their sum
      %0 = input() {source={kind: "arg", slot: 0}} : float32[]
      %1 = input() {source={kind: "arg", slot: 1}} : float32[]

      %2 = add(%0, %1) : float32[]
      write(%0, %2)
      %4 = reshape(%2) {shape=[1, 1]} : float32[1,1]
    `);
    expect(g).toEqual({
      nodes: [
        { op: 'input', inputs: [], params: { source: { kind: 'arg', slot: 0 } }, shape: [], dtype: 'float32' },
        { op: 'input', inputs: [], params: { source: { kind: 'arg', slot: 1 } }, shape: [], dtype: 'float32' },
        { op: 'add', inputs: [0, 1], params: {}, shape: [], dtype: 'float32' },
        { op: 'write', inputs: [0, 2], params: {}, shape: [], dtype: 'float32' },
        { op: 'reshape', inputs: [2], params: { shape: [1, 1] }, shape: [1, 1], dtype: 'float32' },
      ],
    });
  });

  it('prints numbers so that they parse back to the same float64: NaN, ±Infinity, -0, subnormals, extremes', () => {
    const values = [NaN, Infinity, -Infinity, -0, 0, 5e-324, -5e-324, 1.7976931348623157e308, 0.1, 1 / 3, 2 ** 53 + 2, -1e-7, 1.2345678901234567e21, Math.fround(0.1)];
    const b = new GraphBuilder();
    const x = b.input({ kind: 'arg', slot: 0 }, 'float64', [values.length]);
    b.constant({ data: values }, 'float64', [values.length]);
    b.constant({ data: Float64Array.from(values) }, 'float64', [values.length]);
    b.constant({ value: -0 }, 'float32');
    b.prim('pad', [x], { before: [1], after: [0], value: NaN });
    b.observe(x, 0, values);
    const g = b.graph();
    const text = printGraphExact(g);
    expect(text).toContain('{value=-0}');
    expect(text).toContain('NaN,Infinity,-Infinity,-0,0,5e-324,-5e-324,1.7976931348623157e+308');
    const back = parseGraph(text);
    expectSameBits(back, g);
    const data = (back.nodes[1]!.params as { data: number[] }).data;
    values.forEach((v, k) => expect(Object.is(data[k], v), `value ${k}`).toBe(true));
  });

  it('keeps typed arrays as typed arrays of the same kind', () => {
    const b = new GraphBuilder();
    b.constant({ data: Float32Array.of(0.1, -0, NaN) }, 'float32', [3]);
    b.constant({ data: Int32Array.of(-2147483648, 2147483647) }, 'int32', [2]);
    b.constant({ data: Uint8Array.of(0, 1, 1) }, 'bool', [3]);
    const g = b.graph();
    expect(printGraphExact(g)).toBe([
      '%0 = constant() {data=Float32Array[0.10000000149011612,-0,NaN]} : float32[3]',
      '%1 = constant() {data=Int32Array[-2147483648,2147483647]} : int32[2]',
      '%2 = constant() {data=Uint8Array[0,1,1]} : bool[3]',
    ].join('\n'));
    const back = parseGraph(printGraphExact(g));
    expect((back.nodes[0]!.params as { data: unknown }).data).toBeInstanceOf(Float32Array);
    expect((back.nodes[2]!.params as { data: unknown }).data).toBeInstanceOf(Uint8Array);
    expectSameBits(back, g);
  });

  it('is exact where printGraph is lossy: long arrays, -0 and typed arrays', () => {
    const b = new GraphBuilder();
    b.constant({ data: Float32Array.from({ length: 12 }, (_, k) => k) }, 'float32', [12]);
    b.constant({ value: -0 }, 'float64');
    const g = b.graph();
    expect(printGraph(g)).toBe([
      '%0 = constant() {data=[0,1,2,3,4,5,6,7,…12]} : float32[12]',
      '%1 = constant() {value=0} : float64[]',
    ].join('\n'));
    expect(() => parseGraph(printGraph(g))).toThrow(GraphSyntaxError);
    expect(() => parseGraph(printGraph(g))).toThrow(/^parseGraph: line 1, column 40: printGraph shortened this value; print the graph with printGraphExact/);
    expect(printGraphExact(g)).toBe([
      '%0 = constant() {data=Float32Array[0,1,2,3,4,5,6,7,8,9,10,11]} : float32[12]',
      '%1 = constant() {value=-0} : float64[]',
    ].join('\n'));
    expectSameBits(parseGraph(printGraphExact(g)), g);
  });

  it('prints an effect node\'s metadata only when it is not the usual one', () => {
    const g: Graph = {
      nodes: [
        { op: 'input', inputs: [], params: { source: { kind: 'arg', slot: 0 } }, shape: [2], dtype: 'int32' },
        { op: 'observe', inputs: [0], params: { guard: 0, expected: [1, 2], site: 's', how: 'h', gradNull: false }, shape: [], dtype: 'int32' },
        { op: 'write', inputs: [0, 0], params: {}, shape: [2], dtype: 'float64' },
      ],
    };
    const text = printGraphExact(g);
    expect(text.split('\n').slice(1)).toEqual([
      'observe(%0) {guard=0, expected=[1,2], site="s", how="h", gradNull=false}',
      'write(%0, %0) : float64[2]',
    ]);
    expect(parseGraph(text)).toEqual(g);
  });

  it('keeps strings exactly: quotes, backslashes, newlines, line separators, non-ASCII', () => {
    const site = 'src/a "b".ts:3\\4\nnext\u2028line é ✓ \u0000';
    const b = new GraphBuilder();
    const x = b.input({ kind: 'arg', slot: 0 }, 'float32', []);
    b.effect('observe', [x], { guard: 0, expected: [0], site, how: 'if (x > 0)', gradNull: false });
    const g = b.graph();
    expect(printGraphExact(g).split('\n')).toHaveLength(2);
    expect(parseGraph(printGraphExact(g))).toEqual(g);
  });

  it('quotes parameter names that are not identifiers', () => {
    const g: Graph = { nodes: [{ op: 'constant', inputs: [], params: { value: 1 }, shape: [], dtype: 'float32' }] };
    const odd = { nodes: [{ ...g.nodes[0]!, params: { 'odd key': { 'a-b': [1] } } }] } as unknown as Graph;
    expect(printGraphExact(odd)).toBe('%0 = constant() {"odd key"={"a-b": [1]}} : float32[]');
    expect(parseGraph(printGraphExact(odd))).toEqual(odd);
  });

  it.each([
    ['%0 = frob() : float32[]', /line 1, column 6: unknown op "frob"/],
    ['%0 = input() {source={kind: "arg", slot: 0}} : float32[]\n%2 = neg(%0) : float32[]', /line 2, column 1: this is node 1, numbered %2/],
    ['%0 = input() {source={kind: "arg", slot: 0}} : float32[]\n%1 = write(%0, %0)', /line 2, column 1: write defines no value, so it takes no "%1 ="/],
    ['neg(%0) : float32[]', /line 1, column 1: neg defines a value: write "%0 = neg\(…\)"/],
    ['%0 = neg(%0)', /line 1, column 13: expected " : dtype\[shape\]" after neg's operands and parameters \(got end of line\)/],
    ['%0 = constant() {value=1} : bfloat16[]', /line 1, column 29: unknown dtype "bfloat16"/],
    ['%0 = constant() {value=[1,2} : float32[]', /line 1, column 28: expected "," or "\]" in a list \(got "} : float32\[\]"\)/],
    ['%0 = constant() {value=1} : float32[] extra', /line 1, column 39: unexpected text after the node \(got "extra"\)/],
    ['%0 = constant() {value=1, value=2} : float32[]', /line 1, column 27: parameter "value" appears twice/],
    ['%0 = constant() {value=1x} : float32[]', /line 1, column 24: malformed number/],
    ['%0 = constant() {value=nope} : float32[]', /line 1, column 24: unknown value "nope"/],
    ['write()', /line 1, column 8: write without operands needs " : dtype\[shape\]"/],
    ['%0 = add(%0 %1) : float32[]', /line 1, column 13: expected "," or "\)" between operands \(got "%1\) : float32\[\]"\)/],
    ['%0 = constant() {data=Float32Array["a"]} : float32[1]', /Float32Array holds numbers only/],
  ])('names the line and column of a syntax error: %s', (text, message) => {
    expect(() => parseGraph(text)).toThrow(GraphSyntaxError);
    expect(() => parseGraph(text)).toThrow(message);
  });

  it('counts lines from the start of the text, blank and comment lines included', () => {
    expect(() => parseGraph('\n// a comment\n%0 = constant() {value=1} : float32[]\n%1 = oops(%0) : float32[]')).toThrow(/^parseGraph: line 4, column 6: unknown op "oops"$/);
  });

  it('reads an empty text as the empty graph', () => {
    expect(parseGraph('')).toEqual({ nodes: [] });
    expect(printGraphExact({ nodes: [] })).toBe('');
  });
});

describe('round trips of graphs recorded from kiln functions', () => {
  const recorded = recordedGraphs();

  it.each(recorded.map((r) => [r.name, r] as const))('%s', (_, r) => {
    verifyGraph(r.graph);
    const exact = printGraphExact(r.graph);
    const back = parseGraph(exact);
    expectSameBits(back, r.graph);
    expect(printGraphExact(back)).toBe(exact);
    // printGraph's own text reads back to the same text whenever it shortened nothing.
    const human = printGraph(r.graph);
    // (A loop's graphs print indented under it, for people only.)
    if (!human.includes('…') && !r.graph.nodes.some((n) => n.op === 'loop')) expect(printGraph(parseGraph(human))).toBe(human);
  });

  it('covers writes, guards, gradient inputs and gradient assignments', () => {
    const ops = new Set(recorded.flatMap((r) => r.graph.nodes.map((n) => n.op)));
    for (const op of ['write', 'observe', 'setGrad', 'random', 'gather', 'scatterAdd', 'matmul', 'concat', 'pad', 'slice', 'iota', 'loop', 'loopResult']) expect(ops, op).toContain(op);
    const sources = new Set(recorded.flatMap((r) => r.graph.nodes.flatMap((n) => (n.op === 'input' ? [(n.params as { source: { kind: string } }).source.kind] : []))));
    expect([...sources].sort()).toEqual(['arg', 'capture', 'grad']);
  });

  it('parses the graph that explain() shows for a jit-compiled training step', () => {
    const model = new nn.Sequential(new nn.Linear(3, 4), new nn.Tanh(), new nn.Linear(4, 2));
    const opt = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
    const step = jit((x: Tensor, y: Tensor) => {
      opt.zeroGrad();
      const loss = nn.mseLoss(model.forward(x), y);
      loss.backward();
      opt.step();
      return loss.detach();
    });
    const x = randn([5, 3]), y = randn([5, 2]);
    for (let k = 0; k < 3; k++) step(x, y);
    const text = step.explain(x, y).variants[0]!.graph;
    expect(text).toContain('write(');
    const g = parseGraph(text);
    verifyGraph(g);
    expect(printGraph(g)).toBe(text);
  });

  it('parses the graph explain() shows for a function with constants', () => {
    const f = jit((x: Tensor) => x.mul(tensor([1, 2, 3])).add(-0).sum());
    const x = randn([2, 3]);
    f(x);
    f(x);
    const g = parseGraph(f.explain(x).variants[0]!.graph);
    verifyGraph(g);
    expect(g.nodes.some((n) => n.op === 'constant')).toBe(true);
  });
});
