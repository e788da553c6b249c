import { describe, expect, it } from 'vitest';
import {
  Tensor, ShapeError, ValueError, tensor, reshape, view, flatten, squeeze, unsqueeze, permute, transpose, expand,
  broadcastTo, slice, narrow, contiguous, clone, split, chunk, cat, stack, pad,
} from '../../../src/index.js';
import type { DType } from '../../../src/index.js';
import { expectAllClose, uniform } from '../../helpers.js';
import { seeded, sizeOf, unravel, ravel, values } from '../multi-index.js';
import { onCpu } from '../../../src/storage.js';

type NestedNumbers = number | NestedNumbers[];

/**
 * The same, as nested arrays, so the expected shape travels with the values. A zero-size
 * dim hides the dims after it, so such cases pass their shape explicitly.
 */
function build(shape: readonly number[], f: (idx: number[]) => number): NestedNumbers[] {
  const flat = values(shape, f);
  let at = 0;
  const level = (d: number): NestedNumbers[] =>
    Array.from({ length: shape[d]! }, () => (d === shape.length - 1 ? flat[at++]! : level(d + 1)));
  return level(0);
}

/** A contiguous random tensor and its row-major values as stored (float32-rounded). */
function randomTensor(next: () => number, shape: number[], dtype: DType = 'float32'): { t: Tensor; flat: number[] } {
  const vals = dtype === 'int32' ? uniform(next, sizeOf(shape), -50, 50).map(Math.floor) : uniform(next, sizeOf(shape), -10, 10);
  const t = tensor(dtype === 'float64' ? Float64Array.from(vals) : dtype === 'int32' ? Int32Array.from(vals) : Float32Array.from(vals), { shape });
  return { t, flat: Array.from(t.data(), Number) };
}

function randomShape(next: () => number, ndim: number, lo = 1, hi = 5): number[] {
  return Array.from({ length: ndim }, () => lo + Math.floor(next() * (hi - lo + 1)));
}

function randomPerm(next: () => number, n: number): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

const exact = { rtol: 0, atol: 0 };

/** Python's slice(start, end, step).indices(n) for a positive step, as the list of positions. */
function pythonSlice(n: number, start: number | null, end: number | null, step: number): number[] {
  const clampBound = (v: number | null, dflt: number): number => {
    if (v === null) return dflt;
    if (v < 0) return Math.max(v + n, 0);
    return Math.min(v, n);
  };
  const out: number[] = [];
  for (let i = clampBound(start, 0); i < clampBound(end, n); i += step) out.push(i);
  return out;
}

