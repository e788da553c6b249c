/**
 * The matmuls of one MLP 784-256-256-10 training step (batch 128), each alone, eager, on one
 * thread and on two, in the layouts the step gives them (the weight transposed in the
 * forward, the activations' gradient transposed in the weight gradients), beside matmul 1024
 * on one thread; the gemm alone (operands in Wasm memory, B packed once) on two threads with
 * the tiles kiln takes (rows by panels where rows are few) against ranges of rows only; small
 * gemms whole and split (where a split starts to pay); packing B into panels per call; and
 * what waking the worker pool costs (a gemm over no products, split in two, against the same
 * call on the calling thread alone):
 *
 *   npx tsc -p tsconfig.bench.json && node dist/bench/gemm-step.js    (ROUNDS=n)
 *
 * Rates are GFLOP/s of the fastest round's median (a shared machine slows rounds, never
 * speeds them up); "of 1024" is a rate over matmul 1024's one-thread rate.
 */
import { loadavg } from 'node:os';
import * as k from '../src/index.js';
import { gemmKernel, KC, MC, MR, NR, packB, packHeapB } from '../compiler/wasm-matmul.js';
import { packTransposedB } from '../compiler/wasm-heap-matmul.js';
import { wasmHeap } from '../runtime/wasm/memory.js';
import { gemmTiles, ROW_CLAIM } from '../runtime/wasm/split.js';
import { runJobs } from '../runtime/wasm/threads.js';
import { fmtNumber, formatTable, interleavedRounds, resultsPath, saveJson } from './harness.js';

const ROUNDS = Number(process.env.ROUNDS ?? 7);
const BATCH = 128;

interface Case {
  name: string;
  flops: number;
  run: () => void;
}

/** A matmul of the step: A (m × k) or its transpose's view, times B (k × n) or a transpose's view. */
function gemmCase(name: string, m: number, kk: number, n: number, ta: boolean, tb: boolean): Case {
  const a = ta ? k.randn([kk, m]) : k.randn([m, kk]);
  const b = tb ? k.randn([n, kk]) : k.randn([kk, n]);
  const left = ta ? a.t() : a, right = tb ? b.t() : b;
  const layout = `${ta ? 'Aᵀ' : 'A'}·${tb ? 'Bᵀ' : 'B'}`;
  const run = () => k.matmul(left, right).dispose();
  return { name: `${name} ${m}x${kk}x${n} ${layout}`, flops: 2 * m * n * kk, run };
}

/** Microseconds of a gemm over no products, on the calling thread and split into two jobs (the pool's round trip). */
function wakeCost(): { alone: number; split: number } {
  const gemm = gemmKernel();
  const heap = wasmHeap();
  const claim = heap.alloc(64);
  // One row of one panel, in no product: every thread finds no tile left.
  const job = () => [0, 0, 0, 0, 0, 1, 1, 1, KC, MC, claim, 2, 1, 0, 0, 0, 0];
  const reps = 2000;
  const time = (fn: () => void) => {
    const samples: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) fn();
      samples.push(((performance.now() - t0) * 1000) / reps);
    }
    return Math.min(...samples);
  };
  const alone = time(() => gemm.exports.gemm!(...job()));
  const split = time(() => runJobs(gemm, [job(), job()]));
  heap.free(claim);
  return { alone, split };
}

/** A gemm call over tiles of `rows` by `across` panels in `jobs` jobs. */
type Runner = (rows: number, across: number, jobs: number) => () => void;

/** The gemm alone over m × k × n, operands in Wasm memory, B packed once. */
function placed(m: number, kk: number, n: number): { panels: number; run: Runner } {
  const heap = wasmHeap(), panels = Math.ceil(n / NR), ldc = panels * NR;
  const pa = heap.alloc(4 * m * kk), pb = heap.alloc(4 * ldc * kk), pc = heap.alloc(4 * m * ldc);
  const f32 = heap.f32();
  f32.set(k.randn([m, kk]).data<'float32'>(), pa >>> 2);
  packB(f32, pb >>> 2, k.randn([kk, n]).data<'float32'>(), 0, kk, n, n, 1);
  const gemm = gemmKernel();
  const run = (rows: number, across: number, jobs: number) => () => {
    heap.elements('int32')[ROW_CLAIM / 4] = 0;
    const job = [pa, 4 * kk, pb, pc, 4 * ldc, m, panels, kk, KC, MC, ROW_CLAIM, rows, across, 1, 0, 0, 0];
    runJobs(gemm, Array.from({ length: jobs }, () => job));
  };
  return { panels, run };
}

/**
 * The gemm alone over m × k × n on `threads` jobs, tiled as kiln tiles it and by rows only
 * (about four ranges of whole micro-kernel rows a thread, every panel in each).
 */
function tileSides(m: number, kk: number, n: number, threads: number): Record<string, () => void> {
  const { panels, run } = placed(m, kk, n);
  const tiles = gemmTiles(m, panels, MR, threads);
  const rowsOnly = Math.ceil(Math.ceil(m / MR) / (threads * 4)) * MR;
  const name = `gemm ${m}x${kk}x${n} @${threads}`;
  return {
    [`${name} tiles ${tiles.rows} rows x ${tiles.panels} panels`]: run(tiles.rows, tiles.panels, threads),
    [`${name} tiles ${rowsOnly} rows x ${panels} panels`]: run(rowsOnly, panels, threads),
  };
}

