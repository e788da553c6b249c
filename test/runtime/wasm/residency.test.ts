/**
 * Spilling Wasm buffers to the JavaScript heap: a spilled buffer comes back bit for bit
 * wherever its address is read (reads, writes, copies, launches), the buffers used least
 * recently go first, pinned ones never, and the threshold grows when the buffers in use
 * need more than it leaves them.
 */
import { describe, expect, it } from 'vitest';
import { wasm } from '../../../compiler/backends.js';
import { lowerElementwise, type Layout } from '../../../compiler/lower.js';
import { InternalError } from '../../../runtime/errors.js';
import { wasmFeatures } from '../../../runtime/wasm/features.js';
import { WasmHeap, wasmHeap } from '../../../runtime/wasm/memory.js';
import { FREED, Residency, SPILLED, type WasmBuffer } from '../../../runtime/wasm/residency.js';

const KiB = 1024;

/** A residency over its own heap, with `threshold` bytes. */
function isolated(threshold: number): { heap: WasmHeap; res: Residency } {
  const heap = new WasmHeap(false);
  const res = new Residency(() => heap);
  res.setThreshold(threshold);
  return { heap, res };
}

/** A buffer of `bytes` bytes (int32 words) filled with `fill(i)`. */
function filled(heap: WasmHeap, res: Residency, bytes: number, fill: (i: number) => number): WasmBuffer {
  const b = res.alloc('int32', bytes / 4, bytes);
  const words = heap.elements('int32') as Int32Array, at = res.address(b) / 4;
  for (let i = 0; i < bytes / 4; i++) words[at + i] = fill(i);
  return b;
}

/**
 * Fills up to 64 free blocks of each size in `sizes` with junk and frees them again, so a
 * buffer restored into one cannot pass for right by finding its old bytes there.
 */
function dirtyFreeBlocks(heap: WasmHeap, sizes: readonly number[]): void {
  for (const bytes of sizes) {
    const blocks = Array.from({ length: 64 }, () => heap.alloc(bytes));
    const words = heap.elements('int32') as Int32Array;
    for (const ptr of blocks) words.fill(0x55555555, ptr / 4, (ptr + bytes) / 4);
    for (const ptr of blocks) heap.free(ptr);
  }
}

function wordsOf(heap: WasmHeap, res: Residency, b: WasmBuffer): number[] {
  const at = res.address(b) / 4;
  return Array.from((heap.elements('int32') as Int32Array).subarray(at, at + b.bytes / 4));
}