describe('reshape', () => {
  it('infers one -1 and shares storage with a contiguous input', () => seeded((next) => {
    const { t: x, flat } = randomTensor(next, [2, 3, 4]);
    const y = reshape(x, [4, -1]);
    expect(y.shape).toEqual([4, 6]);
    expect(y.storage).toBe(x.storage);
    expectAllClose(y, flat, { ...exact, shape: [4, 6] });
    const z = x.reshape([-1, 2, 3]);
    expect(z.shape).toEqual([4, 2, 3]);
    expect(z.storage).toBe(x.storage);
    expectAllClose(reshape(x, [-1]), flat, { ...exact, shape: [24] });
  }));

  it('copies a transposed input and gives its row-major values', () => seeded((next) => {
    const { t: x, flat } = randomTensor(next, [3, 5]);
    const xt = x.t();
    const y = xt.reshape([15]);
    expect(y.storage).not.toBe(x.storage);
    expect(y.isContiguous).toBe(true);
    // Row-major order of the transpose: element (j, i) of the transpose is x[i][j].
    expectAllClose(y, build([5, 3], ([j, i]) => flat[i! * 5 + j!]!), { ...exact, shape: [15] });
    expectAllClose(xt.reshape([3, -1]), build([5, 3], ([j, i]) => flat[i! * 5 + j!]!), { ...exact, shape: [3, 5] });
  }));

  it('stays a view when the strides allow it (a leading-dim slice, a split of a permuted dim)', () => seeded((next) => {
    const { t: x, flat } = randomTensor(next, [6, 4]);
    const rows = x.slice(0, 2, 5);
    const r = rows.reshape([12]);
    expect(r.storage).toBe(x.storage);
    expectAllClose(r, flat.slice(8, 20), exact);
    const { t: y, flat: yf } = randomTensor(next, [2, 3, 4]);
    const p = y.permute([1, 0, 2]); // [3,2,4]
    const v = p.reshape([3, 2, 2, 2]);
    expect(v.storage).toBe(y.storage);
    expectAllClose(v, build([3, 2, 2, 2], ([a, b, c, d]) => yf[ravel([b!, a!, c! * 2 + d!], [2, 3, 4])]!), { ...exact, shape: [3, 2, 2, 2] });
  }));

  it('gives the right values for random strided views reshaped to random shapes', () => seeded((next) => {
    for (let trial = 0; trial < 100; trial++) {
      const ndim = 1 + Math.floor(next() * 4);
      const shape = randomShape(next, ndim, 1, 5);
      const { t: x, flat } = randomTensor(next, shape);
      const perm = randomPerm(next, ndim);
      // A permutation, then a stepped slice of one dim: strides that are neither row-major nor dense.
      const d = Math.floor(next() * ndim);
      const step = 1 + Math.floor(next() * 2);
      const from = Math.floor(next() * 2);
      const v = x.permute(perm).slice(d, from, null, step);
      // Target: the view's elements regrouped into factors of the total size, with stray 1s.
      const factors: number[] = [];
      let rest = v.size;
      for (let f = 2; f <= rest; f++) while (rest % f === 0 && next() < 0.7) { factors.push(f); rest /= f; }
      if (rest !== 1 || factors.length === 0) factors.push(rest);
      const target = factors.flatMap((f) => (next() < 0.2 ? [1, f] : [f]));
      const y = v.reshape(target);
      const logical = values(v.shape, (idx) => {
        const src = new Array<number>(ndim);
        perm.forEach((p, i) => (src[p] = i === d ? from + step * idx[i]! : idx[i]!));
        return flat[ravel(src, shape)]!;
      });
      expectAllClose(y, logical, { ...exact, shape: target });
    }
  }));

  it('rejects two -1s, a wrong element count and an ambiguous -1', () => {
    const x = tensor([1, 2, 3, 4, 5, 6]);
    expect(() => reshape(x, [-1, -1])).toThrow(ShapeError);
    expect(() => reshape(x, [4, 2])).toThrow(/reshape: cannot reshape \[6\] \(6 elements\) into \[4,2\]/);
    expect(() => reshape(x, [4, -1])).toThrow(ShapeError);
    expect(() => reshape(tensor([]), [0, -1])).toThrow(ShapeError);
    expect(reshape(tensor([]), [-1]).shape).toEqual([0]);
    expect(() => reshape(x, [2.5, -1])).toThrow(ShapeError);
  });
});

describe('view', () => {
  it('shares storage when possible and throws when only a copy could express it', () => seeded((next) => {
    const { t: x, flat } = randomTensor(next, [3, 4]);
    const v = view(x, [2, 6]);
    expect(v.storage).toBe(x.storage);
    expectAllClose(v, flat, { ...exact, shape: [2, 6] });
    expect(() => view(x.t(), [12])).toThrow(ShapeError);
    expect(() => x.t().view([12])).toThrow(/view: \[4,3\] with strides \[1,4\] cannot be viewed as \[12\].*reshape/);
    expect(() => x.slice(1, 0, 3).view([9])).toThrow(ShapeError);
    // Every other column is still evenly spaced, so it flattens without a copy.
    const every2 = x.slice(1, 0, 4, 2).view([6]);
    expect(every2.storage).toBe(x.storage);
    expectAllClose(every2, flat.filter((_, i) => i % 2 === 0), exact);
    expect(() => x.view([5, 2])).toThrow(ShapeError);
  }));
});

