/** The Wasm heap: size classes, reuse of freed blocks, growth that keeps views current, flat live bytes. */
import { describe, expect, it } from 'vitest';
import { WasmHeap, classBytes, classIndex, sizeClass } from '../../../runtime/wasm/memory.js';
import { InternalError } from '../../../runtime/errors.js';

describe('size classes', () => {
  it('are powers of two up to 4 KiB, then quarters of the next power, never smaller than asked', () => {
    expect([0, 1, 64, 65, 100, 4096].map(sizeClass)).toEqual([64, 64, 64, 128, 128, 4096]);
    expect(sizeClass(4097)).toBe(5120);
    expect(sizeClass(1_000_000)).toBe(1_048_576);
    expect(sizeClass(600_000)).toBe(655_360);
    for (let bytes = 1; bytes < 3e7; bytes = Math.ceil(bytes * 1.37)) {
      const c = sizeClass(bytes);
      expect(c).toBeGreaterThanOrEqual(bytes);
      expect(c % 64).toBe(0);
      if (bytes > 4096) expect(c / bytes).toBeLessThan(1.25);
    }
  });

  it('are numbered densely, in order, each the smallest holding its sizes', () => {
    let last = -1;
    for (let bytes = 1; bytes <= 2 ** 32; bytes = bytes < 9000 ? bytes + 1 : Math.ceil(bytes * 1.01)) {
      const index = classIndex(bytes);
      expect(index === last || index === last + 1, `${bytes} bytes: class ${index} after ${last}`).toBe(true);
      expect(classBytes(index)).toBeGreaterThanOrEqual(bytes);
      if (index > 0) expect(classBytes(index - 1)).toBeLessThan(bytes);
      last = index;
    }
    expect(classBytes(classIndex(2 ** 32))).toBe(2 ** 32);
  });
});

describe('WasmHeap', () => {
  it('says whether a block was handed out before, so only reused blocks need zeroing', () => {
    const heap = new WasmHeap(false);
    const a = heap.alloc(100);
    expect(heap.reused).toBe(false);
    heap.free(a);
    expect(heap.alloc(120)).toBe(a);
    expect(heap.reused).toBe(true);
    heap.alloc(100);
    expect(heap.reused).toBe(false);
  });

  it('hands out blocks of up to 64 bytes from one class, reused last freed first', () => {
    const heap = new WasmHeap(false);
    const blocks = [0, 1, 64].map((bytes) => heap.alloc(bytes));
    expect(heap.stats().liveBytes).toBe(3 * 64);
    expect(new Set(blocks.map((b, i) => b - (blocks[0]! + 64 * i)))).toEqual(new Set([0]));
    heap.free(blocks[1]!);
    heap.free(blocks[0]!);
    expect([heap.alloc(64), heap.alloc(0)]).toEqual([blocks[0], blocks[1]]);
    expect(heap.alloc(65) - blocks[2]!).toBe(64);
    expect(heap.stats().liveBytes).toBe(3 * 64 + 128);
  });

  for (const shared of [false, true]) {
    it(`reuses freed blocks of a class and keeps live bytes flat (${shared ? 'shared' : 'unshared'} memory)`, () => {
      const heap = new WasmHeap(shared);
      const a = heap.alloc(1000), b = heap.alloc(1000);
      expect(a % 64).toBe(0);
      expect(b).not.toBe(a);
      heap.free(a);
      expect(heap.alloc(900)).toBe(a);
      heap.free(a);
      heap.free(b);
      expect(heap.stats().liveBytes).toBe(0);
      const size = heap.stats().memoryBytes;
      for (let i = 0; i < 1000; i++) heap.free(heap.alloc(1 + (i % 7) * 5000));
      expect(heap.stats()).toEqual({ liveBytes: 0, memoryBytes: size });
      expect(() => heap.free(a)).toThrow(InternalError);
    });

    it(`grows for a large block and hands out a view of the grown memory (${shared ? 'shared' : 'unshared'})`, () => {
      const heap = new WasmHeap(shared);
      const before = heap.f32().length;
      const p = heap.alloc(4 * 8_000_000);
      const view = heap.f32();
      expect(view.length).toBeGreaterThanOrEqual(p / 4 + 8_000_000);
      expect(view.length).toBeGreaterThan(before);
      view[p / 4 + 7_999_999] = 3;
      expect(heap.f32()[p / 4 + 7_999_999]).toBe(3);
      expect(view.buffer instanceof SharedArrayBuffer).toBe(shared);
    });
  }
});
