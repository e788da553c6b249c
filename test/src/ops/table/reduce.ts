/**
 * Reduction rows: sum, mean, max, min, prod, argmax (the fuzzer's records) and argmin, var,
 * std, logsumexp, softmax, logSoftmax, any, all, over chosen axes, negative axes, keepdim,
 * all axes and zero-size shapes.
 */
import * as k from '../../../../src/index.js';
import { build, sizeOfShape, unravel, type RefArray } from '../../ref-arrays.js';
import { fromFuzz } from './from-fuzz.js';
import { bools, floats, gridFloats, ints, type TableRecord } from './record.js';

/** Reduces `x` over `axes` with `f`, which sees each group's elements in row-major order. */
export function reduceRef(
  x: RefArray, axes: readonly number[], keepdim: boolean, f: (xs: number[]) => number,
): RefArray {
  const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const groups: number[][] = Array.from({ length: sizeOfShape(kept) }, () => []);
  for (let i = 0; i < sizeOfShape(x.shape); i++) {
    const idx = unravel(i, x.shape);
    let key = 0;
    idx.forEach((v, d) => (key = key * kept[d]! + (axes.includes(d) ? 0 : v)));
    groups[key]!.push(x.values[i]!);
  }
  return { shape: keepdim ? kept : x.shape.filter((_, i) => !axes.includes(i)), values: groups.map(f) };
}

/** Applies `f` to each row along the last axis and returns a row of the same length. */
function rowwise(x: RefArray, f: (row: number[]) => number[]): RefArray {
  const n = x.shape[x.shape.length - 1]!;
  const out: number[] = [];
  for (let i = 0; i < x.values.length; i += n) out.push(...f(x.values.slice(i, i + n)));
  return { shape: x.shape, values: out };
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const mean = (xs: number[]) => sum(xs) / xs.length;
const variance = (xs: number[], correction: number) => {
  const m = mean(xs);
  return sum(xs.map((v) => (v - m) ** 2)) / (xs.length - correction);
};
const lse = (xs: number[]) => {
  const m = Math.max(...xs);
  return m + Math.log(sum(xs.map((v) => Math.exp(v - m))));
};
const firstIndex = (xs: number[], better: (a: number, b: number) => boolean) =>
  xs.reduce((bi, v, i) => (better(v, xs[bi]!) ? i : bi), 0);

const fuzzRows: TableRecord[] = [
  ...(['sum', 'mean', 'max', 'min', 'prod'] as const).flatMap((op) => [
    fromFuzz({
      op, name: `${op} over all axes`, inputs: (n) => [floats(n, [3, 4], 0.5, 1.5)],
      params: { axes: null, keepdim: false },
    }),
    fromFuzz({
      op, name: `${op} over axes [0, -1] keeping dims`, inputs: (n) => [floats(n, [2, 3, 4], 0.5, 1.5)],
      params: { axes: [0, -1], keepdim: true },
    }),
    fromFuzz({
      op, name: `${op} over axis 1`, inputs: (n) => [floats(n, [2, 5, 3], 0.5, 1.5)],
      params: { axes: [1], keepdim: false },
    }),
  ]),
  ...(['sum', 'max', 'prod'] as const).map((op) =>
    fromFuzz({
      op, name: `${op} (int32) over axis 0`, inputs: (n) => [ints(n, [4, 3], -3, 4)],
      params: { axes: [0], keepdim: false },
    })),
  fromFuzz({
    op: 'sum', name: 'sum (bool) over axis 1', inputs: (n) => [bools(n, [3, 5])],
    params: { axes: [1], keepdim: false },
  }),
  fromFuzz({
    op: 'sum', name: 'sum over a zero-size axis', inputs: (n) => [floats(n, [3, 0, 2])],
    params: { axes: [1], keepdim: false },
  }),
  fromFuzz({
    op: 'argmax', name: 'argmax with ties, axis -1', inputs: (n) => [gridFloats(n, [3, 6])],
    params: { axes: [-1], keepdim: false },
  }),
  fromFuzz({
    op: 'argmax', name: 'argmax over all elements', inputs: (n) => [floats(n, [3, 4])],
    params: { axes: null, keepdim: false },
  }),
];

const moreRows: TableRecord[] = [
  {
    name: 'argmin (first of ties), any and all',
    inputs: (n) => [gridFloats(n, [3, 5]), bools(n, [3, 5], 0.7)],
    call: (x, b) => [x.argmin(1), k.argmin(x, 0, true), x.argmin(), b.any(1), k.all(b, 0), b.all(), x.any()],
    ref: (x, b) => [
      reduceRef(x, [1], false, (xs) => firstIndex(xs, (p, q) => p < q)),
      reduceRef(x, [0], true, (xs) => firstIndex(xs, (p, q) => p < q)),
      reduceRef(x, [0, 1], false, (xs) => firstIndex(xs, (p, q) => p < q)),
      reduceRef(b, [1], false, (xs) => (xs.some((v) => v !== 0) ? 1 : 0)),
      reduceRef(b, [0], false, (xs) => (xs.every((v) => v !== 0) ? 1 : 0)),
      reduceRef(b, [0, 1], false, (xs) => (xs.every((v) => v !== 0) ? 1 : 0)),
      reduceRef(x, [0, 1], false, (xs) => (xs.some((v) => v !== 0) ? 1 : 0)),
    ],
    grad: false,
  },
  {
    name: 'var and std with corrections, logsumexp',
    inputs: (n) => [floats(n, [3, 4, 5])],
    call: (x) => [
      x.var(), k.var(x, [0, 2], true, 0), x.std(1), k.std(x, -1, false, 0), x.logsumexp(1),
      k.logsumexp(x, [0, 2], true),
    ],
    ref: (x) => [
      reduceRef(x, [0, 1, 2], false, (xs) => variance(xs, 1)),
      reduceRef(x, [0, 2], true, (xs) => variance(xs, 0)),
      reduceRef(x, [1], false, (xs) => Math.sqrt(variance(xs, 1))),
      reduceRef(x, [2], false, (xs) => Math.sqrt(variance(xs, 0))),
      reduceRef(x, [1], false, lse),
      reduceRef(x, [0, 2], true, lse),
    ],
    grad: true,
  },
  {
    name: 'softmax and logSoftmax along each axis, with -Inf',
    inputs: (n) => [floats(n, [3, 5], -4, 4)],
    call: (x) => {
      const masked = x.maskedFill(k.eye(3, 5, { dtype: 'bool', device: x.device }), -Infinity);
      return [x.softmax(), k.softmax(x, 0), x.logSoftmax(-1), k.logSoftmax(x, 0), masked.softmax(1)];
    },
    ref: (x) => {
      const soft = (row: number[]) => row.map((v) => Math.exp(v - lse(row)));
      const logSoft = (row: number[]) => row.map((v) => v - lse(row));
      const t = build([5, 3], ([i, j]) => x.values[j! * 5 + i!]!);
      const back = (a: RefArray) => build([3, 5], ([i, j]) => a.values[j! * 3 + i!]!);
      const masked = build([3, 5], ([i, j]) => (i === j ? -Infinity : x.values[i! * 5 + j!]!));
      return [
        rowwise(x, soft), back(rowwise(t, soft)), rowwise(x, logSoft), back(rowwise(t, logSoft)),
        rowwise(masked, soft),
      ];
    },
    grad: true,
  },
];

export const reduceRows: TableRecord[] = [...fuzzRows, ...moreRows];