describe('flatten', () => {
  it('merges the given range of dims, negative axes included, as a view', () => seeded((next) => {
    const { t: x, flat } = randomTensor(next, [2, 3, 4]);
    for (const [s, e, shape] of [[0, -1, [24]], [1, -1, [2, 12]], [0, 1, [6, 4]], [-2, -1, [2, 12]], [1, 1, [2, 3, 4]]] as const) {
      const y = flatten(x, s, e);
      expect(y.storage).toBe(x.storage);
      expectAllClose(y, flat, { ...exact, shape: [...shape] });
    }
    expect(x.flatten().shape).toEqual([24]);
    expect(flatten(tensor(3)).shape).toEqual([1]);
    expect(() => flatten(x, 2, 0)).toThrow(ShapeError);
    expect(() => flatten(x, 0, 3)).toThrow(/axis 3 is out of range/);
  }));

  it('copies a non-contiguous input and keeps the logical order', () => seeded((next) => {
    const { t: x, flat } = randomTensor(next, [3, 2, 4]);
    const y = x.permute([2, 0, 1]).flatten(1);
    expectAllClose(y, build([4, 3, 2], ([a, b, c]) => flat[ravel([b!, c!, a!], [3, 2, 4])]!), { ...exact, shape: [4, 6] });
  }));
});

describe('squeeze and unsqueeze', () => {
  it('squeeze removes size-1 dims (all, one, several, negative) and keeps others', () => seeded((next) => {
    const { t: x, flat } = randomTensor(next, [1, 3, 1, 2]);
    const cases: [number | number[] | undefined, number[]][] = [
      [undefined, [3, 2]], [0, [3, 1, 2]], [-2, [1, 3, 2]], [[0, 2], [3, 2]], [1, [1, 3, 1, 2]], [[-4, 1], [3, 1, 2]],
    ];
    for (const [axis, shape] of cases) {
      const y = squeeze(x, axis);
      expect(y.shape, `squeeze(${JSON.stringify(axis)})`).toEqual(shape);
      expect(y.storage).toBe(x.storage);
      expectAllClose(y, flat, { ...exact, shape });
    }
    expect(() => squeeze(x, 4)).toThrow(/squeeze: axis 4 is out of range for a tensor of 4 dims \(valid: -4\.\.3\)/);
    expect(tensor([[5]]).squeeze().shape).toEqual([]);
  }));

  it('unsqueeze inserts a size-1 dim, counting negative axes from the new end', () => seeded((next) => {
    const { t: x, flat } = randomTensor(next, [3, 2]);
    const cases: [number, number[]][] = [[0, [1, 3, 2]], [1, [3, 1, 2]], [2, [3, 2, 1]], [-1, [3, 2, 1]], [-2, [3, 1, 2]], [-3, [1, 3, 2]]];
    for (const [axis, shape] of cases) {
      const y = unsqueeze(x, axis);
      expect(y.shape, `unsqueeze(${axis})`).toEqual(shape);
      expect(y.storage).toBe(x.storage);
      expectAllClose(y, flat, { ...exact, shape });
    }
    expect(() => x.unsqueeze(3)).toThrow(ShapeError);
    expect(() => x.unsqueeze(-4)).toThrow(ShapeError);
    expect(tensor(7).unsqueeze(0).shape).toEqual([1]);
  }));
});

