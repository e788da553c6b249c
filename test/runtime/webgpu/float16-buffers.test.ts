/**
 * float16 buffers of the WebGPU backend: 2 bytes per element where the device has
 * shader-f16, writes, copies and reads at odd element offsets and odd counts (which the
 * queue's whole-word copies cannot do) leaving the neighbouring halves alone, and a clear
 * DTypeError on a device acquired without the feature.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { webGpuBackend } from '../../../compiler/backends.js';
import { DTypeError } from '../../../runtime/errors.js';
import { acquireDevice } from '../../../runtime/webgpu/device.js';
import { gpuForTests } from '../../webgpu.js';

const gpu = await gpuForTests('webgpu float16 buffers');
const backend = gpu === undefined ? undefined : webGpuBackend(gpu);
afterAll(() => {
  backend?.destroy();
  gpu?.destroy();
});

/** Distinct half bit patterns, none a NaN (the values stay bits on every path here). */
const pattern = (n: number, from: number) => Uint16Array.from({ length: n }, (_, i) => (from + i * 97) % 0x7c00);

describe.skipIf(backend === undefined || !gpu!.shaderF16)('float16 buffers on a device with shader-f16', () => {
  const b = backend!;

  it('takes 2 bytes per element', () => {
    const before = b.storage.stats().liveBytes;
    const buf = b.alloc('float16', 1000);
    expect(buf.bytes).toBe(2);
    expect(b.storage.stats().liveBytes - before).toBe(2048);
    b.free(buf);
    const f = b.alloc('float32', 1000);
    expect(f.bytes).toBe(4);
    b.free(f);
  });

  it('writes and reads every offset and count parity, keeping the halves around them', async () => {
    for (const offset of [0, 1, 2, 3]) {
      for (const length of [1, 2, 3, 4, 5, 1023]) {
        const buf = b.alloc('float16', 1040);
        const base = pattern(1040, 1);
        b.write(buf, 'float16', base);
        const part = pattern(length, 5000 + offset);
        b.write(buf, 'float16', part, offset);
        const want = base.slice();
        want.set(part, offset);
        const all = await b.read(buf, 'float16', 0, 1040);
        expect(Array.from(all), `write ${length} at ${offset}`).toEqual(Array.from(want));
        const got = await b.read(buf, 'float16', offset, length);
        expect(Array.from(got), `read ${length} at ${offset}`).toEqual(Array.from(part));
        b.free(buf);
      }
    }
  });

  it('copies between any offsets, keeping the halves around the destination', async () => {
    const src = b.alloc('float16', 100), dst = b.alloc('float16', 100);
    const from = pattern(100, 7), into = pattern(100, 9000);
    b.write(src, 'float16', from);
    const copies = [[0, 0, 100], [1, 1, 9], [0, 1, 8], [3, 0, 5], [2, 2, 4], [5, 96, 3], [1, 2, 1]] as const;
    for (const [so, d, n] of copies) {
      b.write(dst, 'float16', into);
      b.copy(src, so, dst, d, n);
      const want = into.slice();
      want.set(from.subarray(so, so + n), d);
      const got = await b.read(dst, 'float16', 0, 100);
      expect(Array.from(got), `copy ${n} from ${so} to ${d}`).toEqual(Array.from(want));
    }
    b.free(src);
    b.free(dst);
  });

  it('orders an unaligned write after launches recorded before it', async () => {
    const buf = b.alloc('float16', 8);
    b.write(buf, 'float16', pattern(8, 1));
    const other = b.alloc('float16', 8);
    b.copy(buf, 0, other, 0, 8);
    b.write(buf, 'float16', pattern(3, 300), 1);
    expect(Array.from(await b.read(other, 'float16', 0, 8))).toEqual(Array.from(pattern(8, 1)));
    b.free(buf);
    b.free(other);
  });
});

describe.skipIf(gpu === undefined)('float16 on a device without shader-f16', () => {
  it('refuses float16 buffers naming the dtype, the device and what to do, and keeps working', async () => {
    const plain = await acquireDevice({ shaderF16: false });
    const b = webGpuBackend(plain);
    try {
      expect(plain.shaderF16).toBe(false);
      expect(() => b.alloc('float16', 4)).toThrow(DTypeError);
      expect(() => b.alloc('float16', 4)).toThrow(
        /webgpu: float16 tensors need the adapter's shader-f16 feature.*\(got float16\); cast to float32 first/,
      );
      const f = b.alloc('float32', 3);
      b.write(f, 'float32', Float32Array.of(1, 2, 3));
      expect(Array.from(await b.read(f, 'float32', 0, 3))).toEqual([1, 2, 3]);
      b.free(f);
    } finally {
      b.destroy();
      plain.destroy();
    }
  });
});