/** Small gemms (128 × k × 64) whole on the calling thread and split in two: where splitting starts to pay. */
function thresholdSides(threads: number): Record<string, () => void> {
  const sides: Record<string, () => void> = {};
  for (const kk of [8, 32, 128, 512]) {
    const { panels, run } = placed(BATCH, kk, 64);
    const tiles = gemmTiles(BATCH, panels, MR, threads);
    sides[`${BATCH * kk * 64} MACs @1`] = run(BATCH, panels, 1);
    sides[`${BATCH * kk * 64} MACs @${threads}`] = run(tiles.rows, tiles.panels, threads);
  }
  return sides;
}

/** Packing B into panels: transposed weights (the forward's Wᵀ), row-major activations (the weight gradients' B). */
function packSides(): Record<string, () => void> {
  const heap = wasmHeap(), gemm = gemmKernel();
  const sides: Record<string, () => void> = {};
  const shapes = [[784, 256, true], [256, 256, true], [BATCH, 784, false], [BATCH, 256, false]] as const;
  for (const [kk, n, transposed] of shapes) {
    const ldc = Math.ceil(n / NR) * NR;
    const src = heap.alloc(4 * kk * n), dst = heap.alloc(4 * ldc * kk);
    heap.f32().set(k.randn([kk * n]).data<'float32'>(), src >>> 2);
    sides[`pack B ${kk}x${n}${transposed ? ' from Bᵀ (Wasm transpose)' : ' (Wasm copy)'}`] = transposed
      ? () => packTransposedB(heap.f32(), dst, src >>> 2, kk, n, kk)
      : () => packHeapB(gemm, heap.f32(), dst, src >>> 2, kk, n, n);
  }
  return sides;
}

async function main(): Promise<void> {
  const threads = await k.threadsReady();
  if (threads < 2) throw new Error(`one thread here (${k.getNumThreads()} asked for): nothing to compare`);
  k.manualSeed(0);
  const cases = [
    gemmCase('forward 1', BATCH, 784, 256, false, true),
    gemmCase('forward 2', BATCH, 256, 256, false, true),
    gemmCase('forward 3', BATCH, 256, 10, false, true),
    gemmCase('dX 3', BATCH, 10, 256, false, false),
    gemmCase('dX 2', BATCH, 256, 256, false, false),
    gemmCase('dW 3', 10, BATCH, 256, true, false),
    gemmCase('dW 2', 256, BATCH, 256, true, false),
    gemmCase('dW 1', 256, BATCH, 784, true, false),
    gemmCase('matmul', 1024, 1024, 1024, false, false),
  ];
  const sides: Record<string, () => void> = {};
  const reps = (c: Case) => Math.max(1, Math.round(1e8 / c.flops));
  for (const c of cases) {
    for (const n of [1, threads]) {
      sides[`${c.name} @${n}`] = () => {
        k.setNumThreads(n);
        for (let i = 0, r = reps(c); i < r; i++) c.run();
      };
    }
  }
  const before = loadavg();
  const times = interleavedRounds(sides, ROUNDS, 3, 2);
  const after = loadavg();
  k.setNumThreads(threads);
  const rate = (c: Case, n: number) => (reps(c) * c.flops) / times[`${c.name} @${n}`]!.min / 1e6;
  const top = rate(cases.at(-1)!, 1);
  const rows = cases.map((c) => [
    c.name, fmtNumber(1000 * times[`${c.name} @1`]!.min / reps(c)), fmtNumber(rate(c, 1)), fmtNumber(rate(c, threads)),
    (rate(c, threads) / rate(c, 1)).toFixed(2), (rate(c, 1) / top).toFixed(2), (rate(c, threads) / top).toFixed(2),
  ]);
  const head = [
    'matmul (eager)', 'µs 1T', 'GFLOP/s 1T', `GFLOP/s ${threads}T`, 'speedup', '1T of 1024', `${threads}T of 1024`,
  ];
  console.log(formatTable(head, rows));
  const stepCases = cases.slice(0, -1);
  const stepUs = (n: number) => stepCases.reduce((s, c) => s + (1000 * times[`${c.name} @${n}`]!.min) / reps(c), 0);
  const together = `${fmtNumber(stepUs(1))} µs on 1 thread, ${fmtNumber(stepUs(threads))} µs on ${threads}`;
  console.log(`the step's matmuls together: ${together}`);
  const tiles = interleavedRounds({
    ...tileSides(BATCH, 784, 256, threads), ...tileSides(BATCH, 256, 256, threads),
    ...tileSides(256, 128, 784, threads),
  }, ROUNDS, 20, 5);
  console.log(formatTable(['gemm alone, tiles', 'µs (best median)'], Object.values(tiles).map((t) => [
    t.name, fmtNumber(1000 * t.min),
  ])));
  const small = interleavedRounds(thresholdSides(threads), ROUNDS, 20, 5);
  console.log(formatTable(['gemm alone 128 x k x 64', 'µs (best median)'], Object.values(small).map((t) => [
    t.name, fmtNumber(1000 * t.min),
  ])));
  const packs = interleavedRounds(packSides(), ROUNDS, 20, 5);
  console.log(formatTable(['packing', 'µs (best median)'], Object.values(packs).map((t) => [
    t.name, fmtNumber(1000 * t.min),
  ])));
  const wake = wakeCost();
  const wakeUs = `${fmtNumber(wake.alone)} µs alone, ${fmtNumber(wake.split)} µs split in two jobs`;
  console.log(`a gemm over no products: ${wakeUs}`);
  const load = (x: number[]) => x.map((l) => l.toFixed(2)).join(' ');
  console.log(`load average (1, 5, 15 min) before ${load(before)}, after ${load(after)}`);
  const path = saveJson(resultsPath('gemm-step'), { threads, times, tiles, small, packs, wake, before, after });
  console.log(`saved ${path}`);
}

await main();
