/**
 * Size siblings are found by comparing recorded graphs node by node: sizes, strides and
 * counts may differ; ops, operands, dtypes, ranks, constant data and captures may not.
 */
import { describe, expect, it } from 'vitest';
import type { Graph, Node } from '../../../compiler/ir/graph.js';
import { findSizeSibling, sameUpToSizes, sizeFreeKey } from '../../../src/jit/size-siblings.js';
import type { Trace } from '../../../src/jit/trace.js';
import type { OutputSpec, Variant } from '../../../src/jit/variant.js';

/** A recording of sum(exp(x) * c, axes) for x of `shape`, with the constant c given as a value or as data. */
function recording(
  shape: number[], c: { value?: number; data?: number[] }, op: 'exp' | 'neg' = 'exp',
  output: OutputSpec = { kind: 'tensor', node: 4 },
): Variant {
  const nodes: Node[] = [
    { op: 'input', inputs: [], params: { source: { kind: 'arg', slot: 0 } }, shape, dtype: 'float32' },
    { op, inputs: [0], params: {}, shape, dtype: 'float32' },
    { op: 'constant', inputs: [], params: c, shape: c.data ? [c.data.length] : [], dtype: 'float32' },
    { op: 'mul', inputs: [1, 2], params: {}, shape, dtype: 'float32' },
    { op: 'sum', inputs: [3], params: { axes: [shape.length - 1] }, shape: shape.slice(0, -1), dtype: 'float32' },
  ];
  const graph: Graph = { nodes };
  const trace = { graph, captures: [], gradModes: nodes.map(() => false) } as unknown as Trace;
  return { trace, output, outputsRequireGrad: false, constants: [], buffers: [], loops: new Map(), fingerprint: '' };
}

describe('size siblings', () => {
  it('recordings that differ in sizes (and integer constants such as a mean\'s count) are siblings', () => {
    expect(sameUpToSizes(recording([8, 3], { value: 8 }), recording([5, 3], { value: 5 }))).toBe(true);
    expect(sameUpToSizes(recording([8, 3], { value: 0.5 }), recording([5, 7], { value: 0.5 }))).toBe(true);
  });

  it('another op, another rank, other constant data or a non-integer constant make another computation', () => {
    const base = recording([8, 3], { value: 0.5 });
    expect(sameUpToSizes(base, recording([5, 3], { value: 0.5 }, 'neg'))).toBe(false);
    expect(sameUpToSizes(base, recording([5, 3, 2], { value: 0.5 }))).toBe(false);
    expect(sameUpToSizes(base, recording([5, 3], { value: 0.25 }))).toBe(false);
    expect(sameUpToSizes(recording([8, 3], { value: 0 }), recording([5, 3], { value: -0 }))).toBe(false);
    expect(sameUpToSizes(recording([8, 3], { data: [1, 2] }), recording([5, 3], { data: [1, 3] }))).toBe(false);
    expect(sameUpToSizes(base, recording([5, 3], { value: 0.5 }, 'exp', { kind: 'value', value: 'a' }))).toBe(false);
  });

  it('a sibling is a compiled signature whose key differs only in integers', () => {
    const compiled = { key: 'T float32[8,3]#', state: 'compiled', variants: [recording([8, 3], { value: 2 })] };
    const other = { key: 'T int32[8,3]#', state: 'compiled', variants: [recording([8, 3], { value: 2 })] };
    const entry = { key: 'T float32[5,3]#', state: 'confirming', variants: [] };
    expect(sizeFreeKey(entry.key)).toBe(sizeFreeKey(compiled.key));
    expect(sizeFreeKey('x 1.5 2e-7 float32 [12]')).toBe('x 1.5 2e-7 float32 [#]');
    expect(findSizeSibling([other, compiled, entry], entry, recording([5, 3], { value: 2 }))).toBe(compiled.key);
    expect(findSizeSibling([other, entry], entry, recording([5, 3], { value: 2 }))).toBeUndefined();
  });
});
