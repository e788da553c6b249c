import { describe, expect, it } from 'vitest';
import { DTypeError, ShapeError, Tensor, matmul, tensor } from '../../../src/index.js';
import type { DType } from '../../../src/index.js';
import { matmulAccumulator } from '../../../compiler/ref/evaluate.js';
import { expectAllClose, uniform } from '../../helpers.js';
import { seeded, sizeOf, unravel, ravel } from '../multi-index.js';

/** Row-major values as stored, and the tensor holding them. */
interface Operand {
  t: Tensor;
  shape: number[];
  values: number[];
}

function randomOperand(next: () => number, shape: number[], dtype: DType = 'float32'): Operand {
  const n = sizeOf(shape);
  const raw = dtype === 'int32' ? uniform(next, n, -20, 20).map(Math.floor) : uniform(next, n, -2, 2);
  const data = dtype === 'int32' ? Int32Array.from(raw) : dtype === 'float64' ? Float64Array.from(raw) : Float32Array.from(raw);
  return { t: tensor(data, { shape }), shape, values: Array.from(data) };
}

/** The transpose of the last two dims of an operand's values (a reference, not kiln's). */
function transposedValues(op: Operand): { shape: number[]; values: number[] } {
  const r = op.shape.length;
  const shape = [...op.shape.slice(0, r - 2), op.shape[r - 1]!, op.shape[r - 2]!];
  const values = Array.from({ length: sizeOf(shape) }, (_, i) => {
    const idx = unravel(i, shape);
    [idx[r - 2], idx[r - 1]] = [idx[r - 1]!, idx[r - 2]!];
    return op.values[ravel(idx, op.shape)]!;
  });
  return { shape, values };
}

/**
 * NumPy matmul: 1-D operands become a row / column and that dim is dropped from the
 * result; leading dims broadcast. Products are summed over k in order, in float64 (or as a
 * float32 result accumulates on the CPU engine in use, with `dtype` float32).
 */
function refMatmul(
  aValues: number[], aShape0: number[], bValues: number[], bShape0: number[], dtype: DType = 'float32',
): { shape: number[]; values: number[] } {
  const step = matmulAccumulator(dtype);
  const aShape = aShape0.length === 1 ? [1, aShape0[0]!] : aShape0;
  const bShape = bShape0.length === 1 ? [bShape0[0]!, 1] : bShape0;
  const m = aShape[aShape.length - 2]!, k = aShape[aShape.length - 1]!, n = bShape[bShape.length - 1]!;
  const aBatch = aShape.slice(0, -2), bBatch = bShape.slice(0, -2);
  const nb = Math.max(aBatch.length, bBatch.length);
  const padA = [...new Array<number>(nb - aBatch.length).fill(1), ...aBatch];
  const padB = [...new Array<number>(nb - bBatch.length).fill(1), ...bBatch];
  const batch = padA.map((d, i) => Math.max(d, padB[i]!));
  const out: number[] = [];
  for (let bi = 0; bi < sizeOf(batch); bi++) {
    const idx = unravel(bi, batch);
    const ia = idx.map((v, i) => (padA[i] === 1 ? 0 : v)), ib = idx.map((v, i) => (padB[i] === 1 ? 0 : v));
    const aBase = ravel(ia, padA) * m * k, bBase = ravel(ib, padB) * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let kk = 0; kk < k; kk++) acc = step(acc, aValues[aBase + i * k + kk]!, bValues[bBase + kk * n + j]!);
        out.push(acc);
      }
    }
  }
  const shape = [...batch, ...(aShape0.length === 1 ? [] : [m]), ...(bShape0.length === 1 ? [] : [n])];
  return { shape, values: out };
}

const f32Bits = new Float32Array(1);
const i32Bits = new Int32Array(f32Bits.buffer);
/** Position of a float32 on a line where neighbouring floats differ by 1 (sign-magnitude unfolded). */
function f32Ordinal(x: number): number {
  f32Bits[0] = x;
  const b = i32Bits[0]!;
  return b < 0 ? -(b & 0x7fffffff) : b;
}

/** Every float32 element is within `ulps` float32 steps of the float64 reference rounded once. */
function expectWithinUlps(actual: Tensor, ref: { shape: number[]; values: number[] }, ulps = 1): void {
  expect(actual.dtype).toBe('float32');
  expect(actual.shape).toEqual(ref.shape);
  const got = actual.data();
  expect(got.length).toBe(ref.values.length);
  for (let i = 0; i < got.length; i++) {
    const want = Math.fround(ref.values[i]!);
    const dist = Math.abs(f32Ordinal(got[i]!) - f32Ordinal(want));
    if (!(dist <= ulps)) {
      throw new Error(`element ${i} (index [${unravel(i, ref.shape)}]) is ${dist} ulps away: got ${got[i]}, expected ${want} (float64 ${ref.values[i]})`);
    }
  }
}

