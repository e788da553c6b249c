/** The graph verifier: valid graphs pass, and each broken invariant is reported at its node. */
import { describe, expect, it } from 'vitest';
import type { EffectParams, Graph } from '../../../compiler/ir/graph.js';
import { parseGraph } from '../../../compiler/ir/text.js';
import { GraphVerifyError, verifyGraph } from '../../../compiler/ir/verify.js';
import { InternalError } from '../../../runtime/errors.js';
import { everyKind } from '../graph-builder.js';
import { recordedGraphs } from '../recorded-graphs.js';

const X = '%0 = input() {source={kind: "arg", slot: 0}} : float32[2,3]';
const Y = '%1 = input() {source={kind: "arg", slot: 1}} : float32[2,3]';

/** The error verifyGraph throws for `g`. */
function failure(g: Graph): GraphVerifyError {
  try {
    verifyGraph(g);
  } catch (e) {
    if (e instanceof GraphVerifyError) return e;
    throw e;
  }
  throw new Error('verifyGraph accepted the graph');
}

describe('verifyGraph', () => {
  it('accepts every node kind and every recorded graph', () => {
    expect(() => verifyGraph(everyKind())).not.toThrow();
    for (const r of recordedGraphs()) expect(() => verifyGraph(r.graph), r.name).not.toThrow();
  });

  it('throws an internal error that carries the node index', () => {
    const e = failure(parseGraph(`${X}\n%1 = neg(%0) : float32[3,2]`));
    expect(e).toBeInstanceOf(InternalError);
    expect(e.node).toBe(1);
    expect(e.message).toBe('internal: verifyGraph: node %1 (neg(%0)): recorded as float32[3,2], but neg of its operands gives float32[2,3]');
  });

  it.each([
    ['an operand defined later', `${X}\n%1 = neg(%2) : float32[2,3]\n%2 = neg(%0) : float32[2,3]`, 1, /operand %2 is not an earlier node/],
    ['a node reading itself', `${X}\n%1 = neg(%1) : float32[2,3]`, 1, /operand %1 is not an earlier node/],
    ['an effect used as a value', `${X}\n${Y}\nwrite(%0, %1)\n%3 = neg(%2) : float32[2,3]`, 3, /operand %2 is a write, which defines no value/],
    ['a wrong result dtype', `${X}\n${Y}\n%2 = lt(%0, %1) : float32[2,3]`, 2, /recorded as float32\[2,3\], but lt of its operands gives bool\[2,3\]/],
    ['unpromoted operands', `${X}\n%1 = input() {source={kind: "arg", slot: 1}} : float64[2,3]\n%2 = add(%0, %1) : float32[2,3]`, 2, /add: operand dtypes float32 and float64 differ/],
    ['a wrong arity', `${X}\n%1 = add(%0) : float32[2,3]`, 1, /add: expected 2 operands, got 1/],
    ['a reshape that changes the element count', `${X}\n%1 = reshape(%0) {shape=[4]} : float32[4]`, 1, /reshape of \[2,3\] \(6 elements\) to \[4\] \(4 elements\)/],
    ['a view whose shape is not its parameters\'', `${X}\n%1 = reshape(%0) {shape=[6]} : float32[3,2]`, 1, /recorded as float32\[3,2\], but reshape of its operands gives float32\[6\]/],
    ['a permute that is not a permutation', `${X}\n%1 = permute(%0) {perm=[1,1]} : float32[3,3]`, 1, /needs a permutation of 0..1 \(got \[1,1\]\)/],
    ['an expand that changes a kept dim', `${X}\n%1 = expand(%0) {shape=[2,4]} : float32[2,4]`, 1, /expand of \[2,3\] to \[2,4\]: dim 1 is neither 1 nor kept/],
    ['a slice past the end', `${X}\n%1 = slice(%0) {starts=[0,1], steps=[1,2], sizes=[2,2]} : float32[2,2]`, 1, /slice of dim 1 \(size 3\) from 1 by 2 for 2 elements runs past its end/],
    ['a reduction over a repeated axis', `${X}\n%1 = sum(%0) {axes=[1,1]} : float32[2]`, 1, /sum axes \[1,1\] repeat an axis/],
    ['concat of mismatched dims', `${X}\n%1 = input() {source={kind: "arg", slot: 1}} : float32[2,2]\n%2 = concat(%0, %1) {axis=0} : float32[4,3]`, 2, /concat along axis 0 of \[2,3\] and \[2,2\]/],
    ['a gather axis out of range', `${X}\n%1 = input() {source={kind: "arg", slot: 1}} : int32[2,3]\n%2 = gather(%0, %1) {axis=2} : float32[2,3]`, 2, /gather axis 2 for \[2,3\]/],
    ['a cast without a dtype', `${X}\n%1 = cast(%0) {dtype="half"} : float32[2,3]`, 1, /cast needs a dtype parameter/],
    ['a random node whose shape is not its parameter', '%0 = random() {shape=[2,2], offset=0} : float32[4]', 0, /recorded as float32\[4\], but random of its operands gives float32\[2,2\]/],
    ['a random node of another dtype', '%0 = random() {shape=[2], offset=0} : float64[2]', 0, /recorded as float64\[2\], but random of its operands gives float32\[2\]/],
    ['a random node without an offset', '%0 = random() {shape=[2]} : float32[2]', 0, /random needs a non-negative integer offset/],
    ['an iota of a negative length', '%0 = iota() {n=-1} : int32[0]', 0, /iota needs a non-negative integer n/],
    ['a write of another shape', `${X}\n%1 = input() {source={kind: "arg", slot: 1}} : float32[3]\nwrite(%0, %1)`, 2, /write of a \[3\] value into a \[2,3\] target: shapes must be equal/],
    ['a write with one operand', `${X}\nwrite(%0)`, 1, /write takes 2 operands \(got 1\)/],
    ['an effect with a shape', `${X}\n${Y}\nwrite(%0, %1) : float32[2,3]`, 2, /write defines no value, so its metadata must be float32\[\]/],
    ['a setGrad of another shape', `${X}\n%1 = input() {source={kind: "arg", slot: 1}} : float32[3,2]\nsetGrad(%0, %1)`, 2, /setGrad of a \[3,2\] gradient on a \[2,3\] tensor/],
    ['guards out of order', `${X}\nobserve(%0) {guard=1, expected=[], site="s", how="h", gradNull=false}`, 1, /observe guard 1 is out of order \(guards count up from 0; expected 0\)/],
    ['a repeated guard', `${X}\nobserve(%0) {guard=0, expected=[], site="s", how="h", gradNull=false}\nobserve(%0) {guard=0, expected=[], site="s", how="h", gradNull=false}`, 2, /observe guard 0 is out of order \(guards count up from 0; expected 1\)/],
    ['an observe without a site', `${X}\nobserve(%0) {guard=0, expected=[], how="h", gradNull=false}`, 1, /observe needs site and how strings/],
    ['an input with operands', `${X}\n%1 = input(%0) {source={kind: "arg", slot: 1}} : float32[2,3]`, 1, /input takes 0 operands \(got 1\)/],
    ['an unknown input source', '%0 = input() {source={kind: "global", slot: 0}} : float32[]', 0, /input source kind "global" is not arg, capture or grad/],
    ['a fractional slot', '%0 = input() {source={kind: "capture", slot: 0.5}} : float32[]', 0, /capture needs a non-negative integer slot/],
    ['two inputs of one argument', `${X}\n%1 = input() {source={kind: "arg", slot: 0}} : float32[2,3]`, 1, /arg slot 0 is already read by %0/],
    ['a gradient of a later node', `%0 = input() {source={kind: "grad", of: 1}} : float32[2,3]\n${Y}`, 0, /the gradient source of %1 must name an earlier node/],
    ['a gradient of an effect', `${X}\nobserve(%0) {guard=0, expected=[], site="s", how="h", gradNull=true}\n%2 = input() {source={kind: "grad", of: 1}} : float32[2,3]`, 2, /names a observe, which defines no tensor/],
    ['a constant with two sources', '%0 = constant() {value=1, data=[1]} : float32[1]', 0, /exactly one of value, numberSlot and data \(got value, data\)/],
    ['a constant without a source', '%0 = constant() : float32[]', 0, /exactly one of value, numberSlot and data \(got none\)/],
    ['a constant with an unknown parameter', '%0 = constant() {fill=1} : float32[]', 0, /constant parameter fill is not value, numberSlot or data/],
    ['constant data of the wrong length', '%0 = constant() {data=[1,2,3]} : float32[2,2]', 0, /constant data has 3 values for shape \[2,2\] \(4 elements\)/],
  ])('reports %s', (_, text, node, message) => {
    const e = failure(parseGraph(text));
    expect(e.node).toBe(node);
    expect(e.message).toMatch(message);
    expect(e.message).toMatch(new RegExp(`^internal: verifyGraph: node %${node} \\(`));
  });

  it('reports malformed nodes that the parser would not produce', () => {
    const base = parseGraph(X).nodes[0]!;
    expect(failure({ nodes: [{ ...base, op: 'frob' as never }] }).message).toMatch(/node %0 \(frob\(\)\): unknown op "frob"/);
    expect(failure({ nodes: [{ ...base, dtype: 'half' as never }] }).message).toMatch(/unknown dtype "half"/);
    expect(failure({ nodes: [{ ...base, shape: [2, -1] }] }).message).toMatch(/shape must be a list of non-negative integers/);
    expect(failure({ nodes: [base, { ...base, op: 'neg', inputs: [0.5], params: {} }] }).message).toMatch(/operand %0.5 is not an earlier node/);
  });

  it('checks loop nodes: their graphs, carried metadata, exits, results and loopResult indices', () => {
    const lifted = recordedGraphs().find((r) => r.name === 'a lifted loop')!.graph;
    const at = lifted.nodes.findIndex((n) => n.op === 'loop');
    /** The graph with the loop node's parameters changed by `edit`. */
    const broken = (edit: (p: EffectParams['loop']) => void): Graph => {
      const g = structuredClone(lifted);
      edit(g.nodes[at]!.params as EffectParams['loop']);
      return g;
    };
    expect(() => verifyGraph(lifted)).not.toThrow();
    expect(failure(broken((p) => { p.results = p.results.slice(1); })).message).toMatch(/loop results must name 3 values of body/);
    expect(failure(broken((p) => { p.exits = [p.exits[1]!, p.exits[0]!, p.exits[2]!]; })).message).toMatch(/loop exit 0 is int32\[\], but carried value 0 is float32\[4,3\]/);
    expect(failure(broken((p) => { p.condValue = 0; })).message).toMatch(/condValue must name a one-element value/);
    expect(failure(broken((p) => { p.body.nodes.push({ op: 'write', inputs: [0, 0], params: {}, shape: [], dtype: 'float32' }); })).message).toMatch(/loop body may only compute values/);
    expect(failure(broken((p) => { p.cond.nodes[0]!.params = { source: { kind: 'capture', slot: 0 } }; })).message).toMatch(/loop cond reads only its arguments/);
    const badIndex = structuredClone(lifted);
    const result = badIndex.nodes.find((n) => n.op === 'loopResult')!;
    result.params = { index: 3 };
    expect(failure(badIndex).message).toMatch(/loopResult index must be an integer in \[0, 3\)/);
  });
});
