/**
 * Structural rows: matmul (vectors, batched with broadcast batch dims, transposed operands,
 * an empty contraction), views, gather / indexSelect / scatterAdd / oneHot / nonzero, and
 * the ops that assemble tensors (cat, stack, split, chunk, pad).
 */
import * as k from '../../../../src/index.js';
import { at, build, permuteRef, type RefArray } from '../../ref-arrays.js';
import { fixedIndices, fromFuzz } from './from-fuzz.js';
import { bools, floats, ints, type TableRecord } from './record.js';

function matmulRef(a: RefArray, b: RefArray): RefArray {
  const [m, kk] = a.shape as [number, number];
  const n = b.shape[1]!;
  return build([m, n], ([i, j]) => {
    let s = 0;
    for (let q = 0; q < kk; q++) s += at(a, [i!, q]) * at(b, [q, j!]);
    return s;
  });
}

const matmulRows: TableRecord[] = [
  fromFuzz({ op: 'matmul', name: 'matmul of two vectors', inputs: (n) => [floats(n, [5]), floats(n, [5])] }),
  fromFuzz({ op: 'matmul', name: 'matmul matrix by vector', inputs: (n) => [floats(n, [3, 5]), floats(n, [5])] }),
  fromFuzz({
    op: 'matmul', name: 'matmul vector by batched matrix', inputs: (n) => [floats(n, [4]), floats(n, [2, 4, 3])],
  }),
  fromFuzz({
    op: 'matmul', name: 'matmul with broadcast batch dims',
    inputs: (n) => [floats(n, [2, 1, 3, 4]), floats(n, [3, 4, 5])],
  }),
  fromFuzz({ op: 'matmul', name: 'matmul (int32)', inputs: (n) => [ints(n, [3, 4], -5, 5), ints(n, [4, 2], -5, 5)] }),
  fromFuzz({
    op: 'matmul', name: 'matmul with an empty contraction', inputs: (n) => [floats(n, [2, 0]), floats(n, [0, 3])],
  }),
  {
    name: 'matmul of transposed operands',
    inputs: (n) => [floats(n, [4, 3]), floats(n, [5, 4])],
    call: (a, b) => [a.transpose(0, 1).matmul(b.transpose(0, 1)), k.matmul(b, a)],
    ref: (a, b) => [matmulRef(permuteRef(a, [1, 0]), permuteRef(b, [1, 0])), matmulRef(b, a)],
    grad: true,
  },
];

const viewRows: TableRecord[] = [
  fromFuzz({
    op: 'reshape', name: 'reshape with an inferred dim', inputs: (n) => [floats(n, [2, 3, 4])],
    params: { shape: [4, -1] },
  }),
  fromFuzz({ op: 'permute', inputs: (n) => [floats(n, [2, 3, 4])], params: { dims: [2, 0, 1] } }),
  fromFuzz({
    op: 'transpose', name: 'transpose with a negative dim', inputs: (n) => [floats(n, [2, 3, 4])],
    params: { i: -1, j: 0 },
  }),
  fromFuzz({
    op: 'slice', name: 'slice with a step and negative bounds', inputs: (n) => [floats(n, [3, 7])],
    params: { axis: -1, start: -6, end: 6, step: 2 },
  }),
  fromFuzz({ op: 'narrow', inputs: (n) => [floats(n, [5, 3])], params: { axis: 0, start: 1, length: 3 } }),
  fromFuzz({
    op: 'expand', name: 'expand with new leading dims', inputs: (n) => [floats(n, [3, 1])],
    params: { shape: [2, 3, 4] },
  }),
  fromFuzz({ op: 'unsqueeze', inputs: (n) => [floats(n, [3, 4])], params: { axis: 2 } }),
  fromFuzz({ op: 'squeeze', inputs: (n) => [floats(n, [3, 1, 4])], params: { axis: 1 } }),
  {
    name: 'flatten, view, broadcastTo, contiguous and clone',
    inputs: (n) => [floats(n, [2, 3, 4]), floats(n, [4])],
    call: (x, v) => [
      x.flatten(1), k.flatten(x), x.contiguous().view([6, 4]), k.broadcastTo(v, [3, 4]), x.permute([2, 1, 0]).clone(),
    ],
    ref: (x, v) => [
      { shape: [2, 12], values: x.values },
      { shape: [24], values: x.values },
      { shape: [6, 4], values: x.values },
      build([3, 4], ([, j]) => v.values[j!]!),
      permuteRef(x, [2, 1, 0]),
    ],
    grad: true,
  },
];

const gatherIndex = fixedIndices('gather', 6, 4), selectIndex = fixedIndices('indexSelect', 5, 3);
const scatterIndex = fixedIndices('scatterAdd', 8, 3);

