import { describe, expect, it } from 'vitest';
import { DTypeError, ShapeError, Tensor, ValueError, tensor } from '../../../src/index.js';
import type { DType } from '../../../src/index.js';
import { expectAllClose, uniform } from '../../helpers.js';
import { seeded, sizeOf, unravel, ravel } from '../multi-index.js';

function randomTensor(next: () => number, shape: number[], dtype: DType = 'float32'): { t: Tensor; flat: number[] } {
  const raw = dtype === 'int32' ? uniform(next, sizeOf(shape), -50, 50).map(Math.floor) : uniform(next, sizeOf(shape), 0.5, 10).map((v) => (next() < 0.5 ? -v : v));
  const data = dtype === 'int32' ? Int32Array.from(raw) : dtype === 'float64' ? Float64Array.from(raw) : Float32Array.from(raw);
  return { t: tensor(data, { shape }), flat: Array.from(data) };
}

const exact = { rtol: 0, atol: 0 };

type Op = 'add_' | 'sub_' | 'mul_' | 'div_';
/** The float64 result of each op, rounded once to the target's float32. */
const ref: Record<Op, (a: number, b: number) => number> = {
  add_: (a, b) => Math.fround(a + b),
  sub_: (a, b) => Math.fround(a - b),
  mul_: (a, b) => Math.fround(a * b),
  div_: (a, b) => Math.fround(a / b),
};
const OPS: Op[] = ['add_', 'sub_', 'mul_', 'div_'];

