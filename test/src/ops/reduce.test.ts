/**
 * Reductions against float64 reference loops written here: random shapes of rank 1–4, every
 * way of naming axes, keepdim, strided inputs, zero-size inputs, NaN, ties, int32/bool, and
 * softmax / logSoftmax / logsumexp at extreme values.
 */
import { roundToHalf } from '../../../runtime/half.js';
import { describe, expect, it } from 'vitest';
import * as k from '../../../src/index.js';
import type { DType, Tensor } from '../../../src/index.js';
import { expectAllClose, uniform } from '../../helpers.js';
import { randInt, randShape, withSeed } from '../random-inputs.js';
import { build, expandRef, permuteRef, sizeOfShape, sliceRef, unravel, type RefArray } from '../ref-arrays.js';

type Axes = number | number[] | undefined;

// ---------------------------------------------------------------------------------------
// Reference reductions (float64 over the values of each reduced group, row-major order).

/** Reduces `a` over `axes` (all when undefined) with `f` applied to each group's values. */
function reduceRef(a: RefArray, axes: Axes, keepdim: boolean, f: (v: number[]) => number): RefArray {
  const rank = a.shape.length;
  const list = axes === undefined ? a.shape.map((_, i) => i) : (typeof axes === 'number' ? [axes] : axes).map((x) => (x < 0 ? x + rank : x));
  const kept = a.shape.map((_, i) => i).filter((i) => !list.includes(i));
  const reducedDims = a.shape.map((_, i) => i).filter((i) => list.includes(i));
  const reducedShape = reducedDims.map((i) => a.shape[i]!);
  const outShape = keepdim ? a.shape.map((d, i) => (list.includes(i) ? 1 : d)) : kept.map((i) => a.shape[i]!);
  const keptShape = kept.map((i) => a.shape[i]!);
  const n = sizeOfShape(reducedShape);
  const values: number[] = [];
  for (let o = 0; o < sizeOfShape(keptShape); o++) {
    const oi = unravel(o, keptShape);
    const group: number[] = [];
    for (let r = 0; r < n; r++) {
      const ri = unravel(r, reducedShape);
      const idx = new Array<number>(rank);
      kept.forEach((d, j) => (idx[d] = oi[j]!));
      reducedDims.forEach((d, j) => (idx[d] = ri[j]!));
      let p = 0;
      for (let d = 0; d < rank; d++) p = p * a.shape[d]! + idx[d]!;
      group.push(a.values[p]!);
    }
    values.push(f(group));
  }
  return { shape: outShape, values };
}

const sumRef = (v: number[]) => v.reduce((s, x) => s + x, 0);
const meanRef = (v: number[]) => sumRef(v) / v.length;
const varRef = (c: number) => (v: number[]) => {
  const m = meanRef(v);
  return v.reduce((s, x) => s + (x - m) * (x - m), 0) / Math.max(0, v.length - c);
};
const maxRef = (v: number[]) => (v.some(Number.isNaN) ? NaN : v.reduce((m, x) => (x > m ? x : m), -Infinity));
const minRef = (v: number[]) => (v.some(Number.isNaN) ? NaN : v.reduce((m, x) => (x < m ? x : m), Infinity));
/** Index of the first NaN, else of the first extreme value. */
const argRef = (better: (x: number, best: number) => boolean) => (v: number[]) => {
  const firstNaN = v.findIndex(Number.isNaN);
  if (firstNaN >= 0) return firstNaN;
  let at = 0;
  for (let i = 1; i < v.length; i++) if (better(v[i]!, v[at]!)) at = i;
  return at;
};
/** log Σ exp: -Inf for no mass, +Inf if any +Inf, NaN if any NaN. */
const logsumexpRef = (v: number[]) => {
  if (v.some(Number.isNaN)) return NaN;
  const m = v.reduce((a, x) => Math.max(a, x), -Infinity);
  if (m === -Infinity || m === Infinity) return m;
  return m + Math.log(v.reduce((s, x) => s + Math.exp(x - m), 0));
};
const wrap32 = (v: bigint) => Number(BigInt.asIntN(32, v));
const sumInt = (v: number[]) => wrap32(v.reduce((s, x) => s + BigInt(x), 0n));
const prodInt = (v: number[]) => wrap32(v.reduce((s, x) => s * BigInt(x), 1n));