describe.skipIf(!wasmFeatures().simd)('Wasm buffer residency', () => {
  it('spills the least recently used buffers past the threshold and restores them bit for bit', () => {
    const { heap, res } = isolated(256 * KiB);
    // Bit patterns a float path could change: NaNs with payloads, -0, denormals, every byte value.
    const pattern = (seed: number) => (i: number) => [0x7fc00001, 0xffbfffff, 0x80000000, 1, seed][i % 5]! ^ (i << 8);
    const old = [0, 1, 2].map((k) => filled(heap, res, 32 * KiB, pattern(k)));
    const small = filled(heap, res, 12, pattern(7));
    const expected = [...old, small].map((b) => wordsOf(heap, res, b));
    const fillers: WasmBuffer[] = [];
    while (res.stats().passes === 0) fillers.push(res.alloc('float32', 8 * KiB, 32 * KiB));
    expect(old[0]!.ptr).toBe(SPILLED);
    expect(old[0]!.home).toBeInstanceOf(Int32Array);
    expect(heap.bytesInUse()).toBeLessThanOrEqual(128 * KiB + 32 * KiB);
    expect(res.stats()).toMatchObject({ passes: 1, restored: 0, threshold: 256 * KiB });
    dirtyFreeBlocks(heap, [64, 32 * KiB]);
    [...old, small].forEach((b, i) => expect(wordsOf(heap, res, b), `buffer ${i}`).toEqual(expected[i]));
    expect(old[0]!.ptr).toBeGreaterThanOrEqual(0);
    expect(old[0]!.home).toBeUndefined();
    expect(res.stats().restored).toBeGreaterThan(0);
    const live = res.liveBytes;
    for (const b of [...old, small, ...fillers]) res.free(b);
    expect(live).toBe(3 * 32 * KiB + 12 + fillers.length * 32 * KiB);
    expect(res.liveBytes).toBe(0);
    expect(heap.bytesInUse()).toBe(0);
  });

  it('keeps the recently used buffers and spills the dropped ones', () => {
    const { heap, res } = isolated(512 * KiB);
    const kept = [0, 1, 2, 3].map((k) => filled(heap, res, 16 * KiB, (i) => k * 1000 + i));
    for (let step = 0; step < 200; step++) {
      // A step: the kept buffers are used, a new 16 KiB buffer is made and dropped.
      for (const b of kept) res.address(b);
      filled(heap, res, 16 * KiB, (i) => step + i);
    }
    expect(res.stats().passes).toBeGreaterThan(5);
    expect(res.stats().restored).toBe(0);
    for (const b of kept) expect(b.ptr).toBeGreaterThanOrEqual(0);
    expect(heap.bytesInUse()).toBeLessThanOrEqual(512 * KiB);
    expect(heap.stats().memoryBytes).toBeLessThanOrEqual(4 * 2 ** 20);
    kept.forEach((b, k) => expect(wordsOf(heap, res, b)[5]).toBe(k * 1000 + 5));
  });

  it('grows the threshold when the buffers in use need more than it leaves them', () => {
    const { heap, res } = isolated(128 * KiB);
    const working = Array.from({ length: 16 }, (_, k) => filled(heap, res, 16 * KiB, (i) => k + i));
    for (let step = 0; step < 100; step++) {
      for (const b of working) res.address(b);
      filled(heap, res, 16 * KiB, (i) => i);
    }
    const grown = res.stats();
    expect(grown.threshold).toBeGreaterThanOrEqual(2 * 16 * 16 * KiB);
    // Grown, it spills only the dropped buffers: the working set stays.
    for (let step = 0; step < 100; step++) {
      for (const b of working) res.address(b);
      filled(heap, res, 16 * KiB, (i) => i);
    }
    expect(res.stats().restored).toBe(grown.restored);
    working.forEach((b, k) => expect(wordsOf(heap, res, b)[3]).toBe(k + 3));
  });

  it('spills many small dropped buffers whatever their bytes, keeping their count bounded', () => {
    const { heap, res } = isolated(2 ** 30);
    const kept = filled(heap, res, 64, (i) => i + 1);
    for (let i = 0; i < 50_000; i++) {
      res.address(kept);
      filled(heap, res, 64, () => i);
    }
    expect(res.stats().spilled).toBeGreaterThan(40_000);
    expect(heap.bytesInUse()).toBeLessThanOrEqual(4096 * 64);
    expect(kept.ptr).toBeGreaterThanOrEqual(0);
    expect(wordsOf(heap, res, kept)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
  });

  it('spills small buffers into shared arrays and restores each bit for bit, in any order', () => {
    const { heap, res } = isolated(2 ** 30);
    // 4 to 64 bytes: one to sixteen words each, past one shared array's 1,024 words.
    const pattern = (k: number) => (i: number) => [0x7fc00001 + k, 0xffbfffff, 0x80000000, 1, k][i % 5]! ^ (i << 8);
    const small = Array.from({ length: 300 }, (_, k) => filled(heap, res, 4 * (1 + (k % 16)), pattern(k)));
    const large = filled(heap, res, 68, pattern(1000));
    const expected = [...small, large].map((b) => wordsOf(heap, res, b));
    let fillers = 0;
    while (small.some((b) => b.ptr !== SPILLED) || large.ptr !== SPILLED) {
      res.alloc('int32', 16, 64);
      fillers++;
    }
    expect(fillers).toBeLessThan(10_000);
    const homes = new Set(small.map((b) => b.home));
    expect(homes.size).toBeGreaterThan(1);
    expect(homes.size).toBeLessThan(small.length / 50);
    expect(large.home).toHaveLength(17);
    expect(homes.has(large.home)).toBe(false);
    dirtyFreeBlocks(heap, [64, 128]);
    const keys = [...small.keys()];
    const order = [...keys.reverse().filter((k) => k % 3 !== 1), ...keys.filter((k) => k % 3 === 1)];
    for (const k of order) expect(wordsOf(heap, res, small[k]!), `buffer ${k}`).toEqual(expected[k]);
    expect(wordsOf(heap, res, large)).toEqual(expected[small.length]);
    expect(small.every((b) => b.home === undefined && b.homeAt === 0)).toBe(true);
  });

  it('changes its epoch at every alloc, free, restore and spill pass, and only then', () => {
    const { heap, res } = isolated(64 * KiB);
    const a = filled(heap, res, 16 * KiB, () => 1);
    const at = res.address(a);
    let epoch = res.epoch;
    const step = (what: string) => {
      expect(res.epoch, what).toBeGreaterThan(epoch);
      epoch = res.epoch;
    };
    expect(res.address(a)).toBe(at);
    expect(res.epoch).toBe(epoch);
    const b = res.alloc('int32', 16, 64);
    step('alloc');
    res.free(b);
    step('free');
    let allocs = 0;
    while (res.stats().passes === 0) {
      res.alloc('int32', 4 * KiB, 16 * KiB);
      allocs++;
    }
    expect(a.ptr).toBe(SPILLED);
    expect(res.epoch, 'allocs and one spill pass').toBe(epoch + allocs + 1);
    epoch = res.epoch;
    res.address(a);
    step('restore');
    res.address(a);
    expect(res.epoch).toBe(epoch);
  });

  it('never spills a pinned buffer', () => {
    const { heap, res } = isolated(64 * KiB);
    const pinned = filled(heap, res, 16 * KiB, (i) => -i);
    res.pin(pinned);
    for (let i = 0; i < 50; i++) filled(heap, res, 16 * KiB, () => i);
    expect(res.stats().spilled).toBeGreaterThan(20);
    expect(pinned.ptr).toBeGreaterThanOrEqual(0);
    expect(wordsOf(heap, res, pinned)[100]).toBe(-100);
    res.free(pinned);
  });

  it('refuses a buffer freed twice or used after free, spilled or not', () => {
    const { heap, res } = isolated(64 * KiB);
    const a = filled(heap, res, 64, () => 1);
    res.free(a);
    expect(a.ptr).toBe(FREED);
    expect(() => res.free(a)).toThrow(InternalError);
    expect(() => res.address(a)).toThrow(/used after it was freed/);
    const b = filled(heap, res, 32 * KiB, () => 2);
    while (b.ptr !== SPILLED) filled(heap, res, 32 * KiB, () => 3);
    res.free(b);
    expect(b.home).toBeUndefined();
    expect(() => res.free(b)).toThrow(InternalError);
  });
});

const vec = (n: number): Layout => ({ dtype: 'float32', shape: [n], strides: [1], offset: 0 });

describe.skipIf(!wasmFeatures().simd)('the Wasm backend over spilled buffers', () => {
  /** Spills the backend's buffers made so far, by allocating past a small threshold. */
  function spillAll(): void {
    const before = wasm.spillStats();
    wasm.setSpillThreshold(64 * KiB);
    const fillers = [];
    while (wasm.spillStats().passes < before.passes + 2) fillers.push(wasm.alloc('float32', 4 * KiB));
    wasm.setSpillThreshold(before.threshold);
    for (const f of fillers) wasm.free(f);
  }

  it('reads, writes, copies and launches over spilled buffers as over resident ones', () => {
    const n = 1000;
    const add = lowerElementwise('add', [vec(n), vec(n)], vec(n));
    const kernel = wasm.compile(add.key, add.build);
    const a = wasm.alloc('float32', n), b = wasm.alloc('float32', n), out = wasm.alloc('float32', n);
    const bits = Int32Array.from({ length: n }, (_, i) => (i % 7 === 0 ? 0x7fc0_0000 + i : 0x3f80_0000 + i * 4099));
    wasm.write(a, 'int32', bits);
    wasm.write(b, 'float32', Float32Array.from({ length: n }, (_, i) => i / 8));
    spillAll();
    expect([a.ptr, b.ptr, out.ptr]).toEqual([SPILLED, SPILLED, SPILLED]);
    dirtyFreeBlocks(wasmHeap(), [4096]);
    expect(wasm.readSync(a, 'int32', 0, n)).toEqual(bits);
    // A single element (item()), and a write into part of a spilled buffer.
    spillAll();
    dirtyFreeBlocks(wasmHeap(), [4096]);
    expect(wasm.readSync(a, 'int32', 14, 1)[0]).toBe(0x7fc0_000e);
    spillAll();
    wasm.write(b, 'float32', Float32Array.of(-1, -2), 10);
    // A launch whose inputs and output are spilled.
    spillAll();
    const args = [{ data: out, offset: 0 }, { data: a, offset: 0 }, { data: b, offset: 0 }];
    wasm.run([{ kernel, args, scalars: [] }]);
    const got = wasm.readSync(out, 'float32', 0, n);
    const fa = new Float32Array(bits.buffer);
    for (const i of [1, 9, 10, 11, 500, 999]) {
      const bi = i === 10 ? -1 : i === 11 ? -2 : i / 8;
      expect(got[i], `element ${i}`).toBe(Math.fround(fa[i]! + bi));
    }
    // A copy between two spilled buffers.
    spillAll();
    wasm.copy(a, 100, out, 0, 50);
    expect(wasm.readSync(out, 'int32', 0, 50)).toEqual(bits.subarray(100, 150));
    for (const x of [a, b, out]) wasm.free(x);
  });
});