describe('arithmetic in place', () => {
  it('add_/sub_/mul_/div_ on a contiguous tensor, with tensor and scalar operands, return the target', () => seeded((next) => {
    for (const op of OPS) {
      const { t: x, flat } = randomTensor(next, [3, 4]);
      const { t: y, flat: yf } = randomTensor(next, [3, 4]);
      const storage = x.storage;
      expect(x[op](y)).toBe(x);
      expect(x.storage).toBe(storage);
      const after = flat.map((v, i) => ref[op](v, yf[i]!));
      expectAllClose(x, after, { ...exact, shape: [3, 4], dtype: 'float32' });
      const s = uniform(next, 1, 0.5, 3)[0]!;
      x[op](s);
      // A JS number is a weak scalar: the op runs in float32, so s is rounded first.
      expectAllClose(x, after.map((v) => ref[op](v, Math.fround(s))), { ...exact, shape: [3, 4] });
    }
  }));

  it('writes through a strided view into its base, touching nothing else', () => seeded((next) => {
    for (const op of OPS) {
      const { t: base, flat } = randomTensor(next, [4, 6]);
      // view[i, j] = base[j, 1 + 2i]: every other column, transposed, shape [3,4].
      const view = base.slice(1, 1, null, 2).t();
      expect(view.storage).toBe(base.storage);
      const { t: y, flat: yf } = randomTensor(next, [3, 4]);
      view[op](y);
      const expected = flat.slice();
      for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) expected[j * 6 + 1 + 2 * i] = ref[op](flat[j * 6 + 1 + 2 * i]!, yf[i * 4 + j]!);
      expectAllClose(base, expected, { ...exact, shape: [4, 6] });
    }
  }));

  it('broadcasts the source to the target: rows, columns and 0-d', () => seeded((next) => {
    const shape = [3, 4];
    for (const srcShape of [[4], [3, 1], [1, 4], [], [1], [1, 1]]) {
      for (const op of OPS) {
        const { t: x, flat } = randomTensor(next, shape);
        const { t: y, flat: yf } = randomTensor(next, srcShape);
        x[op](y);
        const expected = flat.map((v, i) => {
          const [r, c] = unravel(i, shape);
          // Right-aligned broadcast: a size-1 (or missing) source dim repeats.
          const src = srcShape.map((d, k) => (d === 1 ? 0 : [r!, c!][k + 2 - srcShape.length]!));
          return ref[op](v, yf[ravel(src, srcShape)]!);
        });
        expectAllClose(x, expected, { ...exact, shape });
      }
    }
  }));

  it('int32 targets take int operands; a float result is an error that changes nothing', () => seeded((next) => {
    const { t: x, flat } = randomTensor(next, [5], 'int32');
    const { t: y, flat: yf } = randomTensor(next, [5], 'int32');
    x.add_(y);
    let expected = flat.map((v, i) => v + yf[i]!);
    expectAllClose(x, expected, { ...exact, dtype: 'int32' });
    x.mul_(3).sub_(tensor([1, 2, 3, 4, 5], { dtype: 'int32' }));
    expected = expected.map((v, i) => v * 3 - (i + 1));
    expectAllClose(x, expected, { ...exact, dtype: 'int32' });
    x.add_(tensor([true, false, true, false, true]));
    expected = expected.map((v, i) => v + (i % 2 === 0 ? 1 : 0));
    expectAllClose(x, expected, { ...exact, dtype: 'int32' });
    const version = x.storage.version;
    expect(() => x.add_(0.5)).toThrow(DTypeError);
    expect(() => x.add_(0.5)).toThrow(/add_: the result type float32 cannot be stored in the int32 target/);
    expect(() => x.mul_(tensor([1.5, 1, 1, 1, 1]))).toThrow(DTypeError);
    // True division always gives a float.
    expect(() => x.div_(2)).toThrow(/div_: the result type float32 cannot be stored in the int32 target/);
    expect(() => tensor([true]).add_(1)).toThrow(/int32 cannot be stored in the bool target/);
    expectAllClose(x, expected, { ...exact, dtype: 'int32' });
    expect(x.storage.version).toBe(version);
  }));

  it('float64 operands may be stored in a float32 target (same kind), rounded once', () => {
    const x = tensor([1, 2]);
    x.add_(tensor([0.1, 0.2], { dtype: 'float64' }));
    expectAllClose(x, [Math.fround(1.1), Math.fround(2.2)], { ...exact, dtype: 'float32' });
  });

  it('cannot grow the target; the failed op changes nothing', () => seeded((next) => {
    const { t: x, flat } = randomTensor(next, [3]);
    expect(() => x.add_(tensor([[1, 2, 3], [4, 5, 6]]))).toThrow(ShapeError);
    expect(() => x.mul_(tensor([[1], [2]]))).toThrow(/mul_: the result's shape \[2,3\] does not match the target's \[3\]/);
    expect(() => x.copy_(tensor([[1, 2, 3]]))).toThrow(ShapeError);
    expect(() => x.add_(tensor([1, 2]))).toThrow(ShapeError);
    // Extra leading size-1 dims grow the rank, which PyTorch rejects as well.
    expect(() => x.add_(tensor([[1, 2, 3]]))).toThrow(/add_: the result's shape \[1,3\] does not match the target's \[3\]/);
    expectAllClose(x, flat, { ...exact, shape: [3] });
    expect(x.storage.version).toBe(0);
  }));

  it('writing into an expanded (stride 0) view is an error that changes nothing', () => seeded((next) => {
    const { t: x, flat } = randomTensor(next, [1, 3]);
    const e = x.expand([4, 3]);
    expect(e.strides[0]).toBe(0);
    for (const write of [() => e.add_(1), () => e.mul_(e), () => e.copy_(tensor([1, 2, 3])), () => e.fill_(0), () => e.zero_()]) {
      expect(write).toThrow(ValueError);
      expect(write).toThrow(/stride 0/);
    }
    expectAllClose(x, flat, { ...exact, shape: [1, 3] });
    expect(x.storage.version).toBe(0);
    // Expanding a size-1 dim to size 1 aliases nothing, so it stays writable.
    x.expand([1, 3]).add_(1);
    expectAllClose(x, flat.map((v) => Math.fround(v + 1)), { ...exact, shape: [1, 3] });
  }));
});

