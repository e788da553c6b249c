/**
 * The Wasm backend's own promises beyond the backend contract: reads are fresh arrays, not
 * views of the memory; growing the memory leaves no buffer or kernel reading a stale view;
 * a buffer too large for a 32-bit memory is refused with its size named; freed blocks are
 * reused, so live bytes stay flat.
 */
import { describe, expect, it } from 'vitest';
import { wasm } from '../../../compiler/backends.js';
import { lowerElementwise, type Layout } from '../../../compiler/lower.js';
import { DeviceError, ValueError } from '../../../runtime/errors.js';
import { wasmFeatures } from '../../../runtime/wasm/features.js';
import { wasmHeap } from '../../../runtime/wasm/memory.js';

const vec = (n: number): Layout => ({ dtype: 'float32', shape: [n], strides: [1], offset: 0 });

describe.skipIf(!wasmFeatures().simd)('Wasm backend', () => {
  it('reads into fresh typed arrays that do not alias the memory', () => {
    const b = wasm.alloc('float32', 4);
    wasm.write(b, 'float32', Float32Array.of(1, 2, 3, 4));
    const got = wasm.readSync(b, 'float32', 0, 4);
    expect(got.buffer).not.toBe(wasmHeap().memory.buffer);
    got[0] = 99;
    expect(Array.from(wasm.readSync(b, 'float32', 0, 2))).toEqual([1, 2]);
    wasm.free(b);
  });

  it('keeps buffers and kernels right across growth of the memory', () => {
    const n = 1000;
    const add = lowerElementwise('add', [vec(n), vec(n)], vec(n));
    const kernel = wasm.compile(add.key, add.build);
    const a = wasm.alloc('float32', n), out = wasm.alloc('float32', n);
    wasm.write(a, 'float32', Float32Array.from({ length: n }, (_, i) => i));
    const before = wasmHeap().stats().memoryBytes;
    // Larger than everything allocated so far: the memory must grow.
    const big = wasm.alloc('float32', before / 2);
    expect(wasmHeap().stats().memoryBytes).toBeGreaterThan(before);
    wasm.run([{ kernel, args: [{ data: out, offset: 0 }, { data: a, offset: 0 }, { data: a, offset: 0 }], scalars: [] }]);
    expect(wasm.readSync(out, 'float32', n - 2, 2)).toEqual(Float32Array.of(2 * (n - 2), 2 * (n - 1)));
    for (const b of [a, out, big]) wasm.free(b);
  });

  it('refuses a buffer beyond the 4 GiB memory, naming its size, and leaves the memory as it was', () => {
    const stats = wasmHeap().stats();
    expect(() => wasm.alloc('float64', 2 ** 30)).toThrow(DeviceError);
    expect(() => wasm.alloc('float64', 2 ** 30)).toThrow(/8589934592 bytes/);
    expect(() => wasm.alloc('float32', -1)).toThrow(ValueError);
    expect(wasmHeap().stats()).toEqual(stats);
  });

  it('checks element ranges of writes and reads', () => {
    const b = wasm.alloc('int32', 3);
    expect(() => wasm.write(b, 'int32', Int32Array.of(1, 2), 2)).toThrow(ValueError);
    expect(() => wasm.readSync(b, 'int32', 1, 3)).toThrow(ValueError);
    wasm.free(b);
  });

  it('reads one element in place as stored, restoring a spilled buffer, and checks its index', () => {
    const f16 = wasm.alloc('float16', 2), b = wasm.alloc('bool', 3), w = wasm.alloc('int32', 2);
    wasm.write(f16, 'float16', Uint16Array.of(0x3c00, 0x7e01));
    wasm.write(b, 'bool', Uint8Array.of(0, 1, 0));
    wasm.write(w, 'int32', Int32Array.of(-7, 2 ** 31 - 1));
    expect([wasm.readElement(f16, 'float16', 1), wasm.readElement(b, 'bool', 1)]).toEqual([0x7e01, 1]);
    const threshold = wasm.spillStats().threshold;
    wasm.setSpillThreshold(1);
    const spare = wasm.alloc('float32', 64);
    expect(w.ptr).toBeLessThan(0);
    expect([wasm.readElement(w, 'int32', 0), wasm.readElement(w, 'int32', 1)]).toEqual([-7, 2 ** 31 - 1]);
    wasm.setSpillThreshold(threshold);
    expect(() => wasm.readElement(w, 'int32', 2)).toThrow(ValueError);
    expect(() => wasm.readElement(w, 'int32', -1)).toThrow(ValueError);
    for (const x of [f16, b, w, spare]) wasm.free(x);
  });

  it('zero-fills and reuses freed blocks, so live bytes stay flat', () => {
    const live = wasm.liveBytes();
    for (let i = 0; i < 50; i++) {
      const b = wasm.alloc('float32', 300);
      expect(wasm.readSync(b, 'float32', 299, 1)[0]).toBe(0);
      wasm.write(b, 'float32', new Float32Array(300).fill(i + 1));
      wasm.free(b);
    }
    expect(wasm.liveBytes()).toBe(live);
  });
});
