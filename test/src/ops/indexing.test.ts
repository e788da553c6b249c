import { describe, expect, it } from 'vitest';
import { DTypeError, ShapeError, Tensor, ValueError, gather, indexSelect, oneHot, scatterAdd, tensor } from '../../../src/index.js';
import type { DType } from '../../../src/index.js';
import { expectAllClose, uniform } from '../../helpers.js';
import { seeded, sizeOf, unravel, ravel, values } from '../multi-index.js';

const randInt = (next: () => number, lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo));

function randomTensor(next: () => number, shape: number[], dtype: DType = 'float32'): { t: Tensor; flat: number[] } {
  const raw = dtype === 'int32' ? uniform(next, sizeOf(shape), -100, 100).map(Math.floor) : uniform(next, sizeOf(shape), -10, 10);
  const data = dtype === 'int32' ? Int32Array.from(raw) : dtype === 'float64' ? Float64Array.from(raw) : Float32Array.from(raw);
  return { t: tensor(data, { shape }), flat: Array.from(data) };
}

function indexTensor(flat: number[], shape: number[]): Tensor {
  return tensor(Int32Array.from(flat), { shape });
}

const exact = { rtol: 0, atol: 0 };

/** PyTorch gather: out[p] = x[p with its `axis` component replaced by index[p]]. */
function refGather(x: number[], xShape: number[], axis: number, index: number[], indexShape: number[]): number[] {
  return values(indexShape, (p) => {
    const src = p.slice();
    src[axis] = index[ravel(p, indexShape)]!;
    return x[ravel(src, xShape)]!;
  });
}

describe('gather', () => {
  it('follows PyTorch semantics along every axis, with smaller index shapes', () => seeded((next) => {
    for (let trial = 0; trial < 20; trial++) {
      const xShape = [randInt(next, 1, 5), randInt(next, 1, 5), randInt(next, 1, 5)];
      const { t: x, flat } = randomTensor(next, xShape);
      for (const axis of [0, 1, 2, -1, -3]) {
        const a = (axis + 3) % 3;
        const indexShape = xShape.map((d, i) => (i === a ? randInt(next, 0, 7) : randInt(next, 1, d + 1)));
        const index = Array.from({ length: sizeOf(indexShape) }, () => randInt(next, 0, xShape[a]!));
        const out = gather(x, axis, indexTensor(index, indexShape));
        expectAllClose(out, refGather(flat, xShape, a, index, indexShape), { ...exact, shape: indexShape, dtype: 'float32' });
      }
    }
  }));

  it('reads non-contiguous inputs and indices by their logical layout', () => seeded((next) => {
    const base = randomTensor(next, [5, 4, 6]);
    // x[a,b,c] = base[b, c, 1 + 2a], shape [3,5,4].
    const x = base.t.permute([2, 0, 1]).slice(0, 1, null, 2);
    const xShape = [3, 5, 4];
    const xFlat = values(xShape, ([a, b, c]) => base.flat[ravel([b!, c!, 1 + 2 * a!], [5, 4, 6])]!);
    // index[i,j,k] = raw[k,j,i]: a permuted [4,2,3] int tensor, gathering 2 of x's 5 along axis 1.
    const raw = Array.from({ length: 24 }, () => randInt(next, 0, 5));
    const index = indexTensor(raw, [4, 2, 3]).permute([2, 1, 0]);
    const indexFlat = values([3, 2, 4], ([i, j, k]) => raw[ravel([k!, j!, i!], [4, 2, 3])]!);
    expect(x.isContiguous).toBe(false);
    expect(index.isContiguous).toBe(false);
    expectAllClose(gather(x, 1, index), refGather(xFlat, xShape, 1, indexFlat, [3, 2, 4]), { ...exact, shape: [3, 2, 4] });
    // An expanded index (stride 0) repeats the same picks.
    const row = [randInt(next, 0, 4), randInt(next, 0, 4)];
    const expanded = indexTensor(row, [1, 1, 2]).expand([3, 5, 2]);
    expectAllClose(x.gather(2, expanded), values([3, 5, 2], ([a, b, c]) => xFlat[ravel([a!, b!, row[c!]!], xShape)]!), { ...exact, shape: [3, 5, 2] });
  }));

  it('keeps the dtype of the input (int32, float64, bool)', () => seeded((next) => {
    for (const dtype of ['int32', 'float64'] as const) {
      const { t: x, flat } = randomTensor(next, [3, 4], dtype);
      const index = [0, 3, 3, 1, 2, 0];
      expectAllClose(x.gather(1, indexTensor(index, [3, 2])), refGather(flat, [3, 4], 1, index, [3, 2]), { ...exact, shape: [3, 2], dtype });
    }
    expectAllClose(tensor([[true, false]]).gather(1, indexTensor([1, 1, 0], [1, 3])), [[false, false, true]], { dtype: 'bool' });
  }));

  it('an out-of-range or negative index throws, naming the index and the valid range, and changes nothing', () => seeded((next) => {
    const { t: x, flat } = randomTensor(next, [2, 3]);
    for (const bad of [3, -1, 100]) {
      const index = indexTensor([0, 1, 2, bad], [2, 2]);
      let error: unknown;
      try {
        gather(x, 1, index);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ValueError);
      const message = (error as Error).message;
      expect(message).toContain(`index ${bad} `);
      expect(message).toMatch(/gather: .*size 3 \(valid: 0\.\.2\)/);
      expectAllClose(x, flat, { ...exact, shape: [2, 3] });
      expectAllClose(index, [[0, 1], [2, bad]], exact);
    }
    expect(() => gather(x, 0, indexTensor([2], [1, 1]))).toThrow(/index 2 is out of range for a dimension of size 2 \(valid: 0\.\.1\)/);
  }));

  it('rejects float indices, a wrong number of dims and an index larger than the input', () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(() => gather(x, 1, tensor([[0, 1]]))).toThrow(DTypeError);
    expect(() => gather(x, 1, tensor([[0, 1]]))).toThrow(/gather: index must be an int32 tensor \(got float32\)/);
    expect(() => gather(x, 1, indexTensor([0, 1], [2]))).toThrow(ShapeError);
    expect(() => gather(x, 1, indexTensor([0, 0, 0], [3, 1]))).toThrow(/larger than the input \[2,3\] in dim 0/);
    expect(() => gather(x, 2, indexTensor([0], [1, 1]))).toThrow(/axis 2 is out of range/);
  });
});