describe('permute, transpose and t', () => {
  it('permute reorders dims as a view', () => seeded((next) => {
    for (let trial = 0; trial < 10; trial++) {
      const shape = randomShape(next, 4, 1, 4);
      const { t: x, flat } = randomTensor(next, shape);
      const perm = randomPerm(next, 4);
      // Negative spellings of the same dims must mean the same permutation.
      const spelled = perm.map((p) => (next() < 0.5 ? p - 4 : p));
      const y = permute(x, spelled);
      expect(y.storage).toBe(x.storage);
      expect(y.shape).toEqual(perm.map((p) => shape[p]!));
      expectAllClose(y, build(y.shape, (idx) => {
        const src = new Array<number>(4);
        perm.forEach((p, i) => (src[p] = idx[i]!));
        return flat[ravel(src, shape)]!;
      }), exact);
    }
  }));

  it('permute rejects repeated dims and wrong lengths', () => {
    const x = tensor([[1, 2], [3, 4]]);
    expect(() => permute(x, [0, 0])).toThrow(/repeats a dim/);
    expect(() => permute(x, [1, -2])).not.toThrow();
    expect(() => permute(x, [0, -2])).toThrow(ShapeError);
    expect(() => permute(x, [0])).toThrow(ShapeError);
    expect(() => permute(x, [0, 2])).toThrow(ShapeError);
  });

  it('transpose swaps two dims (negative axes too); t handles 1-D and 2-D', () => seeded((next) => {
    const { t: x, flat } = randomTensor(next, [2, 3, 4]);
    const y = transpose(x, -1, 0);
    expect(y.shape).toEqual([4, 3, 2]);
    expect(y.storage).toBe(x.storage);
    expectAllClose(y, build([4, 3, 2], ([a, b, c]) => flat[ravel([c!, b!, a!], [2, 3, 4])]!), exact);
    const { t: m, flat: mf } = randomTensor(next, [3, 5]);
    expectAllClose(m.t(), build([5, 3], ([j, i]) => mf[i! * 5 + j!]!), exact);
    expect(m.t().storage).toBe(m.storage);
    const v = tensor([1, 2, 3]);
    expect(v.t()).toBe(v);
    expect(() => x.t()).toThrow(/t: expects a tensor of at most 2 dims/);
    expect(() => transpose(x, 0, 3)).toThrow(ShapeError);
  }));
});

describe('expand and broadcastTo', () => {
  it('expand repeats size-1 dims with stride 0 and adds leading dims', () => seeded((next) => {
    const { t: x, flat } = randomTensor(next, [3, 1]);
    const y = expand(x, [2, 3, 4]);
    expect(y.shape).toEqual([2, 3, 4]);
    expect(y.strides).toEqual([0, 1, 0]);
    expect(y.storage).toBe(x.storage);
    expectAllClose(y, build([2, 3, 4], ([, b]) => flat[b!]!), exact);
    const z = x.expand([-1, 5]);
    expect(z.shape).toEqual([3, 5]);
    expect(z.strides[1]).toBe(0);
    expectAllClose(z, build([3, 5], ([a]) => flat[a!]!), exact);
  }));

  it('expand errors: a non-1 dim growing, too few dims, -1 for a new dim', () => {
    const x = tensor([1, 2, 3]);
    expect(() => expand(x, [4])).toThrow(/expand: cannot expand \[3\] to \[4\]/);
    expect(() => expand(tensor([[1, 2]]), [2])).toThrow(ShapeError);
    expect(() => expand(x, [-1, 3])).toThrow(/-1 is not allowed for the new leading dim 0/);
  });

  it('broadcastTo follows NumPy rules and fails when they do not allow the target', () => seeded((next) => {
    const { t: x, flat } = randomTensor(next, [4]);
    const y = broadcastTo(x, [2, 3, 4]);
    expect(y.strides).toEqual([0, 0, 1]);
    expect(y.storage).toBe(x.storage);
    expectAllClose(y, build([2, 3, 4], ([, , c]) => flat[c!]!), exact);
    expect(() => broadcastTo(tensor([[1, 2, 3], [4, 5, 6]]), [3])).toThrow(ShapeError);
    expect(() => broadcastTo(x, [3])).toThrow(/broadcastTo: cannot broadcast \[4\]/);
    expect(() => x.broadcastTo([4, 2])).toThrow(ShapeError);
  }));
});