// ---------------------------------------------------------------------------------------
// The reductions table.

type Domain = (next: () => number, n: number) => number[];
interface Tol {
  rtol: number;
  atol: number;
}

interface Reduction {
  name: string;
  call: (x: Tensor, axis: Axes, keepdim: boolean) => Tensor;
  ref: (v: number[]) => number;
  /** Exact semantics for int32/bool inputs, when they differ from float64 arithmetic. */
  refInt?: (v: number[]) => number;
  dtypes: DType[];
  out: (dt: DType) => DType;
  /** argmax/argmin take one axis (or none), not a list. */
  singleAxis?: boolean;
  domain: Domain;
  tol?: Partial<Record<'float32' | 'float64', Tol>>;
}

const same = (dt: DType): DType => dt;
/** PyTorch sums and multiplies bool and uint8 in int64, which kiln stores as int32. */
const intSum = (dt: DType): DType => (dt === 'bool' || dt === 'uint8' ? 'int32' : dt);
const floatOut = (dt: DType): DType => (dt === 'int32' || dt === 'uint8' || dt === 'bool' ? 'float32' : dt);
const asInt32 = (): DType => 'int32';
const asBool = (): DType => 'bool';
/** Composites that round at several float32 steps (centering, squaring, exp, log). */
const COMPOSITE: Reduction['tol'] = { float32: { rtol: 1e-5, atol: 1e-6 }, float64: { rtol: 1e-12, atol: 1e-14 } };

/** Values in ±[0.5, 1.5], so long products stay in range. */
const prodDomain: Domain = (next, n) => uniform(next, n, 0.5, 1.5).map((v) => (next() < 0.3 ? -v : v));
/** A coarse grid, so equal values (ties) are common. */
const tieDomain: Domain = (next, n) => Array.from({ length: n }, () => randInt(next, -3, 3) / 2);

const reductions: Reduction[] = [
  { name: 'sum', call: (x, a, kd) => x.sum(a, kd), ref: sumRef, refInt: sumInt, dtypes: ['float32', 'float64', 'int32', 'uint8', 'bool'], out: intSum, domain: (nx, n) => uniform(nx, n, -10, 10) },
  { name: 'mean', call: (x, a, kd) => x.mean(a, kd), ref: meanRef, dtypes: ['float32', 'float64', 'int32', 'uint8', 'bool'], out: floatOut, domain: (nx, n) => uniform(nx, n, -10, 10) },
  { name: 'prod', call: (x, a, kd) => x.prod(a, kd), ref: (v) => v.reduce((p, x) => p * x, 1), refInt: prodInt, dtypes: ['float32', 'float64', 'int32', 'uint8'], out: intSum, domain: prodDomain },
  { name: 'max', call: (x, a, kd) => x.max(a, kd), ref: maxRef, dtypes: ['float32', 'float64', 'int32', 'uint8', 'bool'], out: same, domain: tieDomain },
  { name: 'min', call: (x, a, kd) => x.min(a, kd), ref: minRef, dtypes: ['float32', 'float64', 'int32', 'uint8', 'bool'], out: same, domain: tieDomain },
  {
    name: 'argmax', call: (x, a, kd) => x.argmax(a as number | undefined, kd), ref: argRef((x, b) => x > b),
    dtypes: ['float32', 'float64', 'int32', 'uint8', 'bool'], out: asInt32, singleAxis: true, domain: tieDomain,
  },
  {
    name: 'argmin', call: (x, a, kd) => x.argmin(a as number | undefined, kd), ref: argRef((x, b) => x < b),
    dtypes: ['float32', 'float64', 'int32', 'uint8'], out: asInt32, singleAxis: true, domain: tieDomain,
  },
  { name: 'var', call: (x, a, kd) => x.var(a, kd), ref: varRef(1), dtypes: ['float32', 'float64', 'int32'], out: floatOut, domain: (nx, n) => uniform(nx, n, -5, 5), tol: COMPOSITE },
  { name: 'var(correction 0)', call: (x, a, kd) => k.var(x, a, kd, 0), ref: varRef(0), dtypes: ['float32', 'float64'], out: floatOut, domain: (nx, n) => uniform(nx, n, -5, 5), tol: COMPOSITE },
  { name: 'std', call: (x, a, kd) => x.std(a, kd), ref: (v) => Math.sqrt(varRef(1)(v)), dtypes: ['float32', 'float64', 'int32'], out: floatOut, domain: (nx, n) => uniform(nx, n, -5, 5), tol: COMPOSITE },
  { name: 'std(correction 0)', call: (x, a, kd) => x.std(a, kd, 0), ref: (v) => Math.sqrt(varRef(0)(v)), dtypes: ['float32', 'float64'], out: floatOut, domain: (nx, n) => uniform(nx, n, -5, 5), tol: COMPOSITE },
  { name: 'logsumexp', call: (x, a, kd) => x.logsumexp(a, kd), ref: logsumexpRef, dtypes: ['float32', 'float64', 'int32'], out: floatOut, domain: (nx, n) => uniform(nx, n, -20, 20), tol: COMPOSITE },
  { name: 'any', call: (x, a, kd) => x.any(a, kd), ref: (v) => (v.some((x) => x !== 0) ? 1 : 0), dtypes: ['float32', 'int32', 'uint8', 'bool'], out: asBool, domain: (nx, n) => Array.from({ length: n }, () => (nx() < 0.8 ? 0 : 1)) },
  { name: 'all', call: (x, a, kd) => x.all(a, kd), ref: (v) => (v.every((x) => x !== 0) ? 1 : 0), dtypes: ['float32', 'int32', 'uint8', 'bool'], out: asBool, domain: (nx, n) => Array.from({ length: n }, () => (nx() < 0.2 ? 0 : 2)) },
];