describe('indexSelect', () => {
  it('picks slices along an axis, repeats allowed, for contiguous and strided inputs', () => seeded((next) => {
    const shape = [4, 5, 3];
    const { t: base, flat } = randomTensor(next, shape);
    for (const axis of [0, 1, 2, -1]) {
      const a = (axis + 3) % 3;
      const picks = Array.from({ length: randInt(next, 0, 8) }, () => randInt(next, 0, shape[a]!));
      const outShape = shape.map((d, i) => (i === a ? picks.length : d));
      const out = indexSelect(base, axis, indexTensor(picks, [picks.length]));
      expectAllClose(out, values(outShape, (p) => {
        const src = p.slice();
        src[a] = picks[p[a]!]!;
        return flat[ravel(src, shape)]!;
      }), { ...exact, shape: outShape, dtype: 'float32' });
    }
    // A transposed input: xt[i, j] = base2[j, i].
    const { t: m, flat: mf } = randomTensor(next, [6, 4]);
    const picks = [3, 0, 0, 2];
    expectAllClose(m.t().indexSelect(0, indexTensor(picks, [4])), values([4, 6], ([i, j]) => mf[j! * 4 + picks[i!]!]!), { ...exact, shape: [4, 6] });
  }));

  it('rejects a 2-D index, a float index and out-of-range positions (naming the index and range)', () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(() => indexSelect(x, 0, indexTensor([0, 1], [1, 2]))).toThrow(/indexSelect: index must be 1-D \(got \[1,2\]\)/);
    expect(() => indexSelect(x, 0, tensor([0]))).toThrow(DTypeError);
    expect(() => indexSelect(x, 1, indexTensor([2, 0, 3], [3]))).toThrow(/index 3 is out of range for a dimension of size 3 \(valid: 0\.\.2\)/);
    expect(() => indexSelect(x, 0, indexTensor([-1], [1]))).toThrow(/index -1 .*\(valid: 0\.\.1\)/);
    expectAllClose(x, [[1, 2, 3], [4, 5, 6]], exact);
  });
});

