/** Reductions (with axes and keepdim) and matmul (vector, matrix, batched with broadcast batch dims). */
import { matmulAccumulator } from '../../compiler/ref/evaluate.js';
import { matmul } from '../../src/index.js';
import { build, sizeOfShape, unravel } from '../src/ref-arrays.js';
import type { OpRecord, RefValue } from './op-record.js';
import { isFloatType, type FuzzDType, type Params } from './program.js';
import { broadcast } from './shapes.js';

const FLT_MAX = 3.4028234663852886e38;

/** Unit roundoff of a float dtype: a sum of n terms is off by at most about n·u·Σ|x|. */
function unitRoundoff(d: FuzzDType): number {
  return d === 'float64' ? 2 ** -53 : 2 ** -24;
}

type ReduceName = 'sum' | 'mean' | 'max' | 'min' | 'prod' | 'argmax';

interface Fold {
  init: number;
  step: (acc: number, x: number) => number;
}

function axesOf(p: Params, ndim: number): number[] {
  if (p.axes === null) return Array.from({ length: ndim }, (_, i) => i);
  return (p.axes as number[]).map((a) => (a < 0 ? a + Math.max(ndim, 1) : a)).filter((a) => a < ndim);
}

function resultDtype(name: ReduceName, d: FuzzDType): FuzzDType {
  if (name === 'argmax') return 'int32';
  if (name === 'mean') return d === 'float64' ? 'float64' : 'float32';
  if ((name === 'sum' || name === 'prod') && d === 'bool') return 'int32';
  return d;
}

/** Reduces `x` over `axes` with `f`, which sees each group's elements in row-major order. */
function reduceRef(x: RefValue, axes: number[], keepdim: boolean, dtype: FuzzDType, f: (xs: number[]) => [number, number]): RefValue {
  const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const outShape = keepdim ? kept : x.shape.filter((_, i) => !axes.includes(i));
  const groups = new Map<number, number[]>();
  const n = sizeOfShape(x.shape);
  for (let i = 0; i < n; i++) {
    const idx = unravel(i, x.shape);
    let key = 0;
    idx.forEach((v, d) => (key = key * kept[d]! + (axes.includes(d) ? 0 : v)));
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = []));
    g.push(x.values[i]!);
  }
  const size = sizeOfShape(outShape);
  const values: number[] = [], bound: number[] = [];
  for (let k = 0; k < size; k++) {
    const [v, b] = f(groups.get(k) ?? []);
    values.push(v);
    bound.push(b);
  }
  return { shape: outShape, dtype, values, bound };
}

function reduction(name: ReduceName): OpRecord {
  const folds: Record<Exclude<ReduceName, 'argmax' | 'mean'>, Fold> = {
    sum: { init: 0, step: (a, x) => a + x },
    prod: { init: 1, step: (a, x) => a * x },
    max: { init: -Infinity, step: (a, x) => (a !== a || x !== x ? NaN : Math.max(a, x)) },
    min: { init: Infinity, step: (a, x) => (a !== a || x !== x ? NaN : Math.min(a, x)) },
  };
  const needsElements = name === 'max' || name === 'min' || name === 'argmax';
  return {
    name, family: 'reduce', smooth: name === 'sum' || name === 'mean',
    check: name === 'max' || name === 'min' ? 'select' : name === 'argmax' ? 'exact' : 'accumulate',
    propose(c) {
      const a = c.pick((m) => (m.dtype !== 'bool' || name === 'sum') && (name !== 'mean' || isFloatType(m.dtype)));
      if (a === undefined) return undefined;
      const m = c.meta(a);
      let axes: number[] | null = null;
      if (m.shape.length > 0 && (name === 'argmax' || c.rng.chance(0.75))) {
        const count = name === 'argmax' ? 1 : c.rng.int(1, m.shape.length);
        const all = Array.from({ length: m.shape.length }, (_, i) => i).sort(() => c.rng.next() - 0.5).slice(0, count);
        axes = all.map((ax) => (c.rng.chance(0.3) ? ax - m.shape.length : ax));
      }
      const reduced = axes === null ? m.shape.map((_, i) => i) : axes.map((ax) => (ax < 0 ? ax + m.shape.length : ax));
      if (needsElements && reduced.some((ax) => m.shape[ax] === 0)) return undefined;
      if (needsElements && axes === null && m.shape.includes(0)) return undefined;
      const keepdim = c.rng.chance(0.4);
      const shape = keepdim ? m.shape.map((d, i) => (reduced.includes(i) ? 1 : d)) : m.shape.filter((_, i) => !reduced.includes(i));
      return { args: [a], params: { axes, keepdim }, meta: { shape, dtype: resultDtype(name, m.dtype) } };
    },
    run([a], p) {
      if (name === 'argmax') return a!.argmax(p.axes === null ? null : (p.axes as number[])[0]!, p.keepdim as boolean);
      return a![name](p.axes as number[] | null, p.keepdim as boolean);
    },
    ref([x], p) {
      const axes = axesOf(p, x!.shape.length);
      const dtype = resultDtype(name, x!.dtype);
      const u = unitRoundoff(dtype === 'int32' ? 'float64' : dtype);
      const isInt = dtype === 'int32' && name !== 'argmax';
      return reduceRef(x!, axes, p.keepdim as boolean, dtype, (xs) => {
        if (name === 'argmax') {
          let best = 0;
          for (let i = 1; i < xs.length; i++) if (xs[best] === xs[best] && (xs[i]! > xs[best]! || xs[i] !== xs[i])) best = i;
          return [best, 0];
        }
        if (name === 'mean') {
          const s = xs.reduce((acc, v) => acc + v, 0), magnitude = xs.reduce((acc, v) => acc + Math.abs(v), 0);
          // A float32 sum of large values may overflow before the division, as PyTorch's does.
          const bound = dtype === 'float32' && magnitude > FLT_MAX ? Infinity : ((xs.length + 2) * 2 * u * magnitude) / xs.length;
          return [s / xs.length, bound];
        }
        const fold = folds[name];
        let acc = fold.init;
        for (const v of xs) acc = isInt ? (name === 'prod' ? Math.imul(acc, v) : (fold.step(acc, v) | 0)) : fold.step(acc, v);
        const magnitude = name === 'prod' ? xs.reduce((q, v) => q * Math.abs(v), 1) : xs.reduce((q, v) => q + Math.abs(v), 0);
        // A float32 running product that overflows may end as ±Inf or NaN (Inf × 0) where float64 does not.
        let peak = 1;
        for (let i = 0, q = 1; name === 'prod' && i < xs.length; i++) peak = Math.max(peak, (q *= Math.abs(xs[i]!)));
        if (dtype === 'float32' && peak > FLT_MAX) return [acc, Infinity];
        return [acc, (xs.length + 2) * 2 * u * magnitude];
      });
    },
    print([a], p) {
      const list = p.axes as number[] | null;
      const axes = list === null ? (p.keepdim ? 'null' : '') : name === 'argmax' ? String(list[0]) : `[${list.join(', ')}]`;
      return `${a}.${name}(${axes}${p.keepdim ? ', true' : ''})`;
    },
  };
}

