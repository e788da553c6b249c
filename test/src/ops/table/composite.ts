/**
 * The table of composite ops (indexing, triangles, scans, sorting, rearranging, norms,
 * einsum, activations, losses, normalization, convolutions, attention). Each record gives
 * seeded inputs, the kiln call and a float64 reference written here on plain arrays; they
 * are rows of the op table (../op-table.ts), which runs every row in every mode.
 */
import * as k from '../../../../src/index.js';
import type { Tensor } from '../../../../src/index.js';
import { at, build, sizeOfShape, unravel, type RefArray } from '../../ref-arrays.js';
import { bools, floats, gridFloats, ints, type TableRecord } from './record.js';

const map = (a: RefArray, f: (v: number, idx: number[]) => number): RefArray => build(a.shape, (idx) => f(at(a, idx), idx));
const sumAll = (a: RefArray): RefArray => ({ shape: [], values: [a.values.reduce((p, v) => p + v, 0)] });
const meanAll = (a: RefArray): RefArray => ({ shape: [], values: [a.values.reduce((p, v) => p + v, 0) / a.values.length] });
const with_ = (idx: number[], d: number, v: number): number[] => idx.map((x, i) => (i === d ? v : x));

function matmulRef(a: RefArray, b: RefArray): RefArray {
  const [m, kk] = a.shape.slice(-2) as [number, number];
  const n = b.shape[b.shape.length - 1]!;
  const lead = a.shape.slice(0, -2);
  return build([...lead, m, n], (idx) => {
    const pre = idx.slice(0, -2);
    let s = 0;
    for (let j = 0; j < kk; j++) s += at(a, [...pre, idx[idx.length - 2]!, j]) * at(b, [...(b.shape.length > 2 ? pre : []), j, idx[idx.length - 1]!]);
    return s;
  });
}

function softmaxLast(a: RefArray): RefArray {
  const n = a.shape[a.shape.length - 1]!;
  return build(a.shape, (idx) => {
    const row = Array.from({ length: n }, (_, j) => at(a, with_(idx, idx.length - 1, j)));
    const m = Math.max(...row);
    const e = row.map((v) => (v === -Infinity ? 0 : Math.exp(v - m)));
    return e[idx[idx.length - 1]!]! / e.reduce((p, v) => p + v, 0);
  });
}

/** Ascending stable order with NaN last; descending reverses the comparison but stays stable. */
function sortOrder(row: number[], descending: boolean): number[] {
  const key = (v: number) => (Number.isNaN(v) ? Infinity : v);
  const rank = (a: number, b: number) => (Number.isNaN(a) ? 1 : 0) - (Number.isNaN(b) ? 1 : 0) || key(a) - key(b);
  return row.map((_, i) => i).sort((i, j) => (descending ? rank(row[j]!, row[i]!) : rank(row[i]!, row[j]!)) || i - j);
}

function sortRef(a: RefArray, descending: boolean, keep = a.shape[a.shape.length - 1]!): RefArray[] {
  const n = a.shape[a.shape.length - 1]!;
  const shape = [...a.shape.slice(0, -1), keep];
  const orders = new Map<string, number[]>();
  const orderAt = (idx: number[]) => {
    const key = idx.slice(0, -1).join(',');
    let o = orders.get(key);
    if (o === undefined) orders.set(key, (o = sortOrder(Array.from({ length: n }, (_, j) => at(a, with_(idx, idx.length - 1, j))), descending)));
    return o;
  };
  const indices = build(shape, (idx) => orderAt(idx)[idx[idx.length - 1]!]!);
  const values = build(shape, (idx) => at(a, with_(idx, idx.length - 1, at(indices, idx))));
  return [values, indices];
}

function scanRef(a: RefArray, axis: number, f: (acc: number, v: number) => number, init: number): RefArray {
  return build(a.shape, (idx) => {
    let acc = init;
    for (let j = 0; j <= idx[axis]!; j++) acc = f(acc, at(a, with_(idx, axis, j)));
    return acc;
  });
}