describe('slice', () => {
  it('matches Python slicing for negative, missing and out-of-range bounds', () => seeded((next) => {
    for (let trial = 0; trial < 200; trial++) {
      const n = Math.floor(next() * 8);
      const shape = [2, n, 3];
      const { t: x, flat } = randomTensor(next, shape);
      const bound = (): number | null => (next() < 0.2 ? null : Math.floor(next() * (4 * n + 5)) - 2 * n - 2);
      const start = bound(), end = bound();
      const step = 1 + Math.floor(next() * 4);
      const picks = pythonSlice(n, start, end, step);
      const y = slice(x, 1, start, end, step);
      const where = `slice(${start}, ${end}, ${step}) of ${n}`;
      expect(y.shape, where).toEqual([2, picks.length, 3]);
      expect(y.storage).toBe(x.storage);
      expectAllClose(y, values(y.shape, ([a, b, c]) => flat[ravel([a!, picks[b!]!, c!], shape)]!), { ...exact, shape: [2, picks.length, 3] });
    }
  }));

  it('works along a negative axis and rejects a non-positive step', () => seeded((next) => {
    const { t: x, flat } = randomTensor(next, [3, 6]);
    expectAllClose(x.slice(-1, -4, undefined, 2), build([3, 2], ([r, c]) => flat[r! * 6 + 2 + 2 * c!]!), { ...exact, shape: [3, 2] });
    expect(x.slice(0)).toBe(x);
    expect(() => x.slice(0, 0, 2, 0)).toThrow(/step must be a positive integer/);
    expect(() => x.slice(0, 0, 2, -1)).toThrow(ValueError);
    expect(() => x.slice(2, 0, 1)).toThrow(ShapeError);
  }));
});

describe('narrow', () => {
  it('selects a range as a view; negative start counts from the end', () => seeded((next) => {
    const { t: x, flat } = randomTensor(next, [4, 5]);
    const y = narrow(x, 1, 1, 3);
    expect(y.storage).toBe(x.storage);
    expectAllClose(y, build([4, 3], ([r, c]) => flat[r! * 5 + 1 + c!]!), exact);
    expectAllClose(x.narrow(0, -2, 2), flat.slice(10), { ...exact, shape: [2, 5] });
    expect(x.narrow(1, 5, 0).shape).toEqual([4, 0]);
  }));

  it('throws when the range does not fit, instead of clamping like slice', () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(() => narrow(x, 1, 1, 3)).toThrow(/narrow: start 1 and length 3 do not fit dim 1 of size 3/);
    expect(() => narrow(x, 1, 0, -1)).toThrow(ShapeError);
    expect(() => narrow(x, 0, -3, 1)).toThrow(ShapeError);
    expect(() => narrow(x, 2, 0, 1)).toThrow(ShapeError);
  });
});

describe('contiguous and clone', () => {
  it('contiguous returns the tensor itself when already contiguous, else a row-major copy', () => seeded((next) => {
    const { t: x, flat } = randomTensor(next, [3, 4]);
    expect(contiguous(x)).toBe(x);
    const c = x.t().contiguous();
    expect(c.storage).not.toBe(x.storage);
    expect(c.isContiguous).toBe(true);
    expect(c.strides).toEqual([3, 1]);
    expectAllClose(c, build([4, 3], ([j, i]) => flat[i! * 4 + j!]!), exact);
  }));

  it('clone never shares storage, even for a contiguous tensor, and keeps dtype', () => seeded((next) => {
    for (const dtype of ['float32', 'float64', 'int32'] as const) {
      const { t: x, flat } = randomTensor(next, [2, 3], dtype);
      const y = clone(x);
      expect(y.storage).not.toBe(x.storage);
      expect(onCpu(y.storage, 'test').buffer).not.toBe(onCpu(x.storage, 'test').buffer);
      y.fill_(0);
      expectAllClose(x, flat, { ...exact, shape: [2, 3], dtype });
      const z = x.slice(1, 1).clone();
      expect(z.storage).not.toBe(x.storage);
      expectAllClose(z, build([2, 2], ([r, c]) => flat[r! * 3 + 1 + c!]!), { ...exact, dtype });
    }
  }));
});