// ---------------------------------------------------------------------------------------
// Drivers.

function draw(r: Reduction, dt: DType, n: number, next: () => number): number[] {
  const raw = r.domain(next, n);
  switch (dt) {
    case 'float16': return raw.map(roundToHalf);
    case 'float32': return raw.map(Math.fround);
    case 'float64': return raw;
    case 'int32': return raw.map((v) => Math.round(v * 3) + 0);
    // Negative draws wrap to the top of the range, so 255 and its neighbours occur.
    case 'uint8': return raw.map((v) => (Math.round(v * 3) + 256) % 256);
    case 'bool': return raw.map((v) => (v > 0 ? 1 : 0));
  }
}

function randomInput(r: Reduction, dt: DType, shape: number[], next: () => number): { t: Tensor; ref: RefArray } {
  const values = draw(r, dt, sizeOfShape(shape), next);
  return { t: k.tensor(values, { dtype: dt }).reshape(shape), ref: { shape, values } };
}

function expectedOf(r: Reduction, dt: DType, v: number[]): number {
  const x = (dt === 'int32' || dt === 'uint8' || dt === 'bool') && r.refInt ? r.refInt(v) : r.ref(v);
  return r.out(dt) === 'float32' ? Math.fround(x) : x;
}

function tolerance(r: Reduction, dt: DType): Tol {
  const out = r.out(dt);
  if (out === 'float32') return r.tol?.float32 ?? { rtol: 1e-6, atol: 1e-7 };
  if (out === 'float64') return r.tol?.float64 ?? { rtol: 1e-13, atol: 1e-15 };
  return { rtol: 0, atol: 0 };
}

function check(r: Reduction, dt: DType, x: { t: Tensor; ref: RefArray }, axes: Axes, keepdim: boolean): void {
  const want = reduceRef(x.ref, axes, keepdim, (v) => expectedOf(r, dt, v));
  try {
    expectAllClose(r.call(x.t, axes, keepdim), want.values, { shape: want.shape, dtype: r.out(dt), ...tolerance(r, dt) });
  } catch (e) {
    if (e instanceof Error) e.message = `${r.name} of [${x.ref.shape}] over ${JSON.stringify(axes) ?? 'all axes'}, keepdim ${keepdim}: ${e.message}`;
    throw e;
  }
}

/** Axis choices for a rank: all, one (positive), one (negative), several (mixed signs). */
const AXIS_MODES: { name: string; pick: (rank: number, next: () => number, single: boolean) => Axes | null }[] = [
  { name: 'all axes', pick: () => undefined },
  { name: 'one axis', pick: (rank, next) => randInt(next, 0, rank - 1) },
  { name: 'one negative axis', pick: (rank, next) => -randInt(next, 1, rank) },
  {
    name: 'several axes',
    pick: (rank, next, single) => {
      if (single || rank < 2) return null;
      const chosen = Array.from({ length: rank }, (_, i) => i).filter(() => next() < 0.6);
      const list = chosen.length >= 2 ? chosen : [0, rank - 1];
      // Some axes negative, and not in order: the op must normalize both.
      return list.map((a) => (next() < 0.5 ? a - rank : a)).reverse();
    },
  },
];

