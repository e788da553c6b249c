/**
 * In-place rows (each writes into a clone of its input, so eager, jit and every backend see
 * the same inputs) and the remaining Tensor methods: select, t, where, creation on a device.
 */
import * as k from '../../../../src/index.js';
import { at, build, mapBroadcast, permuteRef, type RefArray } from '../../ref-arrays.js';
import { bools, floats, ints, type TableRecord } from './record.js';

const map = (a: RefArray, f: (v: number) => number): RefArray => ({ shape: a.shape, values: a.values.map(f) });
const map2 = (a: RefArray, b: RefArray, f: (x: number, y: number) => number): RefArray => mapBroadcast([a, b], f);
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

export const writeRows: TableRecord[] = [
  {
    name: 'in-place arithmetic: add_, sub_, mul_, div_, pow_, clamp_',
    inputs: (n) => [floats(n, [3, 4], 0.5, 2), floats(n, [4], 0.5, 2)],
    call: (x, y) => [
      x.clone().add_(y), x.clone().sub_(y), x.clone().mul_(2.5), x.clone().div_(y), x.clone().pow_(y),
      x.clone().clamp_(0.75, 1.5),
    ],
    ref: (x, y) => [
      map2(x, y, (a, b) => a + b), map2(x, y, (a, b) => a - b), map(x, (a) => a * 2.5), map2(x, y, (a, b) => a / b),
      map2(x, y, Math.pow), map(x, (a) => Math.min(Math.max(a, 0.75), 1.5)),
    ],
    grad: true,
  },
  {
    name: 'in-place math: exp_, log_, neg_, abs_, relu_, sigmoid_, sqrt_, tanh_',
    inputs: (n) => [floats(n, [2, 5], 0.2, 2)],
    call: (x) => [
      x.clone().exp_(), x.clone().log_(), x.clone().neg_(), x.clone().neg_().abs_(), x.clone().sub_(1).relu_(),
      x.clone().sigmoid_(), x.clone().sqrt_(), x.clone().tanh_(),
    ],
    ref: (x) => [
      map(x, Math.exp), map(x, Math.log), map(x, (v) => -v), map(x, Math.abs), map(x, (v) => Math.max(v - 1, 0)),
      map(x, sigmoid), map(x, Math.sqrt), map(x, Math.tanh),
    ],
    grad: true,
  },
  {
    name: 'in-place writes: fill_, zero_, copy_, maskedFill_ (int32 too)',
    inputs: (n) => [floats(n, [3, 4]), floats(n, [4]), bools(n, [3, 1]), ints(n, [3, 4], -9, 9)],
    call: (x, y, m, i) => [
      x.clone().fill_(1.5), x.clone().zero_(), x.clone().copy_(y), x.clone().maskedFill_(m, -2),
      i.clone().add_(i), i.clone().maskedFill_(m, 7),
    ],
    ref: (x, y, m, i) => [
      map(x, () => 1.5), map(x, () => 0), build([3, 4], ([, c]) => y.values[c!]!),
      build([3, 4], ([r, c]) => (at(m, [r!, 0]) ? -2 : at(x, [r!, c!]))),
      map(i, (v) => 2 * v), build([3, 4], ([r, c]) => (at(m, [r!, 0]) ? 7 : at(i, [r!, c!]))),
    ],
    grad: true,
  },
  {
    name: 'indexPut_ with and without accumulation',
    inputs: (n) => [floats(n, [3, 4]), floats(n, [4])],
    call: (x, y) => {
      const rows = k.tensor([2, 0, 2], { dtype: 'int32', device: x.device });
      return [x.clone().indexPut_([rows.narrow(0, 0, 2)], y), x.clone().indexPut_([rows], y, true)];
    },
    ref: (x, y) => [
      build([3, 4], ([r, c]) => (r === 1 ? at(x, [r!, c!]) : y.values[c!]!)),
      build([3, 4], ([r, c]) => at(x, [r!, c!]) + (r === 2 ? 2 : r === 0 ? 1 : 0) * y.values[c!]!),
    ],
    grad: true,
  },
  {
    name: 'select, t and the where method',
    inputs: (n) => [floats(n, [3, 4]), bools(n, [3, 4])],
    call: (x, m) => [x.select(1, 2), x.select(0, -1), x.t(), x.where(m, 0.5)],
    ref: (x, m) => [
      build([3], ([r]) => at(x, [r!, 2])), build([4], ([c]) => at(x, [2, c!])), permuteRef(x, [1, 0]),
      build([3, 4], ([r, c]) => (at(m, [r!, c!]) ? at(x, [r!, c!]) : 0.5)),
    ],
    grad: true,
  },
  {
    name: 'creation on the input\'s device: full, zeros, ones, *Like, arange, linspace, eye',
    inputs: (n) => [floats(n, [2, 3])],
    call: (x) => {
      const on = { dtype: x.dtype, device: x.device };
      return [
        k.full([2, 2], -1.5, on), k.zeros([3], on), k.ones([2, 1], on), k.fullLike(x, 4), k.zerosLike(x), k.onesLike(x),
        k.arange(0, 2, 0.25, on), k.arange(5, undefined, undefined, { device: x.device }), k.linspace(-1, 1, 5, on),
        k.eye(2, 3, on),
      ];
    },
    ref: (x) => [
      { shape: [2, 2], values: [-1.5, -1.5, -1.5, -1.5] }, { shape: [3], values: [0, 0, 0] },
      { shape: [2, 1], values: [1, 1] },
      map(x, () => 4), map(x, () => 0), map(x, () => 1),
      { shape: [8], values: [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75] }, { shape: [5], values: [0, 1, 2, 3, 4] },
      { shape: [5], values: [-1, -0.5, 0, 0.5, 1] }, build([2, 3], ([r, c]) => (r === c ? 1 : 0)),
    ],
    grad: false,
  },
];