describe('split and chunk', () => {
  const sizes = (pieces: Tensor[], axis: number): number[] => pieces.map((p) => p.shape[axis]!);

  it('split by a size gives equal pieces with a shorter last one, as views', () => seeded((next) => {
    const { t: x, flat } = randomTensor(next, [10, 2]);
    const pieces = split(x, 3);
    expect(sizes(pieces, 0)).toEqual([3, 3, 3, 1]);
    let at = 0;
    for (const p of pieces) {
      expect(p.storage).toBe(x.storage);
      expectAllClose(p, flat.slice(at * 2, (at + p.shape[0]!) * 2), { ...exact, shape: [p.shape[0]!, 2] });
      at += p.shape[0]!;
    }
    expect(sizes(split(x, 10), 0)).toEqual([10]);
    expect(sizes(split(x, 25), 0)).toEqual([10]);
    expect(sizes(split(tensor([]), 2), 0)).toEqual([0]);
  }));

  it('split by a list of sizes, along a negative axis', () => seeded((next) => {
    const { t: x, flat } = randomTensor(next, [2, 10]);
    const pieces = x.split([2, 0, 5, 3], -1);
    expect(sizes(pieces, 1)).toEqual([2, 0, 5, 3]);
    expectAllClose(pieces[2]!, build([2, 5], ([r, c]) => flat[r! * 10 + 2 + c!]!), exact);
    expect(() => x.split([2, 5], 1)).toThrow(/summing to 10/);
    expect(() => x.split([11, -1], 1)).toThrow(ShapeError);
    expect(() => x.split(0, 1)).toThrow(ValueError);
  }));

  it('chunk sizes follow PyTorch: ceil(n / chunks) each, possibly fewer pieces', () => {
    const cases: [number, number, number[]][] = [
      [10, 4, [3, 3, 3, 1]], [5, 4, [2, 2, 1]], [6, 4, [2, 2, 2]], [3, 5, [1, 1, 1]], [12, 3, [4, 4, 4]], [1, 1, [1]], [7, 2, [4, 3]],
      // An empty dim still yields `chunks` empty pieces.
      [0, 3, [0, 0, 0]],
    ];
    for (const [n, chunks, expected] of cases) {
      const x = tensor(Float32Array.from({ length: 2 * n }, (_, i) => i), { shape: [2, n] });
      const pieces = chunk(x, chunks, 1);
      expect(sizes(pieces, 1), `chunk(${n}, ${chunks})`).toEqual(expected);
      let at = 0;
      for (const p of pieces) {
        expect(p.storage).toBe(x.storage);
        expectAllClose(p, build(p.shape, ([r, c]) => r! * n + at + c!), exact);
        at += p.shape[1]!;
      }
    }
    expect(() => chunk(tensor([1, 2]), 0)).toThrow(ValueError);
  });
});