const matmulOp: OpRecord = {
  name: 'matmul', family: 'matmul', smooth: true, check: 'accumulate',
  propose(c) {
    const a = c.pick((m) => m.shape.length >= 1 && m.shape.length <= 3 && (isFloatType(m.dtype) || m.dtype === 'int32'));
    if (a === undefined) return undefined;
    const ma = c.meta(a);
    const k = ma.shape[ma.shape.length - 1]!;
    const n = c.rng.int(1, 3);
    const rank = c.rng.int(1, 3);
    const batch = ma.shape.length === 3 ? [c.rng.chance(0.5) ? 1 : ma.shape[0]!] : [c.rng.int(1, 2)];
    const bShape = rank === 1 ? [k] : rank === 2 ? [k, n] : [...batch, k, n];
    const b = c.pick((m, v) => v !== a && m.dtype === ma.dtype && m.shape.join() === bShape.join())
      ?? c.input({ shape: bShape, dtype: ma.dtype });
    return { args: [a, b], params: {}, meta: { shape: matmulShape(ma.shape, bShape), dtype: ma.dtype } };
  },
  run: ([a, b]) => matmul(a!, b!),
  ref([a, b]) {
    const shape = matmulShape(a!.shape, b!.shape);
    const A = a!.shape.length === 1 ? { ...a!, shape: [1, a!.shape[0]!] } : a!;
    const B = b!.shape.length === 1 ? { ...b!, shape: [b!.shape[0]!, 1] } : b!;
    const ar = A.shape.length, br = B.shape.length;
    const m = A.shape[ar - 2]!, k = A.shape[ar - 1]!, n = B.shape[br - 1]!;
    const batch = broadcast(A.shape.slice(0, ar - 2), B.shape.slice(0, br - 2));
    const full = [...batch, m, n];
    // The active engine's order and precision of accumulation (float32 sums on the Wasm
    // kernel, where an overflowing product meeting its opposite gives NaN, not ±Infinity).
    const step = matmulAccumulator(a!.dtype);
    const u = unitRoundoff(a!.dtype === 'int32' ? 'float64' : a!.dtype);
    const at = (x: RefValue, rank: number, bi: number[], i: number, j: number) => {
      const lead = x.shape.slice(0, rank - 2);
      let p = 0;
      lead.forEach((d, q) => (p = p * d + (d === 1 ? 0 : bi[bi.length - lead.length + q]!)));
      return x.values[(p * x.shape[rank - 2]! + i) * x.shape[rank - 1]! + j]!;
    };
    const values: number[] = [], bound: number[] = [];
    build(full, (idx) => {
      const bi = idx.slice(0, batch.length), i = idx[batch.length]!, j = idx[batch.length + 1]!;
      let s = 0, mag = 0;
      for (let q = 0; q < k; q++) {
        const x = at(A, ar, bi, i, q), y = at(B, br, bi, q, j);
        s = step(s, x, y);
        mag += Math.abs(x * y);
      }
      values.push(s);
      bound.push((k + 2) * 2 * u * mag);
      return 0;
    });
    return { shape, dtype: a!.dtype, values, bound };
  },
  print: ([a, b]) => `${a}.matmul(${b})`,
};

function matmulShape(a: readonly number[], b: readonly number[]): number[] {
  if (a.length === 1 && b.length === 1) return [];
  if (a.length === 1) return [...b.slice(0, -2), b[b.length - 1]!];
  if (b.length === 1) return a.slice(0, -1);
  return [...broadcast(a.slice(0, -2), b.slice(0, -2)), a[a.length - 2]!, b[b.length - 1]!];
}

export const reduceOps: OpRecord[] = [
  reduction('sum'), reduction('mean'), reduction('max'), reduction('min'), reduction('prod'), reduction('argmax'), matmulOp,
];