describe('matmul with vectors', () => {
  it('1-D · 1-D is a 0-d dot product', () => seeded((next) => {
    for (const k of [1, 3, 7, 300]) {
      const a = randomOperand(next, [k]), b = randomOperand(next, [k]);
      const ref = refMatmul(a.values, a.shape, b.values, b.shape);
      expect(ref.shape).toEqual([]);
      expectWithinUlps(matmul(a.t, b.t), ref);
    }
  }));

  it('1-D · 2-D and 2-D · 1-D drop the vector dim', () => seeded((next) => {
    const v = randomOperand(next, [5]), m = randomOperand(next, [5, 3]), w = randomOperand(next, [3]);
    const left = matmul(v.t, m.t);
    expect(left.shape).toEqual([3]);
    expectWithinUlps(left, refMatmul(v.values, v.shape, m.values, m.shape));
    const right = m.t.matmul(w.t);
    expect(right.shape).toEqual([5]);
    expectWithinUlps(right, refMatmul(m.values, m.shape, w.values, w.shape));
  }));

  it('a vector against a batch broadcasts over the batch', () => seeded((next) => {
    const v = randomOperand(next, [4]), b = randomOperand(next, [5, 4, 2]), a = randomOperand(next, [2, 1, 3, 4]);
    const vb = matmul(v.t, b.t);
    expect(vb.shape).toEqual([5, 2]);
    expectWithinUlps(vb, refMatmul(v.values, v.shape, b.values, b.shape));
    const av = matmul(a.t, v.t);
    expect(av.shape).toEqual([2, 1, 3]);
    expectWithinUlps(av, refMatmul(a.values, a.shape, v.values, v.shape));
  }));
});