describe('cat and stack', () => {
  it('cat joins along an axis (negative too) with the right values', () => seeded((next) => {
    const a = randomTensor(next, [2, 3, 4]), b = randomTensor(next, [2, 1, 4]), c = randomTensor(next, [2, 2, 4]);
    const y = cat([a.t, b.t, c.t], -2);
    expect(y.shape).toEqual([2, 6, 4]);
    expectAllClose(y, build([2, 6, 4], ([i, j, k]) => {
      if (j! < 3) return a.flat[ravel([i!, j!, k!], [2, 3, 4])]!;
      if (j! < 4) return b.flat[ravel([i!, 0, k!], [2, 1, 4])]!;
      return c.flat[ravel([i!, j! - 4, k!], [2, 2, 4])]!;
    }), exact);
    // Non-contiguous inputs and a zero-size piece.
    const e = randomTensor(next, [4, 2]);
    const w = cat([e.t.t(), tensor(new Float32Array(0), { shape: [2, 0] }), e.t.slice(0, 1, 3).t()], 1);
    expect(w.shape).toEqual([2, 6]);
    expectAllClose(w, build([2, 6], ([r, col]) => (col! < 4 ? e.flat[col! * 2 + r!]! : e.flat[(col! - 3) * 2 + r!]!)), exact);
  }));

  it('cat promotes dtypes like the elementwise ops', () => {
    const i = tensor([1, 2], { dtype: 'int32' }), f = tensor([0.5]), d = tensor([0.25], { dtype: 'float64' }), b = tensor([true, false]);
    expectAllClose(cat([i, f]), [1, 2, 0.5], { ...exact, dtype: 'float32' });
    expectAllClose(cat([f, i, d]), [0.5, 1, 2, 0.25], { ...exact, dtype: 'float64' });
    expectAllClose(cat([b, i]), [1, 0, 1, 2], { ...exact, dtype: 'int32' });
    expectAllClose(cat([b, b]), [1, 0, 1, 0], { ...exact, dtype: 'bool' });
  });

  it('cat errors name the dim and both shapes', () => {
    const a = tensor([[1, 2, 3], [4, 5, 6]]), b = tensor([[1, 2, 3, 4], [5, 6, 7, 8]]);
    expect(() => cat([a, b], 0)).toThrow(ShapeError);
    expect(() => cat([a, b], 0)).toThrow(/cat: .*dim 0.*\[2,3\].*\[2,4\]/);
    expect(() => cat([a, tensor([1, 2, 3])])).toThrow(ShapeError);
    expect(() => cat([a, a], 2)).toThrow(/axis 2 is out of range/);
    expect(() => cat([])).toThrow(ValueError);
    expect(() => cat([tensor(1), tensor(2)])).toThrow(/use stack/);
  });

  it('stack joins along a new axis at any position, promoting dtypes', () => seeded((next) => {
    const a = randomTensor(next, [2, 3]), b = randomTensor(next, [2, 3]);
    for (const [axis, at] of [[0, 0], [1, 1], [2, 2], [-1, 2], [-3, 0]] as const) {
      const y = stack([a.t, b.t], axis);
      const shape = [2, 3];
      shape.splice(at, 0, 2);
      expect(y.shape, `stack axis ${axis}`).toEqual(shape);
      expectAllClose(y, build(shape, (idx) => {
        const which = idx[at]!;
        const rest = idx.filter((_, d) => d !== at);
        return (which === 0 ? a : b).flat[ravel(rest, [2, 3])]!;
      }), exact);
    }
    expectAllClose(stack([tensor([1, 2], { dtype: 'int32' }), tensor([0.5, 1.5], { dtype: 'float64' })]), [[1, 2], [0.5, 1.5]], { ...exact, dtype: 'float64' });
    expect(() => stack([a.t, a.t.t()])).toThrow(/stack: all tensors must have the same shape \(got \[2,3\] and \[3,2\]\)/);
    expect(() => stack([a.t, b.t], 3)).toThrow(ShapeError);
  }));
});

