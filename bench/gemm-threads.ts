/**
 * kiln's float32 matmul 1024 on one thread and on all (wall clock, interleaved rounds), on
 * the engine this process runs (KILN_CPU=wasm for tensors in Wasm memory):
 *
 *   npx tsc -p tsconfig.bench.json && node dist/bench/gemm-threads.js    (ROUNDS=n)
 *
 * Beside the whole matmul, the gemm alone on operands already in Wasm memory (B packed
 * once, shared by the threads), so the difference between the two speedups is what runs on
 * one thread whatever the count: copying operands in and out on the default engine, packing
 * B. The rows of the ranges the threads take are printed, and the machine's load average
 * before and after, since another process on a core takes it from a thread.
 */
import { loadavg } from 'node:os';
import * as k from '../src/index.js';
import { gemmKernel, KC, MC, MR, multiply, NR, packB } from '../compiler/wasm-matmul.js';
import { wasmHeap } from '../runtime/wasm/memory.js';
import { cpuEngine } from '../runtime/wasm/engine.js';
import { gemmTiles } from '../runtime/wasm/split.js';
import { fmtNumber, formatTable, interleavedRounds, resultsPath, saveJson } from './harness.js';

const ROUNDS = Number(process.env.ROUNDS ?? 9);
const N = 1024;
const FLOPS = 2 * N ** 3;

/** The gemm over operands placed in Wasm memory once, with `threads` threads. */
function gemmAlone(a: Float32Array, b: Float32Array): (threads: number) => () => void {
  const heap = wasmHeap();
  const panels = Math.ceil(N / NR);
  const pa = heap.alloc(4 * N * N), pb = heap.alloc(4 * N * panels * NR), pc = heap.alloc(4 * N * panels * NR);
  const f32 = heap.f32();
  f32.set(a, pa >>> 2);
  packB(f32, pb >>> 2, b, 0, N, N, N, 1);
  const gemm = gemmKernel();
  return (threads) => () => {
    k.setNumThreads(threads);
    multiply(gemm, pa, 4 * N, pb, pc, N, N, N, panels);
  };
}

async function main(): Promise<void> {
  const threads = await k.threadsReady();
  if (threads < 2) throw new Error(`one thread here (${k.getNumThreads()} asked for): nothing to scale`);
  k.manualSeed(0);
  const a = k.randn([N, N]), b = k.randn([N, N]);
  const alone = gemmAlone(a.data<'float32'>(), b.data<'float32'>());
  // The product is given back at once: left to the garbage collector, its collections would be timed too.
  const matmul = (n: number) => () => {
    k.setNumThreads(n);
    a.matmul(b).dispose();
  };
  const chunk = gemmTiles(N, Math.ceil(N / NR), MR, threads).rows;
  console.log(`kiln gemm ${MR}x${NR}, k block ${KC}, row block ${MC}; ${cpuEngine()} engine; ${threads} threads`);
  console.log(`threads take ranges of ${chunk} rows of ${N} until none are left; B packed once, read by every thread`);
  const before = loadavg();
  const sides = {
    'matmul 1 thread': matmul(1), [`matmul ${threads} threads`]: matmul(threads),
    'gemm alone 1 thread': alone(1), [`gemm alone ${threads} threads`]: alone(threads),
  };
  const m = interleavedRounds(sides, ROUNDS, 3, 3);
  const after = loadavg();
  k.setNumThreads(threads);
  const table = Object.values(m).map((x) => [
    x.name, fmtNumber(x.median), fmtNumber(x.min), fmtNumber(FLOPS / x.median / 1e6),
  ]);
  console.log(formatTable(['workload', 'ms (median)', 'ms (min)', 'GFLOP/s (median)'], table));
  const ratio = (one: string, all: string) => m[one]!.median / m[all]!.median;
  const ratios = {
    [`matmul ${threads} threads vs 1 (speedup)`]: ratio('matmul 1 thread', `matmul ${threads} threads`),
    [`gemm alone ${threads} threads vs 1 (speedup)`]: ratio('gemm alone 1 thread', `gemm alone ${threads} threads`),
    'one-thread share of matmul 1 thread (copies, packing)':
      (m['matmul 1 thread']!.median - m['gemm alone 1 thread']!.median) / m['matmul 1 thread']!.median,
  };
  for (const [name, r] of Object.entries(ratios)) console.log(`${name}: ${r.toFixed(2)}`);
  const load = (x: number[]) => x.map((l) => l.toFixed(2)).join(' ');
  console.log(`load average (1, 5, 15 min) before ${load(before)}, after ${load(after)}`);
  const results = { engine: cpuEngine(), threads, rowsPerRange: chunk, before, after, matmul: m, ratios };
  const path = saveJson(resultsPath('gemm-threads'), results);
  console.log(`saved ${path}`);
}

await main();
