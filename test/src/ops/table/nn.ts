/**
 * nn functional rows (linear, layerNorm, batchNorm, crossEntropy, nllLoss, mseLoss, binary
 * cross entropy, conv2d, pooling) and random draws from a seeded stream (rand, randn,
 * randint, dropout), whose reference is Philox's own element function.
 */
import * as k from '../../../../src/index.js';
import { uniformAt } from '../../../../compiler/random/philox.js';
import { at, build, type RefArray } from '../../ref-arrays.js';
import { reduceRef } from './reduce.js';
import { floats, ints, type TableRecord } from './record.js';

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const meanAll = (a: RefArray): RefArray => ({ shape: [], values: [sum(a.values) / a.values.length] });
const logSoftmaxRow = (row: number[]) => {
  const m = Math.max(...row);
  const l = m + Math.log(sum(row.map((v) => Math.exp(v - m))));
  return row.map((v) => v - l);
};

function conv2dRef(x: RefArray, w: RefArray, b: RefArray, s: number, p: number): RefArray {
  const [n, c, h, wd] = x.shape as [number, number, number, number];
  const [o, , kh, kw] = w.shape as [number, number, number, number];
  const ho = Math.floor((h + 2 * p - kh) / s) + 1, wo = Math.floor((wd + 2 * p - kw) / s) + 1;
  return build([n, o, ho, wo], ([i, oc, y, xx]) => {
    let acc = b.values[oc!]!;
    for (let ch = 0; ch < c; ch++) for (let ty = 0; ty < kh; ty++) for (let tx = 0; tx < kw; tx++) {
      const iy = y! * s + ty - p, ix = xx! * s + tx - p;
      if (iy >= 0 && iy < h && ix >= 0 && ix < wd) acc += at(x, [i!, ch, iy, ix]) * at(w, [oc!, ch, ty, tx]);
    }
    return acc;
  });
}

/** 2×2 windows with stride 2 over [N, C, H, W], folded by `f`. */
function pool2Ref(x: RefArray, f: (xs: number[]) => number): RefArray {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  return build([n, c, Math.floor(h / 2), Math.floor(w / 2)], ([i, ch, y, xx]) =>
    f([0, 1, 2, 3].map((t) => at(x, [i!, ch!, 2 * y! + (t >> 1), 2 * xx! + (t & 1)]))));
}

const SEED = 1234;
/** Element `i` of the uniform stream started by manualSeed(SEED), as float32 stores it. */
const u = (i: number) => Math.fround(uniformAt(SEED, i));