describe('copy_, fill_ and zero_', () => {
  it('copy_ broadcasts and casts the source into contiguous tensors and views', () => seeded((next) => {
    const { t: base, flat } = randomTensor(next, [3, 4]);
    const col = base.slice(1, 2, 3); // [3,1]: column 2
    const { t: src, flat: sf } = randomTensor(next, [1], 'float64');
    expect(col.copy_(src)).toBe(col);
    const expected = flat.slice();
    for (let r = 0; r < 3; r++) expected[r * 4 + 2] = Math.fround(sf[0]!);
    expectAllClose(base, expected, { ...exact, shape: [3, 4] });
    const { t: row, flat: rf } = randomTensor(next, [4]);
    base.copy_(row);
    expectAllClose(base, [rf, rf, rf], exact);
    // Float into int32 truncates toward zero, as PyTorch's copy_ does; bool into float gives 0/1.
    const i = tensor([0, 0, 0], { dtype: 'int32' });
    i.copy_(tensor([1.7, -1.7, 2.5]));
    expectAllClose(i, [1, -1, 2], { ...exact, dtype: 'int32' });
    const f = tensor([5, 5]);
    f.copy_(tensor([true, false]));
    expectAllClose(f, [1, 0], exact);
  }));

  it('fill_ and zero_ set every element of a view and nothing else', () => seeded((next) => {
    const { t: base, flat } = randomTensor(next, [4, 5]);
    const view = base.slice(0, 1, null, 2).slice(1, -2); // rows 1, 3; columns 3, 4
    const v = uniform(next, 1, -5, 5)[0]!;
    expect(view.fill_(v)).toBe(view);
    const expected = flat.slice();
    for (const r of [1, 3]) for (const c of [3, 4]) expected[r * 5 + c] = Math.fround(v);
    expectAllClose(base, expected, { ...exact, shape: [4, 5] });
    base.t().slice(0, 0, 1).zero_(); // column 0
    for (let r = 0; r < 4; r++) expected[r * 5] = 0;
    expectAllClose(base, expected, { ...exact, shape: [4, 5] });
    const i = tensor([1, 2, 3], { dtype: 'int32' });
    i.fill_(7);
    expectAllClose(i, [7, 7, 7], { ...exact, dtype: 'int32' });
    const b = tensor([false, true]);
    b.fill_(true);
    expectAllClose(b, [1, 1], { ...exact, dtype: 'bool' });
    const d = tensor([1], { dtype: 'float64' });
    d.fill_(0.1);
    expect(d.data()[0]).toBe(0.1);
    const s = tensor(3);
    s.zero_();
    expectAllClose(s, 0, { ...exact, shape: [] });
  }));
});

describe('aliasing', () => {
  it('x.add_(x) and x.mul_(x) read the old values', () => seeded((next) => {
    const { t: x, flat } = randomTensor(next, [2, 3]);
    x.add_(x);
    expectAllClose(x, flat.map((v) => Math.fround(v + v)), { ...exact, shape: [2, 3] });
    const { t: y, flat: yf } = randomTensor(next, [4]);
    y.mul_(y);
    expectAllClose(y, yf.map((v) => Math.fround(v * v)), exact);
  }));

  it('x.copy_(x.t()) and x.add_(x.t()) use the whole old matrix', () => seeded((next) => {
    for (const n of [2, 3, 5]) {
      const { t: x, flat } = randomTensor(next, [n, n]);
      x.copy_(x.t());
      const transposed = Array.from({ length: n * n }, (_, i) => flat[(i % n) * n + Math.floor(i / n)]!);
      expectAllClose(x, transposed, { ...exact, shape: [n, n] });
      const { t: y, flat: yf } = randomTensor(next, [n, n]);
      y.add_(y.t());
      expectAllClose(y, yf.map((v, i) => Math.fround(v + yf[(i % n) * n + Math.floor(i / n)]!)), { ...exact, shape: [n, n] });
    }
  }));

  it('overlapping slices of one storage copy as if through a temporary', () => seeded((next) => {
    const { t: x, flat } = randomTensor(next, [8]);
    x.slice(0, 1).copy_(x.slice(0, 0, -1)); // shift right by one
    expectAllClose(x, [flat[0]!, ...flat.slice(0, 7)], exact);
    const { t: y, flat: yf } = randomTensor(next, [8]);
    y.slice(0, 0, -2).add_(y.slice(0, 2)); // y[i] += y[i + 2] for i < 6, all from the old values
    expectAllClose(y, yf.map((v, i) => (i < 6 ? Math.fround(v + yf[i + 2]!) : v)), exact);
  }));
});

describe('storage.version', () => {
  it('increments once per in-place write, through views too, and not for reads or failures', () => {
    const x = tensor([[1, 2], [3, 4]]);
    const v0 = x.storage.version;
    x.add_(1);
    expect(x.storage.version).toBe(v0 + 1);
    x.sub_(1).mul_(2).div_(2);
    expect(x.storage.version).toBe(v0 + 4);
    x.copy_(tensor([5, 6]));
    x.fill_(3);
    x.zero_();
    expect(x.storage.version).toBe(v0 + 7);
    const view = x.t();
    view.add_(1);
    expect(x.storage.version).toBe(v0 + 8);
    expect(view.storage.version).toBe(v0 + 8);
    // Reads and out-of-place ops leave the counter alone.
    x.add(1);
    x.data();
    x.toArray();
    x.clone();
    x.reshape([4]);
    expect(x.storage.version).toBe(v0 + 8);
    expect(() => x.add_(tensor([[[1]], [[2]]]))).toThrow(ShapeError);
    expect(x.storage.version).toBe(v0 + 8);
    // A fresh tensor (the clone) has its own counter.
    const c = x.clone();
    c.add_(1);
    expect(c.storage.version).toBe(1);
    expect(x.storage.version).toBe(v0 + 8);
  });
});