describe('scatterAdd', () => {
  /** out = base; out[p with axis component index[p]] += src[p] for every p of index, in float64. */
  function refScatterAdd(base: number[], shape: number[], axis: number, index: number[], indexShape: number[], src: number[], srcShape: number[]): number[] {
    const out = base.slice();
    for (let i = 0; i < sizeOf(indexShape); i++) {
      const p = unravel(i, indexShape);
      const dst = p.slice();
      dst[axis] = index[i]!;
      out[ravel(dst, shape)]! += src[ravel(p, srcShape)]!;
    }
    return out;
  }

  it('accumulates duplicate indices along each axis', () => seeded((next) => {
    for (let trial = 0; trial < 10; trial++) {
      const shape = [randInt(next, 1, 5), randInt(next, 1, 5)];
      for (const axis of [0, 1, -1]) {
        const a = (axis + 2) % 2;
        const { t: base, flat } = randomTensor(next, shape);
        // Many more positions than targets, so most targets receive several additions.
        const indexShape = shape.map((d, i) => (i === a ? randInt(next, 1, 12) : randInt(next, 1, d + 1)));
        const index = Array.from({ length: sizeOf(indexShape) }, () => randInt(next, 0, shape[a]!));
        const src = randomTensor(next, indexShape);
        const out = scatterAdd(base, axis, indexTensor(index, indexShape), src.t);
        expect(out.storage).not.toBe(base.storage);
        // float32 adds round at each step; the bound covers up to 12 roundings of values below ~130.
        expectAllClose(out, refScatterAdd(flat, shape, a, index, indexShape, src.flat, indexShape), { shape, dtype: 'float32', rtol: 0, atol: 1e-4 });
        expectAllClose(base, flat, { ...exact, shape });
      }
    }
  }));

  it('is exact for int32 and for integer-valued floats, with all positions hitting one target', () => seeded((next) => {
    const { t: base, flat } = randomTensor(next, [3, 4], 'int32');
    const index = [0, 0, 0, 0, 2, 2, 2, 2];
    const src = randomTensor(next, [2, 4], 'int32');
    expectAllClose(scatterAdd(base, 0, indexTensor(index, [2, 4]), src.t), refScatterAdd(flat, [3, 4], 0, index, [2, 4], src.flat, [2, 4]), { ...exact, shape: [3, 4], dtype: 'int32' });
    const ones = tensor(new Float32Array(5).fill(1), { shape: [5] });
    expectAllClose(scatterAdd(tensor([0, 0, 0]), 0, indexTensor([1, 1, 1, 1, 1], [5]), ones), [0, 5, 0], exact);
  }));

  it('reads a strided source and index by their logical layout', () => seeded((next) => {
    const { t: base, flat } = randomTensor(next, [3, 3]);
    const rawSrc = randomTensor(next, [3, 3]);
    const src = rawSrc.t.t(); // src[i][j] = rawSrc[j][i]
    const srcFlat = values([3, 3], ([i, j]) => rawSrc.flat[j! * 3 + i!]!);
    const rawIndex = Array.from({ length: 9 }, () => randInt(next, 0, 3));
    const index = indexTensor(rawIndex, [3, 3]).t();
    const indexFlat = values([3, 3], ([i, j]) => rawIndex[j! * 3 + i!]!);
    expectAllClose(scatterAdd(base, 1, index, src), refScatterAdd(flat, [3, 3], 1, indexFlat, [3, 3], srcFlat, [3, 3]), { shape: [3, 3], rtol: 0, atol: 1e-5 });
  }));

  it('an out-of-range index throws naming scatterAdd, the index and the range, and leaves the base unchanged', () => seeded((next) => {
    const { t: base, flat } = randomTensor(next, [2, 3]);
    for (const bad of [3, -2]) {
      const index = indexTensor([0, 2, bad], [1, 3]);
      expect(() => scatterAdd(base, 1, index, tensor([[1, 2, 3]]))).toThrow(ValueError);
      expect(() => scatterAdd(base, 1, index, tensor([[1, 2, 3]]))).toThrow(`scatterAdd: index ${bad} is out of range for a dimension of size 3 (valid: 0..2)`);
      expectAllClose(base, flat, { ...exact, shape: [2, 3] });
    }
  }));

  it('rejects a source of another dtype or shape', () => {
    const base = tensor([0, 0, 0]);
    expect(() => scatterAdd(base, 0, indexTensor([0], [1]), tensor([1], { dtype: 'float64' }))).toThrow(/scatterAdd: source dtype float64 must match the base's float32/);
    expect(() => scatterAdd(base, 0, indexTensor([0, 1], [2]), tensor([1]))).toThrow(ShapeError);
    expect(() => scatterAdd(base, 0, tensor([0]), tensor([1]))).toThrow(DTypeError);
  });
});

describe('oneHot', () => {
  it('adds a last dim of numClasses with a single 1 at each index', () => seeded((next) => {
    const numClasses = randInt(next, 1, 7);
    const shape = [randInt(next, 1, 4), randInt(next, 1, 4)];
    const idx = Array.from({ length: sizeOf(shape) }, () => randInt(next, 0, numClasses));
    const out = oneHot(indexTensor(idx, shape), numClasses);
    const outShape = [...shape, numClasses];
    expectAllClose(out, values(outShape, ([i, j, c]) => (idx[ravel([i!, j!], shape)] === c ? 1 : 0)), { ...exact, shape: outShape, dtype: 'int32' });
    expectAllClose(oneHot(indexTensor([2, 0], [2]), 3, { dtype: 'float32' }), [[0, 0, 1], [1, 0, 0]], { ...exact, dtype: 'float32' });
    expectAllClose(oneHot(indexTensor([], [0]), 4), [], { shape: [0, 4], dtype: 'int32' });
    expectAllClose(oneHot(indexTensor([1], []), 2), [0, 1], { ...exact, shape: [2] });
  }));

  it('rejects indices outside 0..numClasses-1, naming the range and the values found', () => {
    expect(() => oneHot(indexTensor([0, 3, 1], [3]), 3)).toThrow(ShapeError);
    expect(() => oneHot(indexTensor([0, 3, 1], [3]), 3)).toThrow('oneHot: class indices must be in 0..2 (got values from 0 to 3)');
    expect(() => oneHot(indexTensor([-1, 1], [2]), 3)).toThrow(/in 0\.\.2 \(got values from -1 to 1\)/);
    expect(() => oneHot(indexTensor([0], [1]), 0)).toThrow(/numClasses must be a positive integer/);
    expect(() => oneHot(tensor([0]), 2)).toThrow(DTypeError);
  });
});