function groupNormRef(x: RefArray, groups: number, w: RefArray, b: RefArray): RefArray {
  const [n, c] = x.shape as [number, number];
  const per = sizeOfShape(x.shape) / (n * groups);
  const stats = new Map<string, [number, number]>();
  return build(x.shape, (idx) => {
    const g = Math.floor(idx[1]! / (c / groups));
    const key = `${idx[0]},${g}`;
    let s = stats.get(key);
    if (s === undefined) {
      const vals: number[] = [];
      x.values.forEach((v, i) => {
        const j = unravel(i, x.shape);
        if (j[0] === idx[0] && Math.floor(j[1]! / (c / groups)) === g) vals.push(v);
      });
      const mu = vals.reduce((p, v) => p + v, 0) / per;
      stats.set(key, (s = [mu, vals.reduce((p, v) => p + (v - mu) ** 2, 0) / per]));
    }
    return ((at(x, idx) - s[0]) / Math.sqrt(s[1] + 1e-5)) * w.values[idx[1]!]! + b.values[idx[1]!]!;
  });
}

/** Direct 1-D convolution: out[n, o, l] = b[o] + Σ_c Σ_t x[n, c, l·s + t·d - p] w[o, c, t]. */
function conv1dRef(x: RefArray, w: RefArray, b: RefArray, s: number, p: number, d: number): RefArray {
  const [n, c, len] = x.shape as [number, number, number];
  const [o, , kk] = w.shape as [number, number, number];
  const out = Math.floor((len + 2 * p - d * (kk - 1) - 1) / s) + 1;
  return build([n, o, out], ([i, oc, l]) => {
    let acc = b.values[oc!]!;
    for (let ch = 0; ch < c; ch++) for (let t = 0; t < kk; t++) {
      const pos = l! * s + t * d - p;
      if (pos >= 0 && pos < len) acc += at(x, [i!, ch, pos]) * at(w, [oc!, ch, t]);
    }
    return acc;
  });
}

/** Transposed convolution by scattering: each input element adds x·w at out = in·s - p + t·d. */
function convTranspose2dRef(x: RefArray, w: RefArray, b: RefArray, s: number, p: number, op: number): RefArray {
  const [n, cin, h, wd] = x.shape as [number, number, number, number];
  const [, cout, kh, kw] = w.shape as [number, number, number, number];
  const ho = (h - 1) * s - 2 * p + (kh - 1) + op + 1, wo = (wd - 1) * s - 2 * p + (kw - 1) + op + 1;
  const out = build([n, cout, ho, wo], ([, oc]) => b.values[oc!]!);
  const strides = [cout * ho * wo, ho * wo, wo, 1];
  for (let i = 0; i < n; i++) for (let ci = 0; ci < cin; ci++) for (let y = 0; y < h; y++) for (let xx = 0; xx < wd; xx++) {
    for (let oc = 0; oc < cout; oc++) for (let ty = 0; ty < kh; ty++) for (let tx = 0; tx < kw; tx++) {
      const oy = y * s - p + ty, ox = xx * s - p + tx;
      if (oy < 0 || oy >= ho || ox < 0 || ox >= wo) continue;
      out.values[i * strides[0]! + oc * strides[1]! + oy * strides[2]! + ox]! += at(x, [i, ci, y, xx]) * at(w, [ci, oc, ty, tx]);
    }
  }
  return out;
}

/** softmax(q kᵀ · scale, masked) v over [2, 4, E] queries. */
function attentionRef(q: RefArray, kk: RefArray, v: RefArray, scale: number, allowed: (i: number, j: number) => boolean): RefArray {
  const keys = kk.shape[1]!, e = q.shape[2]!, ev = v.shape[2]!;
  const scores = build([2, 4, keys], ([b, i, j]) => {
    if (!allowed(i!, j!)) return -Infinity;
    let s = 0;
    for (let d = 0; d < e; d++) s += at(q, [b!, i!, d]) * at(kk, [b!, j!, d]);
    return scale * s;
  });
  const w = softmaxLast(scores);
  return build([2, 4, ev], ([b, i, d]) => Array.from({ length: keys }, (_, j) => at(w, [b!, i!, j]) * at(v, [b!, j, d!])).reduce((s, x) => s + x, 0));
}