/** Strided inputs with their references: permuted, sliced with step 2, expanded (stride 0). */
const VIEWS: { name: string; make: (r: Reduction, dt: DType, next: () => number) => { t: Tensor; ref: RefArray } }[] = [
  {
    name: 'permuted',
    make: (r, dt, next) => {
      const x = randomInput(r, dt, [3, 4, 5], next);
      return { t: x.t.permute([2, 0, 1]), ref: permuteRef(x.ref, [2, 0, 1]) };
    },
  },
  {
    name: 'sliced with step 2',
    make: (r, dt, next) => {
      const x = randomInput(r, dt, [4, 9, 3], next);
      const s = sliceRef(sliceRef(x.ref, 1, 1, 9, 2), 0, 0, 4, 2);
      return { t: x.t.slice(1, 1, 9, 2).slice(0, 0, 4, 2), ref: s };
    },
  },
  {
    name: 'expanded',
    make: (r, dt, next) => {
      const x = randomInput(r, dt, [3, 1, 4], next);
      return { t: x.t.expand([2, 3, 5, 4]), ref: expandRef(x.ref, [2, 3, 5, 4]) };
    },
  },
  {
    name: 'transposed slice',
    make: (r, dt, next) => {
      const x = randomInput(r, dt, [6, 5], next);
      return { t: x.t.slice(0, 1, 6, 2).transpose(0, 1), ref: permuteRef(sliceRef(x.ref, 0, 1, 6, 2), [1, 0]) };
    },
  },
];

describe.each(reductions)('$name', (r) => {
  for (const dt of r.dtypes) {
    for (const mode of AXIS_MODES) {
      for (const keepdim of [false, true]) {
        it(`${dt}: ${mode.name}, keepdim ${keepdim}, random shapes of rank 1-4`, () => {
          withSeed(`${r.name}/${dt}/${mode.name}/${keepdim}`, (next) => {
            for (let c = 0; c < 6; c++) {
              const shape = randShape(next, 1, 4);
              const axes = mode.pick(shape.length, next, r.singleAxis ?? false);
              if (axes === null) continue;
              check(r, dt, randomInput(r, dt, shape, next), axes, keepdim);
            }
          });
        });
      }
    }

    it(`${dt}: strided inputs`, () => {
      withSeed(`${r.name}/${dt}/views`, (next) => {
        for (const v of VIEWS) {
          const x = v.make(r, dt, next);
          const rank = x.ref.shape.length;
          const choices: Axes[] = r.singleAxis
            ? [undefined, 0, rank - 1, -2]
            : [undefined, 0, rank - 1, [0, rank - 1], [-1, -2]];
          for (const axes of choices) for (const keepdim of [false, true]) check(r, dt, x, axes, keepdim);
        }
      });
    });
  }
});

