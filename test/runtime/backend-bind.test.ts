/**
 * Prepared launches, copies and reads (Backend.bind, bindCopy, bindRead), run against every
 * backend in test/backends.ts: a bound call sees the buffers as they are when it is made,
 * never an argument vector or view taken when it was bound, and it runs again and again.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cpu, wasm } from '../../compiler/backends.js';
import { lowerElementwise, lowerFill, type Layout } from '../../compiler/lower.js';
import type { DType } from '../../runtime/dtype.js';
import { cpuEngine } from '../../runtime/wasm/engine.js';
import { wasmFeatures } from '../../runtime/wasm/features.js';
import { wasmHeap } from '../../runtime/wasm/memory.js';
import { acquireBackends } from '../backends.js';

const acquired = await acquireBackends('prepared launches');
// Both CPU engines' backends run here whichever one CPU tensors use.
const otherEngine = cpuEngine() === 'wasm'
  ? [{ name: 'cpu (js)', backend: cpu }]
  : wasmFeatures().simd ? [{ name: 'cpu (wasm)', backend: wasm }] : [];
const backends = [...acquired, ...otherEngine];
afterAll(async () => {
  for (const b of acquired) await b.release();
});

const vec = (dtype: DType, n: number, offset = 0): Layout => ({ dtype, shape: [n], strides: [1], offset });

describe.each(backends)('$name backend', ({ backend }) => {
  it('a bound launch reads what was written into its buffers between calls, at its offsets', async () => {
    const a = backend.alloc('float32', 5), b = backend.alloc('float32', 5), out = backend.alloc('float32', 5);
    backend.write(out, 'float32', new Float32Array(5));
    const add = lowerElementwise('add', [vec('float32', 3, 2), vec('float32', 3, 1)], vec('float32', 3, 1));
    const args = [{ data: out, offset: 1 }, { data: a, offset: 2 }, { data: b, offset: 1 }];
    const call = backend.bind([{ kernel: backend.compile(add.key, add.build), args, scalars: [] }]);
    backend.write(a, 'float32', Float32Array.of(0, 0, 1, 2, 3));
    backend.write(b, 'float32', Float32Array.of(0, 10, 20, 30, 0));
    call();
    expect(Array.from(await backend.read(out, 'float32', 0, 5))).toEqual([0, 11, 22, 33, 0]);
    backend.write(a, 'float32', Float32Array.of(5, 6), 3);
    call();
    expect(Array.from(await backend.read(out, 'float32', 0, 5))).toEqual([0, 11, 25, 36, 0]);
    for (const x of [a, b, out]) backend.free(x);
  });

  it('a bound launch keeps its scalars, and a batch of launches runs in order', async () => {
    const x = backend.alloc('float32', 4), y = backend.alloc('float32', 4);
    const fill = lowerFill(vec('float32', 4));
    const neg = lowerElementwise('neg', [vec('float32', 4)], vec('float32', 4));
    const [xArg, yArg] = [{ data: x, offset: 0 }, { data: y, offset: 0 }];
    const call = backend.bind([
      { kernel: backend.compile(fill.key, fill.build), args: [xArg], scalars: [2.5] },
      { kernel: backend.compile(neg.key, neg.build), args: [yArg, xArg], scalars: [] },
    ]);
    for (let i = 0; i < 3; i++) {
      backend.write(y, 'float32', new Float32Array(4));
      call();
      expect(Array.from(await backend.read(y, 'float32', 0, 4))).toEqual([-2.5, -2.5, -2.5, -2.5]);
    }
    for (const b of [x, y]) backend.free(b);
  });

  it('a bound copy and a bound read see the elements as they are at each call', async () => {
    const src = backend.alloc('int32', 4), dst = backend.alloc('int32', 4);
    backend.write(dst, 'int32', new Int32Array(4));
    const one = backend.bindCopy(src, 3, dst, 0, 1);
    const two = backend.bindCopy(src, 0, dst, 2, 2);
    const read = backend.bindRead?.(dst, 'int32', 0);
    for (const base of [10, 20]) {
      backend.write(src, 'int32', Int32Array.of(base, base + 1, base + 2, base + 3));
      one();
      two();
      expect(Array.from(await backend.read(dst, 'int32', 0, 4))).toEqual([base + 3, 0, base, base + 1]);
      if (read !== undefined) expect(read()).toBe(base + 3);
    }
    for (const b of [src, dst]) backend.free(b);
  });
});

describe.skipIf(!wasmFeatures().simd)('Wasm backend', () => {
  it('bound launches, copies and reads stay right after the memory grew (its buffer is then new)', () => {
    const n = 1000;
    const a = wasm.alloc('float32', n), out = wasm.alloc('float32', n), copy = wasm.alloc('float32', n);
    wasm.write(a, 'float32', Float32Array.from({ length: n }, (_, i) => i));
    const add = lowerElementwise('add', [vec('float32', n), vec('float32', n)], vec('float32', n));
    const args = [{ data: out, offset: 0 }, { data: a, offset: 0 }, { data: a, offset: 0 }];
    const call = wasm.bind([{ kernel: wasm.compile(add.key, add.build), args, scalars: [] }]);
    const copyLast = wasm.bindCopy(out, n - 1, copy, 0, 1);
    const read = wasm.bindRead(copy, 'float32', 0);
    call();
    copyLast();
    expect(read()).toBe(2 * (n - 1));
    const before = wasmHeap().stats().memoryBytes;
    // Larger than everything allocated so far: the memory must grow.
    const big = wasm.alloc('float32', before / 2);
    expect(wasmHeap().stats().memoryBytes).toBeGreaterThan(before);
    wasm.write(a, 'float32', Float32Array.of(1000), n - 1);
    call();
    copyLast();
    expect(read()).toBe(2000);
    expect(Array.from(wasm.readSync(copy, 'float32', 0, 1))).toEqual([2000]);
    for (const b of [a, out, copy, big]) wasm.free(b);
  });
});