const softplusRef = (v: number) => (v > 20 ? v : Math.log1p(Math.exp(v)));

export const compositeOps: TableRecord[] = [
  {
    name: 'index: integers, ranges, new axes and an ellipsis',
    inputs: (next) => [floats(next, [3, 4, 5])],
    call: (x) => [x.index(1, '1:4:2'), x.index('...', null, 2), x.index(':', -1, { start: 1 }), x.index(null, 0, ':')],
    ref: (x) => [
      build([2, 5], ([a, b]) => at(x, [1, 1 + 2 * a!, b!])),
      build([3, 4, 1], ([a, b]) => at(x, [a!, b!, 2])),
      build([3, 4], ([a, b]) => at(x, [a!, 3, 1 + b!])),
      build([1, 4, 5], ([, a, b]) => at(x, [0, a!, b!])),
    ],
    grad: true,
  },
  {
    name: 'index: int32 tensors (adjacent, separated, negative)',
    inputs: (next) => [floats(next, [4, 3, 5]), ints(next, [2, 2], -4, 4), ints(next, [2, 2], 0, 5)],
    call: (x, i, j) => [x.index(i), x.index(i, ':', j), x.index(':', i.remainder(3), j)],
    ref: (x, i, j) => {
      const w = (v: number, n: number) => (v < 0 ? v + n : v);
      return [
        build([2, 2, 3, 5], ([a, b, c, d]) => at(x, [w(at(i, [a!, b!]), 4), c!, d!])),
        build([2, 2, 3], ([a, b, c]) => at(x, [w(at(i, [a!, b!]), 4), c!, at(j, [a!, b!])])),
        build([4, 2, 2], ([a, b, c]) => at(x, [a!, ((at(i, [b!, c!]) % 3) + 3) % 3, at(j, [b!, c!])])),
      ];
    },
    grad: true,
  },
  {
    name: 'index: a bool mask',
    inputs: (next) => [floats(next, [3, 4]), bools(next, [3, 4])],
    call: (x, m) => [x.index(m), x.index(m.index(':', 0)), x.index(':', m.index(0))],
    ref: (x, m) => {
      const picked = x.values.filter((_, i) => m.values[i]);
      const rows = [0, 1, 2].filter((r) => at(m, [r, 0]));
      const cols = [0, 1, 2, 3].filter((c) => at(m, [0, c]));
      return [
        { shape: [picked.length], values: picked },
        build([rows.length, 4], ([r, c]) => at(x, [rows[r!]!, c!])),
        build([3, cols.length], ([r, c]) => at(x, [r!, cols[c!]!])),
      ];
    },
    grad: true,
    readsValues: true,
    backends: false,
  },
  {
    name: 'indexPut and maskedFill',
    inputs: (next) => [floats(next, [4, 3]), floats(next, [3]), bools(next, [4, 1])],
    call: (x, v, m) => [
      x.indexPut([k.tensor([2, 0], { dtype: 'int32', device: x.device })], v),
      x.indexPut([k.tensor([1, 1, 3], { dtype: 'int32', device: x.device }), k.tensor([0, 0, 2], { dtype: 'int32', device: x.device })], v, true),
      x.maskedFill(m, -7),
    ],
    ref: (x, v, m) => [
      build([4, 3], ([r, c]) => (r === 2 || r === 0 ? v.values[c!]! : at(x, [r!, c!]))),
      build([4, 3], ([r, c]) => at(x, [r!, c!]) + (r === 1 && c === 0 ? v.values[0]! + v.values[1]! : 0) + (r === 3 && c === 2 ? v.values[2]! : 0)),
      build([4, 3], ([r, c]) => (at(m, [r!, 0]) ? -7 : at(x, [r!, c!]))),
    ],
    grad: true,
  },
  {
    name: 'tril and triu with diagonals',
    inputs: (next) => [floats(next, [2, 4, 5])],
    call: (x) => [x.tril(), x.triu(1), k.tril(x, -1), k.triu(x, -2), k.tril(x.gt(0)).cast(x.dtype)],
    ref: (x) => [
      ...[0, 1, -1, -2].map((d, i) => map(x, (v, idx) => ((i % 2 === 0 ? idx[2]! - idx[1]! <= d : idx[2]! - idx[1]! >= d) ? v : 0))),
      map(x, (v, idx) => (idx[2]! <= idx[1]! && v > 0 ? 1 : 0)),
    ],
    grad: true,
  },
  {
    name: 'cumsum and cumprod along each axis',
    inputs: (next) => [floats(next, [3, 5], 0.5, 1.5)],
    call: (x) => [x.cumsum(0), x.cumsum(-1), x.cumprod(1), k.cumprod(x, 0)],
    ref: (x) => [scanRef(x, 0, (a, v) => a + v, 0), scanRef(x, 1, (a, v) => a + v, 0), scanRef(x, 1, (a, v) => a * v, 1), scanRef(x, 0, (a, v) => a * v, 1)],
    grad: true,
  },
  {
    name: 'sort, argsort and topk (stable, with ties)',
    inputs: (next) => [gridFloats(next, [3, 7])],
    call: (x) => {
      const s = x.sort(), d = x.sort(-1, true), t = x.topk(3);
      return [s.values, s.indices, d.values, d.indices, x.argsort(), t.values, t.indices];
    },
    ref: (x) => {
      const [sv, si] = sortRef(x, false), [dv, di] = sortRef(x, true), [tv, ti] = sortRef(x, true, 3);
      return [sv!, si!, dv!, di!, si!, tv!, ti!];
    },
    // Ties make the sort piecewise constant: its gradient is checked on distinct values below.
    grad: false,
  },
  {
    name: 'sort and topk of distinct values along axis 0',
    inputs: (next) => [floats(next, [6, 3])],
    call: (x) => [k.sort(x, 0).values, k.topk(x, 2, 0, false).values],
    ref: (x) => {
      const t = build([3, 6], ([a, b]) => at(x, [b!, a!]));
      const [sv] = sortRef(t, false), [tv] = sortRef(t, false, 2);
      return [build([6, 3], ([a, b]) => at(sv!, [b!, a!])), build([2, 3], ([a, b]) => at(tv!, [b!, a!]))];
    },
    grad: true,
  },
  {
    name: 'flip, roll, repeat, tile and movedim',
    inputs: (next) => [floats(next, [2, 3, 4])],
    call: (x) => [x.flip([0, 2]), x.roll(1, 2), x.roll([-1, 5], [1, 2]), x.roll(3), x.repeat([2, 1, 2]), x.tile([2]), x.movedim(0, 2)],
    ref: (x) => {
      const flat = x.values;
      return [
        build([2, 3, 4], ([a, b, c]) => at(x, [1 - a!, b!, 3 - c!])),
        build([2, 3, 4], ([a, b, c]) => at(x, [a!, b!, (c! + 3) % 4])),
        build([2, 3, 4], ([a, b, c]) => at(x, [a!, (b! + 1) % 3, (c! + 3) % 4])),
        { shape: [2, 3, 4], values: flat.map((_, i) => flat[(i + 21) % 24]!) },
        build([4, 3, 8], ([a, b, c]) => at(x, [a! % 2, b!, c! % 4])),
        build([2, 3, 8], ([a, b, c]) => at(x, [a!, b!, c! % 4])),
        build([3, 4, 2], ([a, b, c]) => at(x, [c!, a!, b!])),
      ];
    },
    grad: true,
  },
  {
    name: 'norms and closeness',
    inputs: (next) => [floats(next, [3, 4], 0.2, 2), floats(next, [3, 4], 0.2, 2)],
    call: (x, y) => [x.norm(), x.norm(1, 1), x.norm(Infinity, 0, true), x.norm(3, [0, 1]), x.isclose(y.mul(0).add(x).add(1e-9)).cast('float32')],
    ref: (x) => [
      { shape: [], values: [Math.sqrt(x.values.reduce((p, v) => p + v * v, 0))] },
      build([3], ([r]) => [0, 1, 2, 3].reduce((p, c) => p + Math.abs(at(x, [r!, c])), 0)),
      build([1, 4], ([, c]) => Math.max(...[0, 1, 2].map((r) => Math.abs(at(x, [r, c!]))))),
      { shape: [], values: [x.values.reduce((p, v) => p + Math.abs(v) ** 3, 0) ** (1 / 3)] },
      map(x, () => 1),
    ],
    grad: true,
  },
  {
    name: 'einsum: batched matmul, transpose, trace-free contractions',
    inputs: (next) => [floats(next, [2, 3, 4]), floats(next, [2, 4, 5]), floats(next, [5])],
    call: (a, b, v) => [k.einsum('bij,bjk->bik', a, b), k.einsum('bij->jb', a), k.einsum('bij,bjk,k->bi', a, b, v), k.einsum('bij,bij', a, a)],
    ref: (a, b, v) => {
      const ab = matmulRef(a, b);
      return [
        ab,
        build([4, 2], ([j, bb]) => [0, 1, 2].reduce((p, i) => p + at(a, [bb!, i, j!]), 0)),
        build([2, 3], ([bb, i]) => [0, 1, 2, 3, 4].reduce((p, kk) => p + at(ab, [bb!, i!, kk]) * v.values[kk]!, 0)),
        { shape: [], values: [a.values.reduce((p, x) => p + x * x, 0)] },
      ];
    },
    grad: true,
  },
  {
    name: 'maxWithIndices and minWithIndices (first of ties)',
    inputs: (next) => [gridFloats(next, [3, 5])],
    call: (x) => {
      const mx = x.maxWithIndices(1), mn = k.minWithIndices(x, 0, true);
      return [mx.values, mx.indices, mn.values, mn.indices];
    },
    ref: (x) => {
      const first = (vals: number[], better: (a: number, b: number) => boolean) => vals.reduce((bi, v, i) => (better(v, vals[bi]!) ? i : bi), 0);
      const rows = (r: number) => [0, 1, 2, 3, 4].map((c) => at(x, [r, c]));
      const cols = (c: number) => [0, 1, 2].map((r) => at(x, [r, c]));
      return [
        build([3], ([r]) => Math.max(...rows(r!))),
        build([3], ([r]) => first(rows(r!), (a, b) => a > b)),
        build([1, 5], ([, c]) => Math.min(...cols(c!))),
        build([1, 5], ([, c]) => first(cols(c!), (a, b) => a < b)),
      ];
    },
    grad: false,
  },
  {
    name: 'activations: leakyRelu, softplus, elu, mish, hardswish',
    inputs: (next) => [floats(next, [4, 6], -4, 4)],
    call: (x) => [k.nn.leakyRelu(x, 0.1), k.nn.softplus(x), k.nn.softplus(x, 2, 3), k.nn.elu(x, 0.5), k.nn.mish(x), k.nn.hardswish(x)],
    ref: (x) => [
      map(x, (v) => (v > 0 ? v : 0.1 * v)),
      map(x, softplusRef),
      map(x, (v) => (2 * v > 3 ? v : Math.log1p(Math.exp(2 * v)) / 2)),
      map(x, (v) => (v > 0 ? v : 0.5 * Math.expm1(v))),
      map(x, (v) => v * Math.tanh(softplusRef(v))),
      map(x, (v) => (v * Math.min(Math.max(v + 3, 0), 6)) / 6),
    ],
    grad: true,
  },
  {
    name: 'losses: l1, smoothL1, huber, klDiv',
    inputs: (next) => [floats(next, [3, 4], -2, 2), floats(next, [3, 4], -2, 2), floats(next, [3, 4], 0.1, 1)],
    call: (x, y, p) => {
      const logq = x.logSoftmax(1), q = p.div(p.sum(1, true));
      return [k.nn.l1Loss(x, y), k.nn.smoothL1Loss(x, y, { beta: 0.5 }), k.nn.huberLoss(x, y, { delta: 0.7, reduction: 'sum' }), k.nn.klDiv(logq, q, { reduction: 'batchmean' })];
    },
    ref: (x, y, p) => {
      const d = build(x.shape, (idx) => Math.abs(at(x, idx) - at(y, idx)));
      const lse = [0, 1, 2].map((r) => Math.log([0, 1, 2, 3].reduce((s, c) => s + Math.exp(at(x, [r, c])), 0)));
      const rowSum = [0, 1, 2].map((r) => [0, 1, 2, 3].reduce((s, c) => s + at(p, [r, c]), 0));
      const kl = build(x.shape, ([r, c]) => {
        const q = at(p, [r!, c!]) / rowSum[r!]!;
        return q * (Math.log(q) - (at(x, [r!, c!]) - lse[r!]!));
      });
      return [
        meanAll(d),
        meanAll(map(d, (v) => (v < 0.5 ? (0.5 * v * v) / 0.5 : v - 0.25))),
        sumAll(map(d, (v) => (v < 0.7 ? 0.5 * v * v : 0.7 * (v - 0.35)))),
        { shape: [], values: [sumAll(kl).values[0]! / 3] },
      ];
    },
    grad: true,
  },
  {
    name: 'groupNorm',
    inputs: (next) => [floats(next, [2, 6, 3, 2]), floats(next, [6]), floats(next, [6])],
    call: (x, w, b) => [k.nn.groupNorm(x, 3, w, b), k.nn.groupNorm(x, 1, w, b)],
    ref: (x, w, b) => [groupNormRef(x, 3, w, b), groupNormRef(x, 1, w, b)],
    grad: true,
  },
  {
    name: 'conv1d with stride, padding and dilation',
    inputs: (next) => [floats(next, [2, 3, 9]), floats(next, [4, 3, 3]), floats(next, [4])],
    call: (x, w, b) => [k.nn.conv1d(x, w, b), k.nn.conv1d(x, w, b, { stride: 2, padding: 1, dilation: 2 })],
    ref: (x, w, b) => [conv1dRef(x, w, b, 1, 0, 1), conv1dRef(x, w, b, 2, 1, 2)],
    grad: true,
  },
  {
    name: 'convTranspose2d with stride, padding and output padding',
    inputs: (next) => [floats(next, [2, 3, 3, 4]), floats(next, [3, 2, 3, 2]), floats(next, [2])],
    call: (x, w, b) => [k.nn.convTranspose2d(x, w, b), k.nn.convTranspose2d(x, w, b, { stride: 2, padding: 1, outputPadding: 1 })],
    ref: (x, w, b) => [convTranspose2dRef(x, w, b, 1, 0, 0), convTranspose2dRef(x, w, b, 2, 1, 1)],
    grad: true,
    backendTol: 1e-3,
  },
  {
    // Two outputs whose masks are both built from iota inside one trace (a causal triangle
    // made on q's device, an identity made on the CPU and moved): on WebGPU the two iotas
    // once merged into one value and the second output replayed wrong.
    name: 'scaledDotProductAttention, causal and with a bool mask and a scale',
    inputs: (next) => [floats(next, [2, 4, 3]), floats(next, [2, 5, 3]), floats(next, [2, 5, 2]), bools(next, [4, 5], 0.7)],
    call: (q, kk, v, m) => [
      k.nn.scaledDotProductAttention(q, kk, v, { isCausal: true }),
      k.nn.scaledDotProductAttention(q, kk, v, {
        attnMask: m.logicalOr(k.eye(4, 5, { dtype: 'bool', device: q.device })),
        scale: 0.3,
      }),
    ],
    ref: (q, kk, v, m) => [
      attentionRef(q, kk, v, 1 / Math.sqrt(3), (i, j) => j <= i),
      attentionRef(q, kk, v, 0.3, (i, j) => at(m, [i, j]) !== 0 || i === j),
    ],
    grad: true,
  },
];