describe('zero-size inputs', () => {
  it('sum of nothing is 0, prod is 1, mean and var are NaN', () => {
    const e = k.zeros([0]);
    expectAllClose(e.sum(), 0, { dtype: 'float32', shape: [] });
    expectAllClose(e.prod(), 1, { dtype: 'float32', shape: [] });
    expectAllClose(e.mean(), NaN, { dtype: 'float32', shape: [] });
    expectAllClose(e.var(), NaN, { dtype: 'float32', shape: [] });
    expectAllClose(k.zeros([0], { dtype: 'int32' }).sum(), 0, { dtype: 'int32', shape: [] });
    expectAllClose(k.zeros([0], { dtype: 'bool' }).sum(), 0, { dtype: 'int32', shape: [] });
  });

  it('reducing an empty dim fills the kept dims with the identity', () => {
    const x = k.zeros([2, 0, 3]);
    expectAllClose(x.sum(1), [[0, 0, 0], [0, 0, 0]], { dtype: 'float32' });
    expectAllClose(x.prod(1, true), [[[1, 1, 1]], [[1, 1, 1]]], { dtype: 'float32' });
    expectAllClose(x.mean(1), [[NaN, NaN, NaN], [NaN, NaN, NaN]], { dtype: 'float32' });
  });

  it('reducing a non-empty dim of an empty tensor gives an empty result', () => {
    const x = k.zeros([2, 0, 3]);
    expect(x.sum(0).shape).toEqual([0, 3]);
    expect(x.max(2).shape).toEqual([2, 0]);
    expect(x.argmax(0, true).shape).toEqual([1, 0, 3]);
    expect(x.softmax(0).shape).toEqual([2, 0, 3]);
  });

  it.each([
    { name: 'max', f: (x: Tensor) => x.max(1) },
    { name: 'min', f: (x: Tensor) => x.min([0, 1]) },
    { name: 'argmax', f: (x: Tensor) => x.argmax(1) },
    { name: 'argmin', f: (x: Tensor) => x.argmin() },
  ])('$name over an empty dim has no value: a ShapeError naming $name', ({ name, f }) => {
    const x = k.zeros([2, 0]);
    expect(() => f(x)).toThrow(k.ShapeError);
    expect(() => f(x)).toThrow(new RegExp(`^${name}: `));
  });

  it('any of nothing is false, all of nothing is true', () => {
    expectAllClose(k.zeros([0]).any(), false, { dtype: 'bool', shape: [] });
    expectAllClose(k.zeros([0]).all(), true, { dtype: 'bool', shape: [] });
    expectAllClose(k.zeros([2, 0]).any(1), [false, false], { dtype: 'bool' });
    expectAllClose(k.zeros([2, 0]).all(1, true), [[true], [true]], { dtype: 'bool' });
  });

  it('logsumexp of nothing is -Inf; softmax over an empty dim is empty', () => {
    expectAllClose(k.zeros([0]).logsumexp(), -Infinity, { dtype: 'float32', shape: [] });
    expectAllClose(k.zeros([3, 0]).logsumexp(1), [-Infinity, -Infinity, -Infinity], { dtype: 'float32' });
    expect(k.zeros([3, 0]).softmax(-1).shape).toEqual([3, 0]);
    expect(k.zeros([3, 0]).logSoftmax(-1).shape).toEqual([3, 0]);
  });
});

describe('0-d inputs', () => {
  // Axis 0 (or -1) of a scalar names the scalar itself, as in PyTorch.
  it.each([
    { name: 'sum', f: (x: Tensor) => x.sum(0), want: 3, dtype: 'float32' },
    { name: 'sum keepdim', f: (x: Tensor) => x.sum(-1, true), want: 3, dtype: 'float32' },
    { name: 'mean', f: (x: Tensor) => x.mean(0), want: 3, dtype: 'float32' },
    { name: 'prod', f: (x: Tensor) => x.prod(0), want: 3, dtype: 'float32' },
    { name: 'max', f: (x: Tensor) => x.max(0), want: 3, dtype: 'float32' },
    { name: 'min', f: (x: Tensor) => x.min(-1), want: 3, dtype: 'float32' },
    { name: 'argmax', f: (x: Tensor) => x.argmax(0), want: 0, dtype: 'int32' },
    { name: 'var(correction 0)', f: (x: Tensor) => x.var(0, false, 0), want: 0, dtype: 'float32' },
    { name: 'logsumexp', f: (x: Tensor) => x.logsumexp(0), want: 3, dtype: 'float32' },
    { name: 'softmax', f: (x: Tensor) => x.softmax(0), want: 1, dtype: 'float32' },
    { name: 'any', f: (x: Tensor) => x.any(0), want: true, dtype: 'bool' },
  ] as const)('$name over axis 0 of a 0-d tensor', ({ f, want, dtype }) => {
    expectAllClose(f(k.tensor(3)), want, { shape: [], dtype, rtol: 0, atol: 0 });
  });

  it('all axes of a 0-d tensor', () => {
    expectAllClose(k.tensor(3).sum(), 3, { shape: [], dtype: 'float32' });
    expectAllClose(k.tensor(3).argmax(), 0, { shape: [], dtype: 'int32' });
  });
});