const indexRows: TableRecord[] = [
  fromFuzz({
    op: 'gather', name: 'gather along axis 1', inputs: (n) => [floats(n, [3, 4])],
    params: { axis: 1, index: gatherIndex, indexShape: [3, 2] },
  }),
  fromFuzz({
    op: 'indexSelect', name: 'indexSelect with repeats', inputs: (n) => [floats(n, [3, 4])],
    params: { axis: 0, index: selectIndex, indexShape: [5] },
  }),
  fromFuzz({
    op: 'scatterAdd', name: 'scatterAdd with colliding indices',
    inputs: (n) => [floats(n, [3, 4]), floats(n, [4, 2])], params: { axis: 0, index: scatterIndex, indexShape: [4, 2] },
  }),
  {
    name: 'gather and indexSelect with int32 index inputs',
    inputs: (n) => [ints(n, [2, 3], 0, 4), floats(n, [2, 4])],
    call: (i, x) => [k.gather(x, 1, i), x.indexSelect(1, i.flatten())],
    ref: (i, x) => [
      build([2, 3], ([a, b]) => at(x, [a!, at(i, [a!, b!])])),
      build([2, 6], ([a, b]) => at(x, [a!, i.values[b!]!])),
    ],
    grad: true,
  },
  {
    name: 'oneHot',
    inputs: (n) => [ints(n, [2, 3], 0, 4)],
    call: (i) => [k.oneHot(i, 4), k.oneHot(i, 5, { dtype: 'float32' })],
    ref: (i) => [4, 5].map((c) => build([2, 3, c], ([a, b, j]) => (at(i, [a!, b!]) === j ? 1 : 0))),
    grad: false,
    readsValues: true,
    // oneHot checks the class range with item(), which a webgpu tensor cannot answer synchronously.
    backends: false,
  },
  {
    name: 'nonzero',
    inputs: (n) => [bools(n, [3, 4])],
    call: (m) => k.nonzero(m),
    ref: (m) => {
      const hits = m.values.flatMap((v, i) => (v ? [[Math.floor(i / 4), i % 4]] : []));
      return [{ shape: [hits.length, 2], values: hits.flat() }];
    },
    grad: false,
    readsValues: true,
    backends: false,
  },
];

const assembleRows: TableRecord[] = [
  {
    name: 'cat and stack along several axes',
    inputs: (n) => [floats(n, [2, 3]), floats(n, [2, 3]), floats(n, [1, 3])],
    call: (a, b, c) => [k.cat([a, b, c]), k.cat([a, b], 1), k.stack([a, b]), k.stack([a, b], -1)],
    ref: (a, b, c) => [
      { shape: [5, 3], values: [...a.values, ...b.values, ...c.values] },
      build([2, 6], ([i, j]) => (j! < 3 ? at(a, [i!, j!]) : at(b, [i!, j! - 3]))),
      { shape: [2, 2, 3], values: [...a.values, ...b.values] },
      build([2, 3, 2], ([i, j, s]) => at(s === 0 ? a : b, [i!, j!])),
    ],
    grad: true,
  },
  {
    name: 'split and chunk',
    inputs: (n) => [floats(n, [5, 4])],
    call: (x) => [...x.split([2, 3]), ...k.chunk(x, 2, 1), ...x.split(2)],
    ref: (x) => {
      const rows = (s: number, e: number) => build([e - s, 4], ([i, j]) => at(x, [s + i!, j!]));
      const cols = (s: number) => build([5, 2], ([i, j]) => at(x, [i!, s + j!]));
      return [rows(0, 2), rows(2, 5), cols(0), cols(2), rows(0, 2), rows(2, 4), rows(4, 5)];
    },
    grad: true,
  },
  {
    name: 'pad with a value, on two dims, and cropping',
    inputs: (n) => [floats(n, [2, 3, 4])],
    call: (x) => [k.pad(x, [1, 2]), k.pad(x, [0, 1, 2, 0], -1.5), k.pad(x, [-1, 1])],
    ref: (x) => [
      build([2, 3, 7], ([a, b, c]) => (c! >= 1 && c! < 5 ? at(x, [a!, b!, c! - 1]) : 0)),
      build([2, 5, 5], ([a, b, c]) => (b! >= 2 && c! < 4 ? at(x, [a!, b! - 2, c!]) : -1.5)),
      build([2, 3, 4], ([a, b, c]) => (c! < 3 ? at(x, [a!, b!, c! + 1]) : 0)),
    ],
    grad: true,
  },
  {
    name: 'cat of int32 and bool tensors',
    inputs: (n) => [ints(n, [2, 2], -5, 5), ints(n, [3, 2], -5, 5), bools(n, [2, 3])],
    call: (a, b, m) => [k.cat([a, b]), k.stack([m, m.logicalNot()], 1)],
    ref: (a, b, m) => [
      { shape: [5, 2], values: [...a.values, ...b.values] },
      build([2, 2, 3], ([i, s, j]) => (s === 0 ? at(m, [i!, j!]) : 1 - at(m, [i!, j!]))),
    ],
    grad: false,
  },
];

export const structureRows: TableRecord[] = [...matmulRows, ...viewRows, ...indexRows, ...assembleRows];
