/**
 * Bound launches, copies and element reads of the Wasm backend keep the buffers' addresses
 * from one call to the next and read them again only when the residency's epoch changed: a
 * buffer spilled, restored elsewhere or freed between two calls is still found where it is.
 */
import { describe, expect, it } from 'vitest';
import { wasm } from '../../../compiler/backends.js';
import { lowerElementwise, type Layout } from '../../../compiler/lower.js';
import { wasmFeatures } from '../../../runtime/wasm/features.js';
import { wasmHeap } from '../../../runtime/wasm/memory.js';
import { SPILLED, type WasmBuffer } from '../../../runtime/wasm/residency.js';

const KiB = 1024;
const vec = (n: number): Layout => ({ dtype: 'float32', shape: [n], strides: [1], offset: 0 });

/** Spills the backend's buffers made so far (allocating past a small threshold), then fills free blocks with junk. */
function spillAll(): void {
  const before = wasm.spillStats();
  wasm.setSpillThreshold(64 * KiB);
  const fillers = [];
  while (wasm.spillStats().passes < before.passes + 2) fillers.push(wasm.alloc('float32', 16));
  wasm.setSpillThreshold(before.threshold);
  for (const f of fillers) wasm.free(f);
  const heap = wasmHeap();
  const junk = Array.from({ length: 256 }, () => heap.alloc(64));
  const words = heap.elements('int32') as Int32Array;
  for (const ptr of junk) words.fill(0x55555555, ptr / 4, ptr / 4 + 16);
  for (const ptr of junk) heap.free(ptr);
}

describe.skipIf(!wasmFeatures().simd)('bound Wasm launches, copies and reads', () => {
  it('follow their buffers through spills, restores and other buffers freed between calls', () => {
    const n = 7;
    const add = lowerElementwise('add', [vec(n), vec(n)], vec(n));
    const kernel = wasm.compile(add.key, add.build);
    const buffers = [0, 1, 2, 3].map(() => wasm.alloc('float32', n));
    const [a, b, out, copy] = buffers as [WasmBuffer, WasmBuffer, WasmBuffer, WasmBuffer];
    wasm.write(a, 'float32', Float32Array.from({ length: n }, (_, i) => i + 0.1));
    wasm.write(b, 'float32', Float32Array.from({ length: n }, (_, i) => 1000 * i));
    const args = [out, a, b].map((data) => ({ data, offset: 0 }));
    const launch = wasm.bind([{ kernel, args, scalars: [] }]);
    const copyStep = wasm.bindCopy(out, 2, copy, 0, 3);
    const read = wasm.bindRead(copy, 'float32', 1);
    const expected = (i: number) => Math.fround(Math.fround(i + 0.1) + 1000 * i);
    const check = (round: number) => {
      launch();
      copyStep();
      expect(read(), `round ${round}`).toBe(expected(3));
      expect(Array.from(wasm.readSync(out, 'float32', 0, n)), `round ${round}`)
        .toEqual(Array.from({ length: n }, (_, i) => expected(i)));
    };
    check(0);
    for (let round = 1; round <= 3; round++) {
      wasm.write(a, 'float32', Float32Array.of(-5), 0);
      spillAll();
      expect([a.ptr, b.ptr, out.ptr, copy.ptr]).toEqual([SPILLED, SPILLED, SPILLED, SPILLED]);
      wasm.write(a, 'float32', Float32Array.of(0.1), 0);
      // Another buffer freed between calls ends the epoch too; nothing bound moved, so the same bits come out.
      wasm.free(wasm.alloc('float32', n));
      check(round);
    }
    for (const x of buffers) wasm.free(x);
  });
});