const nnRows: TableRecord[] = [
  {
    name: 'linear with and without bias',
    inputs: (n) => [floats(n, [3, 4]), floats(n, [5, 4]), floats(n, [5])],
    call: (x, w, b) => [k.nn.linear(x, w, b), k.nn.linear(x, w)],
    ref: (x, w, b) => {
      const y = build([3, 5], ([i, o]) => sum([0, 1, 2, 3].map((j) => at(x, [i!, j]) * at(w, [o!, j]))));
      return [build([3, 5], ([i, o]) => at(y, [i!, o!]) + b.values[o!]!), y];
    },
    grad: true,
  },
  {
    name: 'layerNorm over one and two trailing dims',
    inputs: (n) => [floats(n, [2, 3, 4]), floats(n, [4]), floats(n, [4])],
    call: (x, w, b) => [k.nn.layerNorm(x, [4], w, b), k.nn.layerNorm(x, [3, 4])],
    ref: (x, w, b) => {
      const norm = (axes: number[]) => {
        const mu = reduceRef(x, axes, true, (xs) => sum(xs) / xs.length);
        const v = reduceRef(x, axes, true, (xs) => sum(xs.map((q) => q * q)) / xs.length - (sum(xs) / xs.length) ** 2);
        return build(x.shape, (idx) => {
          const r = idx.map((d, i) => (axes.includes(i) ? 0 : d));
          return (at(x, idx) - at(mu, r)) / Math.sqrt(at(v, r) + 1e-5);
        });
      };
      const one = norm([2]);
      return [build(x.shape, (idx) => at(one, idx) * w.values[idx[2]!]! + b.values[idx[2]!]!), norm([1, 2])];
    },
    grad: true,
    refTol: { rtol: 1e-8, atol: 1e-9 },
  },
  {
    name: 'batchNorm with batch statistics and with running statistics',
    inputs: (n) => [floats(n, [4, 3, 2]), floats(n, [3]), floats(n, [3]), floats(n, [3], 0.5, 2)],
    call: (x, w, b, rv) => [k.nn.batchNorm(x, null, null, w, b, true), k.nn.batchNorm(x, b, rv, w, null, false)],
    ref: (x, w, b, rv) => {
      const mu = reduceRef(x, [0, 2], false, (xs) => sum(xs) / xs.length);
      const v = reduceRef(x, [0, 2], false, (xs) => sum(xs.map((q) => q * q)) / xs.length - (sum(xs) / xs.length) ** 2);
      const norm = (idx: number[], m: RefArray, s: RefArray) =>
        (at(x, idx) - m.values[idx[1]!]!) / Math.sqrt(s.values[idx[1]!]! + 1e-5);
      return [
        build(x.shape, (idx) => norm(idx, mu, v) * w.values[idx[1]!]! + b.values[idx[1]!]!),
        build(x.shape, (idx) => norm(idx, b, rv) * w.values[idx[1]!]!),
      ];
    },
    grad: true,
    refTol: { rtol: 1e-8, atol: 1e-9 },
  },
  {
    name: 'crossEntropy (classes, probabilities, label smoothing) and nllLoss',
    inputs: (n) => [floats(n, [4, 5]), ints(n, [4], 0, 5), floats(n, [4, 5], 0.1, 1)],
    call: (x, t, p) => {
      const probs = p.div(p.sum(1, true));
      return [
        k.nn.crossEntropy(x, t), k.nn.crossEntropy(x, t, { reduction: 'none', labelSmoothing: 0.2 }),
        k.nn.crossEntropy(x, probs, { reduction: 'sum' }), k.nn.nllLoss(x.logSoftmax(1), t),
      ];
    },
    ref: (x, t, p) => {
      const logp = [0, 1, 2, 3].map((r) => logSoftmaxRow(x.values.slice(r * 5, r * 5 + 5)));
      const picked = logp.map((row, r) => -row[t.values[r]!]!);
      const smooth = logp.map((row, r) => 0.8 * picked[r]! - 0.2 * (sum(row) / 5));
      const probs = logp.map((row, r) => {
        const pr = p.values.slice(r * 5, r * 5 + 5);
        return -sum(row.map((l, c) => (l * pr[c]!) / sum(pr)));
      });
      return [
        meanAll({ shape: [4], values: picked }), { shape: [4], values: smooth }, { shape: [], values: [sum(probs)] },
        meanAll({ shape: [4], values: picked }),
      ];
    },
    grad: true,
  },
  {
    name: 'mseLoss and binaryCrossEntropyWithLogits',
    inputs: (n) => [floats(n, [3, 4], -3, 3), floats(n, [3, 4], 0, 1)],
    call: (x, y) => [
      k.nn.mseLoss(x, y), k.nn.mseLoss(x, y, { reduction: 'none' }), k.nn.binaryCrossEntropyWithLogits(x, y),
    ],
    ref: (x, y) => {
      const d2 = x.values.map((v, i) => (v - y.values[i]!) ** 2);
      const bce = x.values.map((v, i) => Math.max(v, 0) - v * y.values[i]! + Math.log1p(Math.exp(-Math.abs(v))));
      return [
        meanAll({ shape: [12], values: d2 }), { shape: [3, 4], values: d2 }, meanAll({ shape: [12], values: bce }),
      ];
    },
    grad: true,
  },
  {
    name: 'conv2d with stride and padding',
    inputs: (n) => [floats(n, [2, 3, 5, 4]), floats(n, [4, 3, 3, 2]), floats(n, [4])],
    call: (x, w, b) => [k.nn.conv2d(x, w, b), k.nn.conv2d(x, w, b, { stride: 2, padding: 1 })],
    ref: (x, w, b) => [conv2dRef(x, w, b, 1, 0), conv2dRef(x, w, b, 2, 1)],
    grad: true,
    backendTol: 1e-3,
  },
  {
    name: 'maxPool2d and avgPool2d',
    inputs: (n) => [floats(n, [2, 3, 4, 6])],
    call: (x) => [k.nn.maxPool2d(x, 2), k.nn.avgPool2d(x, 2)],
    ref: (x) => [pool2Ref(x, (xs) => Math.max(...xs)), pool2Ref(x, (xs) => sum(xs) / 4)],
    grad: true,
  },
];

const randomRows: TableRecord[] = [
  {
    name: 'rand, randn and randint from a seed',
    inputs: (n) => [floats(n, [2])],
    call: (x) => [
      k.rand([3, 4], { device: x.device }),
      k.randn([5], { device: x.device }),
      k.randint(-3, 7, [2, 3], { device: x.device }),
    ],
    ref: () => {
      // Draws follow each other in the stream: 12 for rand, 2·5 for randn, 2·6 for randint.
      const randn = (i: number) => Math.sqrt(-2 * Math.log(1 - u(12 + i))) * Math.cos(2 * Math.PI * u(17 + i));
      const randint = (i: number) => Math.floor((u(22 + i) + u(28 + i) * 2 ** -24) * 10) - 3;
      return [
        build([3, 4], ([i, j]) => u(i! * 4 + j!)),
        build([5], ([i]) => randn(i!)),
        build([2, 3], ([i, j]) => randint(i! * 3 + j!)),
      ];
    },
    grad: false,
    seed: SEED,
    // randn's float64 Box–Muller sees float32 uniforms: the reference takes the same ones.
    refTol: { rtol: 1e-6, atol: 1e-7 },
  },
  {
    name: 'dropout in training and in evaluation',
    inputs: (n) => [floats(n, [3, 5])],
    call: (x) => [k.nn.dropout(x, 0.3), k.nn.dropout(x, 0.3, false)],
    ref: (x) => [build([3, 5], ([i, j]) => (u(i! * 5 + j!) < Math.fround(0.7) ? at(x, [i!, j!]) / 0.7 : 0)), x],
    grad: true,
    seed: SEED,
    // dropout draws its mask on the CPU whatever the input's device, so a webgpu input fails
    // ("where: operands are on different devices").
    backends: false,
  },
];

export const nnTableRows: TableRecord[] = [...nnRows, ...randomRows];