describe('NaN and ties', () => {
  it('max and min propagate NaN', () => {
    const x = k.tensor([[1, NaN, 3], [4, 5, 6], [NaN, -Infinity, Infinity]]);
    expectAllClose(x.max(1), [NaN, 6, NaN], { rtol: 0, atol: 0 });
    expectAllClose(x.min(1), [NaN, 4, NaN], { rtol: 0, atol: 0 });
    expectAllClose(x.max(0), [NaN, NaN, Infinity], { rtol: 0, atol: 0 });
    expectAllClose(x.max(), NaN, { shape: [] });
    expectAllClose(k.tensor([NaN, 1], { dtype: 'float64' }).min(), NaN, { dtype: 'float64' });
  });

  it('argmax and argmin pick the first NaN', () => {
    const x = k.tensor([[1, NaN, 3, NaN], [Infinity, 2, NaN, -Infinity]]);
    expectAllClose(x.argmax(1), [1, 2], { dtype: 'int32', rtol: 0, atol: 0 });
    expectAllClose(x.argmin(1), [1, 2], { dtype: 'int32', rtol: 0, atol: 0 });
    expectAllClose(x.argmax(), 1, { dtype: 'int32', shape: [] });
    expectAllClose(k.tensor([5, 7, NaN]).argmin(), 2, { dtype: 'int32' });
  });

  it('sum, mean, prod, var and logsumexp propagate NaN', () => {
    const x = k.tensor([[1, NaN], [2, 3]]);
    for (const f of [(t: Tensor) => t.sum(1), (t: Tensor) => t.mean(1), (t: Tensor) => t.prod(1), (t: Tensor) => t.var(1), (t: Tensor) => t.logsumexp(1)]) {
      expectAllClose(f(x).slice(0, 0, 1), [NaN], { rtol: 0, atol: 0 });
    }
    expectAllClose(x.softmax(1), [[NaN, NaN], [Math.fround(1 / (1 + Math.E)), Math.fround(Math.E / (1 + Math.E))]], { rtol: 1e-6 });
  });

  it('argmax and argmin pick the first of equal values', () => {
    const x = k.tensor([[3, 1, 3, 0], [2, 2, 2, 2], [0, -1, 5, -1]]);
    expectAllClose(x.argmax(1), [0, 0, 2], { dtype: 'int32', rtol: 0, atol: 0 });
    expectAllClose(x.argmin(1), [3, 0, 1], { dtype: 'int32', rtol: 0, atol: 0 });
    expectAllClose(x.argmax(0), [0, 1, 2, 1], { dtype: 'int32', rtol: 0, atol: 0 });
    expectAllClose(x.argmax(), 10, { dtype: 'int32', shape: [] });
    expectAllClose(k.tensor([[1, 5], [5, 0]]).argmax(), 1, { dtype: 'int32', shape: [] });
    expectAllClose(x.argmax(1, true), [[0], [0], [2]], { dtype: 'int32' });
    expectAllClose(x.argmax(undefined, true), [[10]], { dtype: 'int32' });
    // -0 and 0 are equal: the first one wins.
    expectAllClose(k.tensor([-0, 0]).argmax(), 0, { dtype: 'int32' });
    expectAllClose(k.tensor([0, -0]).argmin(), 0, { dtype: 'int32' });
  });
});

describe('int32 and bool', () => {
  it('int32 sum and prod wrap around like C int32', () => {
    expectAllClose(k.tensor([2147483647, 1], { dtype: 'int32' }).sum(), -2147483648, { dtype: 'int32', rtol: 0, atol: 0 });
    expectAllClose(k.tensor([-2147483648, -1], { dtype: 'int32' }).sum(), 2147483647, { dtype: 'int32', rtol: 0, atol: 0 });
    expectAllClose(k.tensor([65536, 65536], { dtype: 'int32' }).prod(), 0, { dtype: 'int32', rtol: 0, atol: 0 });
    expectAllClose(k.tensor([46341, 46341, 1], { dtype: 'int32' }).prod(), -2147479015, { dtype: 'int32', rtol: 0, atol: 0 });
  });

  it('bool sums count trues as int32; bool mean is float32', () => {
    const b = k.tensor([[true, false, true], [true, true, true]]);
    expectAllClose(b.sum(1), [2, 3], { dtype: 'int32', rtol: 0, atol: 0 });
    expectAllClose(b.sum(), 5, { dtype: 'int32', shape: [] });
    expectAllClose(b.sum(0, true), [[2, 1, 2]], { dtype: 'int32' });
    expectAllClose(b.prod(1), [0, 1], { dtype: 'int32' });
    expectAllClose(b.mean(1), [2 / 3, 1], { dtype: 'float32' });
    expectAllClose(b.max(1), [true, true], { dtype: 'bool' });
    expectAllClose(b.min(1), [false, true], { dtype: 'bool' });
    expectAllClose(b.argmin(1), [1, 0], { dtype: 'int32' });
  });

  it('int32 max/min/argmax are exact at the ends of the range', () => {
    const x = k.tensor([-2147483648, 2147483647, 0], { dtype: 'int32' });
    expectAllClose(x.max(), 2147483647, { dtype: 'int32', rtol: 0, atol: 0 });
    expectAllClose(x.min(), -2147483648, { dtype: 'int32', rtol: 0, atol: 0 });
    expectAllClose(x.argmin(), 0, { dtype: 'int32' });
  });
});

