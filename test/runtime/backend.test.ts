/**
 * The backend contract, run against every backend in test/backends.ts: buffers round-trip
 * every dtype, a compiled kernel takes element offsets and scalars, and writes, copies and
 * launches happen in the order they were issued even while launches are still pending.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { lowerElementwise, lowerFill, lowerGather, type Layout } from '../../compiler/lower.js';
import { ARRAY_OF, type DType } from '../../runtime/dtype.js';
import { ValueError } from '../../runtime/errors.js';
import { acquireBackends } from '../backends.js';

const backends = await acquireBackends('backend contract');
afterAll(async () => {
  for (const b of backends) await b.release();
});

const SAMPLES: Record<DType, number[]> = {
  bool: [0, 1, 1, 0, 1],
  uint8: [0, 255, 7, 128, 1],
  int32: [-2147483648, 2147483647, -1, 0, 12345],
  float32: [-0.5, 3.25, -1e30, Math.fround(0.1), 0],
  float64: [0.1, -1e300, 2 ** -1074, Math.PI, -0],
  // Half bits: 1, -2, the largest finite, the smallest subnormal, -0, NaN.
  float16: [0x3c00, 0xc000, 0x7bff, 0x0001, 0x8000, 0x7e00],
};

const vec = (dtype: DType, n: number, offset = 0): Layout => ({ dtype, shape: [n], strides: [1], offset });

describe.each(backends)('$name backend', ({ backend, dtypes }) => {
  it.each(dtypes)('writes and reads back %s elements, at an offset too', async (dtype) => {
    const values = new ARRAY_OF[dtype](SAMPLES[dtype].length);
    values.set(SAMPLES[dtype]);
    const buf = backend.alloc(dtype, values.length + 3);
    backend.write(buf, dtype, values, 3);
    const got = await backend.read(buf, dtype, 3, values.length);
    expect(got).toBeInstanceOf(ARRAY_OF[dtype]);
    expect(Array.from(got)).toEqual(Array.from(values));
    const sync = backend.readSync?.(buf, dtype, 4, 2);
    if (sync !== undefined) expect(Array.from(sync)).toEqual(Array.from(values.subarray(1, 3)));
    backend.free(buf);
  });

  it('launches a compiled kernel with element offsets and scalars', async () => {
    const out = backend.alloc('float32', 8);
    backend.write(out, 'float32', new Float32Array(8));
    const fill = lowerFill(vec('float32', 3));
    backend.run([{ kernel: backend.compile(fill.key, fill.build), args: [{ data: out, offset: 2 }], scalars: [7.5] }]);
    const a = backend.alloc('float32', 6);
    const b = backend.alloc('float32', 6);
    backend.write(a, 'float32', Float32Array.of(9, 9, 1, 2, 3, 9));
    backend.write(b, 'float32', Float32Array.of(9, 10, 20, 30, 9, 9));
    const add = lowerElementwise('add', [vec('float32', 3, 2), vec('float32', 3, 1)], vec('float32', 3, 5));
    const args = [{ data: out, offset: 5 }, { data: a, offset: 2 }, { data: b, offset: 1 }];
    backend.run([{ kernel: backend.compile(add.key, add.build), args, scalars: [] }]);
    expect(Array.from(await backend.read(out, 'float32', 0, 8))).toEqual([0, 0, 7.5, 7.5, 7.5, 11, 22, 33]);
    for (const x of [out, a, b]) backend.free(x);
  });

  it('keeps the order of launches, writes and copies while launches are pending', async () => {
    const n = 4;
    const x = backend.alloc('int32', n);
    const y = backend.alloc('int32', n);
    const z = backend.alloc('int32', n);
    backend.write(x, 'int32', Int32Array.of(1, 2, 3, 4));
    const neg = lowerElementwise('neg', [vec('int32', n)], vec('int32', n));
    const kernel = backend.compile(neg.key, neg.build);
    // y = -x and z = -y in one batch: the second launch sees the first one's stores.
    backend.run([
      { kernel, args: [{ data: y, offset: 0 }, { data: x, offset: 0 }], scalars: [] },
      { kernel, args: [{ data: z, offset: 0 }, { data: y, offset: 0 }], scalars: [] },
    ]);
    // Written while the launches above may still be pending: they must read x's old elements.
    backend.write(x, 'int32', Int32Array.of(50, 60, 70, 80));
    backend.copy(x, 1, z, 0, 2);
    backend.flush();
    expect(Array.from(await backend.read(y, 'int32', 0, n))).toEqual([-1, -2, -3, -4]);
    expect(Array.from(await backend.read(z, 'int32', 0, n))).toEqual([60, 70, 3, 4]);
    await backend.sync();
    for (const b of [x, y, z]) backend.free(b);
  });

  it("reports a gather's out-of-range index as the CPU does, by the next readback at the latest", async () => {
    const table = backend.alloc('float32', 3);
    const index = backend.alloc('int32', 2);
    const out = backend.alloc('float32', 2);
    backend.write(table, 'float32', Float32Array.of(1, 2, 3));
    backend.write(index, 'int32', Int32Array.of(0, 5));
    const gather = lowerGather(vec('float32', 3), vec('int32', 2), 0, vec('float32', 2));
    const args = [out, index, table].map((data) => ({ data, offset: 0 }));
    const launch = () => backend.run([{ kernel: backend.compile(gather.key, gather.build), args, scalars: [] }]);
    await expect((async () => { launch(); await backend.sync(); })()).rejects.toThrow(ValueError);
    for (const b of [table, index, out]) backend.free(b);
  });
});
