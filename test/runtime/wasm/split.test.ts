/**
 * Map, reduction and row kernels split over the worker pool by independent output ranges:
 * one thread and two give the same bits (tails, broadcasts, rows over the leading dims,
 * reductions over a leading axis), the split happens (jobs are counted), jit replays the
 * split kernels with eager's bits, and small kernels stay on the calling thread.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuEngine } from '../../../runtime/wasm/engine.js';
import { gemmTiles, MIN_SPLIT_WORK, ROW_CLAIM, splitCounts } from '../../../runtime/wasm/split.js';
import { WasmHeap } from '../../../runtime/wasm/memory.js';
import { wasmApi } from '../../../runtime/wasm/api.js';
import { getNumThreads, setNumThreads, threadsReady } from '../../../runtime/wasm/threads.js';
import * as k from '../../../src/index.js';

const onWasm = cpuEngine() === 'wasm';

/** Runs `fn` (on the Wasm engine, the default) with `threads` threads; returns its result's bits and the jobs it split into. */
function runOn(threads: number, fn: () => k.Tensor): { bits: number[]; jobs: number } {
  setNumThreads(threads);
  const before = splitCounts.jobs;
  const out = fn();
  const data = out.data();
  const bits = Array.from(new Uint32Array(data.buffer, data.byteOffset, data.length));
  return { bits, jobs: splitCounts.jobs - before };
}

const ROWS = 611, COLS = 517;

describe.skipIf(!onWasm)('Wasm kernels split over threads', () => {
  const initial = getNumThreads();
  let x: k.Tensor, y: k.Tensor, w: k.Tensor, b: k.Tensor, flat: k.Tensor, labels: k.Tensor;

  beforeAll(async () => {
    setNumThreads(2);
    expect(await threadsReady()).toBe(2);
    k.manualSeed(12);
    x = k.randn([ROWS, COLS]).mul(3);
    y = k.randn([ROWS, COLS]);
    w = k.randn([COLS]);
    b = k.randn([COLS]);
    flat = k.randn([270_001]).mul(4);
    labels = k.randint(0, COLS, [ROWS]);
  });

  afterAll(() => setNumThreads(initial));

  const cases: [string, () => k.Tensor][] = [
    ['an exp map with a tail', () => flat.exp()],
    ['the gelu chain, erf form', () => k.gelu(flat.mul(0.7).add(0.1))],
    ['the gelu chain, tanh form', () => k.gelu(flat.mul(0.7).add(0.1), 'tanh')],
    ['a broadcast map', () => x.mul(w).add(b).sigmoid()],
    ['sums over rows', () => x.mul(y).sum(1)],
    ['sums over a leading axis', () => x.sum(0)],
    ['max over a leading axis', () => x.mul(y).max(0)],
    ['max over rows', () => x.max(1)],
    ['argmax over rows', () => k.argmax(x.mul(y), 1)],
    ['a float32 to int32 cast', () => k.cast(flat.mul(1e9), 'int32')],
    ['softmax', () => k.softmax(x, 1)],
    ['layerNorm', () => k.nn.layerNorm(x, [COLS], w, b)],
    ['logsumexp', () => k.logsumexp(x, 1)],
    ['crossEntropy', () => k.nn.crossEntropy(x, labels, { reduction: 'none' })],
  ];

  it.each(cases)('%s: 1 and 2 threads give identical bits, and 2 threads split it', (_, fn) => {
    const one = runOn(1, fn);
    const two = runOn(2, fn);
    expect(one.jobs).toBe(0);
    expect(two.jobs).toBeGreaterThanOrEqual(2);
    expect(two.bits).toEqual(one.bits);
  });

  it('jit replays the split kernels with the bits of eager on one thread', () => {
    const step = k.jit((p: k.Tensor, q: k.Tensor) => k.softmax(k.gelu(p.mul(q)), 1));
    const eager = runOn(1, () => k.softmax(k.gelu(x.mul(y)), 1));
    for (let call = 0; call < 3; call++) {
      const replay = runOn(2, () => step(x, y));
      expect(replay.jobs).toBeGreaterThanOrEqual(2);
      expect(replay.bits).toEqual(eager.bits);
    }
    expect(step.stats.replays).toBeGreaterThan(0);
  });

  it('runs gathers and scatter-adds whole on the calling thread, with the same bits at 1 and 2 threads', () => {
    const index = labels.reshape([ROWS, 1]);
    const gather = () => k.gather(x, 1, index);
    expect(runOn(2, gather).jobs).toBe(0);
    expect(runOn(2, gather).bits).toEqual(runOn(1, gather).bits);
    // The scatter's base is copied first (a map, which splits); the scatter itself runs whole.
    const scatter = () => k.scatterAdd(x, 1, index, y.slice(1, 0, 1));
    expect(runOn(2, scatter).bits).toEqual(runOn(1, scatter).bits);
  });

  it('keeps kernels under the split threshold on the calling thread', () => {
    const small = x.slice(0, 0, 8);
    expect(small.shape[0]! * COLS * 2).toBeLessThan(MIN_SPLIT_WORK);
    expect(runOn(2, () => k.softmax(small, 1)).jobs).toBe(0);
    expect(runOn(2, () => small.exp()).jobs).toBe(0);
  });
});

describe.runIf(wasmApi !== undefined)('gemm tiles', () => {
  it('count in a line the heap never hands out', () => {
    const heap = new WasmHeap(false);
    const blocks = [1, 64, 4096, 100_000].map((bytes) => heap.alloc(bytes));
    expect(Math.min(...blocks)).toBeGreaterThanOrEqual(ROW_CLAIM + 64);
  });

  it('hold whole micro-kernel blocks, all of a product on one thread, a few tiles a thread on more', () => {
    expect(gemmTiles(1024, 64, 2, 1)).toEqual({ rows: 1024, panels: 64 });
    // Rows enough for tall tiles: ranges of rows only.
    expect(gemmTiles(1024, 64, 2, 2)).toEqual({ rows: 128, panels: 64 });
    // Few rows: ranges of 64 rows by ranges of panels, 8 tiles in all.
    expect(gemmTiles(128, 16, 2, 2)).toEqual({ rows: 64, panels: 4 });
    expect(gemmTiles(256, 49, 2, 2)).toEqual({ rows: 64, panels: 25 });
    expect(gemmTiles(7, 4, 4, 2)).toEqual({ rows: 8, panels: 1 });
    expect(gemmTiles(1, 1, 2, 3)).toEqual({ rows: 2, panels: 1 });
    // A batch: whole products where they are many, the 8 tiles shared among them where few.
    expect(gemmTiles(16, 8, 2, 2, 64)).toEqual({ rows: 16, panels: 8 });
    expect(gemmTiles(128, 16, 2, 2, 2)).toEqual({ rows: 64, panels: 8 });
  });
});