describe('pad', () => {
  /** Reference constant padding: before/after per dim, negative amounts crop. */
  function padRef(flat: number[], shape: number[], pads: number[], value: number): { shape: number[]; values: number[] } {
    const before = shape.map(() => 0), after = shape.map(() => 0);
    for (let i = 0; i < pads.length / 2; i++) {
      before[shape.length - 1 - i] = pads[2 * i]!;
      after[shape.length - 1 - i] = pads[2 * i + 1]!;
    }
    const out = shape.map((d, i) => d + before[i]! + after[i]!);
    const vals = values(out, (idx) => {
      const src = idx.map((v, d) => v - before[d]!);
      return src.every((v, d) => v >= 0 && v < shape[d]!) ? flat[ravel(src, shape)]! : value;
    });
    return { shape: out, values: vals };
  }

  it('pads the last dims first, in PyTorch F.pad order, with a value; negatives crop', () => seeded((next) => {
    const shape = [2, 3, 4];
    const { t: x, flat } = randomTensor(next, shape);
    const cases: [number[], number][] = [
      [[1, 2], 0], [[0, 1, 2, 0], 0], [[1, 2, 0, 1, 2, 0], 7.5], [[-1, 2], 0], [[-1, -2, 1, -1], -3], [[2, -3, -1, 0, 0, 1], 1],
      [[0, 0], 0],
    ];
    for (const [pads, value] of cases) {
      const ref = padRef(flat, shape, pads, value);
      const y = pad(x, pads, value);
      expect(y.shape, `pad ${JSON.stringify(pads)}`).toEqual(ref.shape);
      expectAllClose(y, ref.values, { ...exact, shape: ref.shape });
    }
    // A non-contiguous input pads by its logical layout.
    const xt = x.permute([2, 1, 0]);
    const tflat = values([4, 3, 2], ([a, b, c]) => flat[ravel([c!, b!, a!], shape)]!);
    const ref = padRef(tflat, [4, 3, 2], [1, 1, -1, 0], 2);
    expectAllClose(pad(xt, [1, 1, -1, 0], 2), ref.values, { ...exact, shape: ref.shape });
  }));

  it('keeps int32 and rejects malformed pad lists and over-cropping', () => {
    expectAllClose(pad(tensor([1, 2], { dtype: 'int32' }), [1, 0], 9), [9, 1, 2], { ...exact, dtype: 'int32' });
    const x = tensor([[1, 2], [3, 4]]);
    expect(() => pad(x, [1])).toThrow(ShapeError);
    expect(() => pad(x, [1, 1, 1, 1, 1, 1])).toThrow(ShapeError);
    expect(() => pad(x, [0.5, 1])).toThrow(ShapeError);
    expect(() => pad(x, [-2, -1])).toThrow(/pad: cropping 2 and 1 from dim 1 of size 2 leaves nothing/);
  });
});

describe('chains of views', () => {
  it('permute, then slice, then expand reads the right elements without copying', () => seeded((next) => {
    const shape = [3, 4, 5];
    const { t: x, flat } = randomTensor(next, shape);
    const p = x.permute([2, 0, 1]); // [5,3,4]: p[a,b,c] = x[b,c,a]
    const s = p.slice(0, 1, null, 2).slice(2, -3); // [2,3,3]: s[a,b,c] = p[1+2a, b, 1+c]
    const u = s.unsqueeze(1); // [2,1,3,3]
    const e = u.expand([2, 4, 3, 3]);
    const n = e.narrow(3, 1, 2).transpose(0, 2); // [3,4,2,2]: n[b,k,a,c] = e[a,k,b,1+c]
    for (const v of [p, s, u, e, n]) expect(v.storage).toBe(x.storage);
    const xAt = (i: number, j: number, k: number): number => flat[ravel([i, j, k], shape)]!;
    expectAllClose(s, build([2, 3, 3], ([a, b, c]) => xAt(b!, 1 + c!, 1 + 2 * a!)), exact);
    expectAllClose(e, build([2, 4, 3, 3], ([a, , b, c]) => xAt(b!, 1 + c!, 1 + 2 * a!)), exact);
    expectAllClose(n, build([3, 4, 2, 2], ([b, , a, c]) => xAt(b!, 2 + c!, 1 + 2 * a!)), exact);
    // A reshape at the end of the chain may copy, but must keep the logical order.
    expectAllClose(n.reshape([12, 4]), build([3, 4, 2, 2], ([b, , a, c]) => xAt(b!, 2 + c!, 1 + 2 * a!)), { ...exact, shape: [12, 4] });
  }));

  it('slices of slices accumulate offsets and steps', () => seeded((next) => {
    const { t: x, flat } = randomTensor(next, [20]);
    const y = x.slice(0, 3, 19, 2).slice(0, 1, null, 3).narrow(0, 1, 2); // positions 3+2*(1+3*(1+i))
    expect(y.storage).toBe(x.storage);
    expect(y.offset).toBe(11);
    expect(y.strides).toEqual([6]);
    expectAllClose(y, [flat[11]!, flat[17]!], exact);
  }));
});