describe('var and std', () => {
  it('correction 0 and 1 by hand', () => {
    const x = k.tensor([[1, 2, 3, 4], [2, 2, 2, 2]], { dtype: 'float64' });
    expectAllClose(x.var(1), [5 / 3, 0], { dtype: 'float64', rtol: 1e-15 });
    expectAllClose(x.var(1, false, 0), [1.25, 0], { dtype: 'float64', rtol: 1e-15 });
    expectAllClose(x.std(1, true, 0), [[Math.sqrt(1.25)], [0]], { dtype: 'float64', rtol: 1e-15 });
    expectAllClose(x.std(), Math.sqrt(varRef(1)([1, 2, 3, 4, 2, 2, 2, 2])), { dtype: 'float64', rtol: 1e-15 });
  });

  it('one element with correction 1 has no variance (NaN); with correction 0 it is 0', () => {
    expectAllClose(k.tensor([7]).var(), NaN, { shape: [] });
    expectAllClose(k.tensor([7]).var(0, false, 0), 0, { shape: [] });
  });

  it('a large offset does not swamp the variance (values are centered first)', () => {
    expectAllClose(k.tensor([1e4 + 1, 1e4 + 2, 1e4 + 3]).var(), 1, { dtype: 'float32', rtol: 1e-6 });
  });
});

// ---------------------------------------------------------------------------------------
// softmax, logSoftmax and logsumexp.

function softmaxRef(a: RefArray, axis: number, log: boolean): RefArray {
  const ax = axis < 0 ? axis + a.shape.length : axis;
  const lse = reduceRef(a, ax, true, logsumexpRef);
  return build(a.shape, (idx) => {
    const x = a.values[idx.reduce((p, v, d) => p * a.shape[d]! + v, 0)]!;
    const l = lse.values[idx.reduce((p, v, d) => p * lse.shape[d]! + (d === ax ? 0 : v), 0)]!;
    return log ? x - l : Math.exp(x - l);
  });
}