describe('matmul of matrices', () => {
  it('float32 equals the sum over k as the engine accumulates it, for awkward sizes', () => seeded((next) => {
    // Sizes around the kernel's blocking: 4 rows at a time, 256-column tiles.
    const cases: [number, number, number][] = [
      [5, 3, 7], [7, 300, 4], [257, 3, 1], [1, 1, 1], [4, 256, 9], [3, 257, 5], [8, 4, 33], [6, 513, 2], [257, 300, 13],
    ];
    for (const [m, n, k] of cases) {
      const a = randomOperand(next, [m, k]), b = randomOperand(next, [k, n]);
      const out = matmul(a.t, b.t);
      expectWithinUlps(out, refMatmul(a.values, a.shape, b.values, b.shape));
    }
  }));

  it('an empty inner dim gives zeros; empty outer dims give empty results', () => {
    const a = tensor(new Float32Array(0), { shape: [5, 0] }), b = tensor(new Float32Array(0), { shape: [0, 3] });
    expectAllClose(matmul(a, b), new Array<number>(15).fill(0), { shape: [5, 3], rtol: 0, atol: 0, dtype: 'float32' });
    expectAllClose(matmul(tensor(new Float32Array(0), { shape: [0, 4] }), tensor(new Float32Array(12), { shape: [4, 3] })), [], { shape: [0, 3] });
    expectAllClose(matmul(tensor(new Float32Array(0), { shape: [0] }), tensor(new Float32Array(0), { shape: [0] })), [0], { shape: [], rtol: 0, atol: 0 });
  });

  it('batched with broadcast batch dims: [2,1,3,4] @ [5,4,2] -> [2,5,3,2]', () => seeded((next) => {
    const a = randomOperand(next, [2, 1, 3, 4]), b = randomOperand(next, [5, 4, 2]);
    const out = matmul(a.t, b.t);
    expect(out.shape).toEqual([2, 5, 3, 2]);
    expectWithinUlps(out, refMatmul(a.values, a.shape, b.values, b.shape));
    const c = randomOperand(next, [3, 1, 5, 7]), d = randomOperand(next, [1, 4, 7, 6]);
    expectWithinUlps(matmul(c.t, d.t), refMatmul(c.values, c.shape, d.values, d.shape));
    expect(() => matmul(randomOperand(next, [2, 3, 4]).t, randomOperand(next, [3, 4, 5]).t)).toThrow(/matmul: cannot broadcast \[2\] with \[3\]/);
  }));

  it('transposed, permuted and sliced operands read the right elements', () => seeded((next) => {
    // a: the transpose of a [9,5] matrix; b: rows 1, 3, …, 17 of the transpose of a [6,19].
    const baseA = randomOperand(next, [9, 5]);
    const at = transposedValues(baseA); // [5,9]
    const baseB = randomOperand(next, [6, 19]);
    const bt = transposedValues(baseB); // [19,6]
    const bRows = Array.from({ length: 9 }, (_, i) => 1 + 2 * i);
    const bValues = bRows.flatMap((r) => bt.values.slice(r * 6, r * 6 + 6)); // [9,6]
    const b = baseB.t.t().slice(0, 1, null, 2).slice(0, 0, 9);
    expect(b.shape).toEqual([9, 6]);
    expect(b.isContiguous).toBe(false);
    expectWithinUlps(matmul(baseA.t.t(), b), refMatmul(at.values, [5, 9], bValues, [9, 6]));
    // Transposed B (x @ W.t()) and a batch whose matrices are permuted views.
    const w = randomOperand(next, [7, 9]);
    expectWithinUlps(matmul(baseA.t.t(), w.t.t()), refMatmul(at.values, [5, 9], transposedValues(w).values, [9, 7]));
    const batch = randomOperand(next, [3, 4, 2]); // viewed as [2,3,4] via permute([2,0,1])
    const pValues = Array.from({ length: 24 }, (_, i) => {
      const [p, q, r] = unravel(i, [2, 3, 4]);
      return batch.values[ravel([q!, r!, p!], [3, 4, 2])]!;
    });
    const rhs = randomOperand(next, [4, 5]);
    expectWithinUlps(matmul(batch.t.permute([2, 0, 1]), rhs.t), refMatmul(pValues, [2, 3, 4], rhs.values, rhs.shape));
    // An expanded (stride 0) operand.
    const row = randomOperand(next, [1, 4]);
    expectWithinUlps(matmul(row.t.expand([3, 4]), rhs.t), refMatmul([...row.values, ...row.values, ...row.values], [3, 4], rhs.values, rhs.shape));
  }));

  it('int32 is exact and stays int32; float64 stays float64', () => seeded((next) => {
    for (const [m, n, k] of [[5, 3, 7], [7, 300, 4], [257, 3, 1]] as const) {
      const a = randomOperand(next, [m, k], 'int32'), b = randomOperand(next, [k, n], 'int32');
      const ref = refMatmul(a.values, a.shape, b.values, b.shape, 'int32');
      expectAllClose(matmul(a.t, b.t), ref.values, { shape: ref.shape, dtype: 'int32', rtol: 0, atol: 0 });
      const c = randomOperand(next, [m, k], 'float64'), d = randomOperand(next, [k, n], 'float64');
      const r64 = refMatmul(c.values, c.shape, d.values, d.shape, 'float64');
      expectAllClose(matmul(c.t, d.t), r64.values, { shape: r64.shape, dtype: 'float64', rtol: 1e-14, atol: 1e-14 });
    }
  }));

  it('int32 results wrap like int32 arithmetic', () => {
    // 2^30·2 + 2^30·2 = 2^32 wraps to 0; 2^30·2 = 2^31 wraps to -2^31; 3·2^30 wraps to -2^30.
    const a = tensor([[2 ** 30, 2 ** 30], [2 ** 30, 0]], { dtype: 'int32' });
    const b = tensor([[2], [2]], { dtype: 'int32' });
    expectAllClose(matmul(a, b), [[0], [-(2 ** 31)]], { dtype: 'int32', rtol: 0, atol: 0 });
    expectAllClose(matmul(tensor([[2 ** 30]], { dtype: 'int32' }), tensor([[3]], { dtype: 'int32' })), [[-(2 ** 30)]], { dtype: 'int32', rtol: 0, atol: 0 });
  });

  it('mixed dtypes promote: int32 @ float32 is float32, float32 @ float64 is float64', () => seeded((next) => {
    const a = randomOperand(next, [3, 4], 'int32'), b = randomOperand(next, [4, 2]);
    expectWithinUlps(matmul(a.t, b.t), refMatmul(a.values, a.shape, b.values, b.shape));
    const c = randomOperand(next, [4, 2], 'float64');
    const r = refMatmul(b.values, [4, 2], transposedValues(c).values, [2, 4], 'float64');
    expectAllClose(matmul(b.t, c.t.t()), r.values, { shape: r.shape, dtype: 'float64', rtol: 1e-14, atol: 1e-14 });
  }));
});

describe('matmul errors', () => {
  it('mismatched inner sizes name both shapes', () => {
    const a = tensor(new Float32Array(6), { shape: [2, 3] }), b = tensor(new Float32Array(8), { shape: [4, 2] });
    expect(() => matmul(a, b)).toThrow(ShapeError);
    expect(() => matmul(a, b)).toThrow(/matmul: \[2,3\] @ \[4,2\]: inner sizes 3 and 4 differ/);
    expect(() => matmul(tensor([1, 2, 3]), tensor([1, 2]))).toThrow(/inner sizes 3 and 2 differ/);
    expect(() => matmul(tensor([1, 2]), b)).toThrow(ShapeError);
    expect(() => matmul(tensor(1), tensor([1]))).toThrow(/at least 1 dim/);
  });

  it('bool operands are rejected', () => {
    const b = tensor([[true, false], [false, true]]);
    expect(() => matmul(b, b)).toThrow(DTypeError);
    expect(() => matmul(b, b)).toThrow(/matmul: bool operands are not supported/);
    // One bool operand with a numeric one computes in the numeric dtype.
    expectAllClose(matmul(b, tensor([[1, 2], [3, 4]])), [[1, 2], [3, 4]], { dtype: 'float32', rtol: 0, atol: 0 });
  });
});