describe.each([
  { name: 'softmax', call: (x: Tensor, axis: number) => x.softmax(axis), log: false },
  { name: 'logSoftmax', call: (x: Tensor, axis: number) => x.logSoftmax(axis), log: true },
])('$name', ({ name, call, log }) => {
  for (const dt of ['float32', 'float64'] as const) {
    for (const axis of [0, 1, -1, -3]) {
      it(`${dt}: random [4,5,6] over axis ${axis}`, () => {
        withSeed(`${name}/${dt}/${axis}`, (next) => {
          const values = uniform(next, 120, -15, 15).map(dt === 'float32' ? Math.fround : (v: number) => v);
          const x = k.tensor(values, { dtype: dt }).reshape([4, 5, 6]);
          const want = softmaxRef({ shape: [4, 5, 6], values }, axis, log);
          // logSoftmax near 0 is a difference of values up to 15: its error is absolute.
          const tol = dt === 'float32' ? { rtol: 1e-5, atol: log ? 2e-6 : 1e-7 } : { rtol: 1e-13, atol: log ? 1e-14 : 1e-16 };
          const got = call(x, axis);
          expectAllClose(got, want.values.map(dt === 'float32' ? Math.fround : (v: number) => v), { shape: [4, 5, 6], dtype: dt, ...tol });
          if (!log) expectAllClose(got.sum(axis), k.ones(x.shape.filter((_, d) => d !== (axis + 3) % 3)), { rtol: dt === 'float32' ? 1e-6 : 1e-14 });
        });
      });
    }
    it(`${dt}: strided input (transposed)`, () => {
      withSeed(`${name}/${dt}/transposed`, (next) => {
        const values = uniform(next, 35, -5, 5).map(dt === 'float32' ? Math.fround : (v: number) => v);
        const x = k.tensor(values, { dtype: dt }).reshape([5, 7]).transpose(0, 1);
        const want = softmaxRef(permuteRef({ shape: [5, 7], values }, [1, 0]), -1, log);
        expectAllClose(call(x, -1), want.values.map(dt === 'float32' ? Math.fround : (v: number) => v), { shape: [7, 5], dtype: dt, rtol: dt === 'float32' ? 1e-5 : 1e-13, atol: dt === 'float32' ? 1e-6 : 1e-14 });
      });
    });
  }

  it('int32 input computes in float32', () => {
    const got = call(k.tensor([[0, 1], [2, 2]], { dtype: 'int32' }), 1);
    const want = softmaxRef({ shape: [2, 2], values: [0, 1, 2, 2] }, 1, log);
    expectAllClose(got, want.values.map(Math.fround), { shape: [2, 2], dtype: 'float32', rtol: 1e-6 });
  });
});

describe('extreme values', () => {
  const f = Math.fround;
  it('softmax: huge logits, -Inf entries, and rows of only -Inf', () => {
    const x = k.tensor([[1e30, 1, 0], [-Infinity, 0, -Infinity], [1e30, 1e30, -1e30], [-1e30, -1e30, -1e30], [88, 88, 0]]);
    const got = x.softmax(-1);
    expectAllClose(got, [[1, 0, 0], [0, 1, 0], [0.5, 0.5, 0], [1 / 3, 1 / 3, 1 / 3], [0.5, 0.5, f(Math.exp(-88) / 2)]], { rtol: 1e-6, atol: 1e-40 });
    expectAllClose(got.sum(-1), [1, 1, 1, 1, 1], { rtol: 1e-6 });
    // No finite mass at all: 0/0, as in PyTorch.
    expectAllClose(k.tensor([[-Infinity, -Infinity]]).softmax(-1), [[NaN, NaN]]);
  });

  it('softmax over axis 0 of the same values', () => {
    const x = k.tensor([[1e30, -Infinity], [1, 0], [0, -Infinity]]);
    expectAllClose(x.softmax(0), [[1, 0], [0, 1], [0, 0]], { rtol: 1e-6, atol: 0 });
  });

  it('logSoftmax stays finite where softmax underflows', () => {
    const x = k.tensor([[1e30, 1], [0, -Infinity], [-200, 0]], { dtype: 'float64' });
    expectAllClose(x.logSoftmax(-1), [[0, 1 - 1e30], [0, -Infinity], [-200, 0]], { dtype: 'float64', rtol: 1e-15 });
    expectAllClose(k.tensor([[-200, 0]]).logSoftmax(-1), [[-200, 0]], { rtol: 1e-6 });
  });

  it('logsumexp: no overflow, -Inf rows, +Inf and NaN', () => {
    const rows = [[1e30, 1], [-Infinity, -Infinity], [-Infinity, 2], [Infinity, 1], [Infinity, -Infinity], [NaN, 1], [88, 88], [-1e30, -1e30]];
    const want = [f(1e30), -Infinity, 2, Infinity, Infinity, NaN, f(88 + Math.LN2), f(-1e30)];
    expectAllClose(k.tensor(rows).logsumexp(1), want, { dtype: 'float32', rtol: 1e-6 });
    expectAllClose(k.tensor(rows, { dtype: 'float64' }).logsumexp(1), [1e30, -Infinity, 2, Infinity, Infinity, NaN, 88 + Math.LN2, -1e30], { dtype: 'float64', rtol: 1e-15 });
    expectAllClose(k.tensor(rows).logsumexp(1, true), want.map((v) => [v]), { rtol: 1e-6 });
    expectAllClose(k.tensor([[-Infinity, -Infinity], [-Infinity, -Infinity]]).logsumexp(), -Infinity, { shape: [] });
  });
});
