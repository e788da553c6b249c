/**
 * kiln's WebAssembly float32 matmul beside TensorFlow.js (Wasm SIMD, XNNPACK) and jax-js
 * (Wasm, jit), in one process with interleaved rounds:
 *
 *   npm run bench:matmul            (ROUNDS=n for more rounds; node flags pass through NODE_OPTIONS)
 *
 * Workloads: a square matmul of 1024, and one SGD step of the MLP 784-256-256-10 (ReLU,
 * batch 128, cross entropy) under each library's jit. kiln runs on one thread and on all
 * (setNumThreads); results are bitwise equal at any thread count, so both columns compute
 * the same bits. Also measured:
 *   - the SIMD128 ceiling: the micro-kernel's f32x4 multiply-adds in a loop without its
 *     loads, emitted with kiln's encoder; kiln's matmul is printed as a fraction of it;
 *   - the gemm alone on operands already in Wasm memory, so the difference to kiln's
 *     matmul is the cost of copying operands in, packing B and copying C out.
 * Every side's matmul result is checked against kiln's before timing. The one-thread sides
 * (matmul and MLP step) are timed twice: wall clock beside the all-threads side, and the process's CPU time in
 * rounds of their own with the ceiling measured in every round (the figures the fractions of
 * the ceiling and the ratios to the peers come from: on a shared machine a single-threaded
 * kernel's wall time counts the other processes it waited for).
 */
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { dirname, sep } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as jax from '@jax-js/jax';
import * as k from '../src/index.js';
import { renderGemm } from '../compiler/codegen/wasm/gemm.js';
import { wasmMatmulVariant } from '../compiler/wasm-matmul.js';
import { MAX_PAGES, wasmHeap } from '../runtime/wasm/memory.js';
import { wasmKernel } from '../runtime/wasm/modules.js';
import { tileClaim } from '../runtime/wasm/split.js';
import {
  fmtNumber, formatTable, maxAbsDiff, interleavedRounds, resultsPath, saveJson, type Measurement,
} from './harness.js';
import { BATCH, LR, SIZES, linears, mlpModel, kilnStep } from './mlp.js';
import { jaxMlp } from './jax-mlp.js';
import { simdCeiling } from './simd-ceiling.js';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const N = 1024;
const FLOPS = 2 * N ** 3;

function rounds(sides: Record<string, () => unknown>, runs: number): Record<string, Measurement> {
  return interleavedRounds(sides, ROUNDS, runs, 3);
}

function cpuMs(fn: () => void): number {
  const t0 = process.cpuUsage();
  fn();
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1000;
}

/**
 * Median CPU ms of each one-thread side over interleaved rounds (`runs` calls each), and the
 * best ceilings seen in them: of mul + add, and where the kernel fuses (`fma`) of relaxed_madd.
 */
function cpuRounds(
  sides: Record<string, () => unknown>, runs: number, fma: boolean,
): { ms: Record<string, number>; mulAdd: number; fma: number | undefined } {
  const names = Object.keys(sides);
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const ceilings = { mulAdd: 0, fma: fma ? 0 : undefined };
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + r) % names.length]!;
      for (let j = 0; j < runs; j++) samples[name]!.push(cpuMs(() => void sides[name]!()));
    }
    ceilings.mulAdd = Math.max(ceilings.mulAdd, simdCeiling(false, cpuMs));
    if (ceilings.fma !== undefined) ceilings.fma = Math.max(ceilings.fma, simdCeiling(true, cpuMs));
  }
  const median = (x: number[]) => x.sort((p, q) => p - q)[x.length >> 1]!;
  return { ms: Object.fromEntries(names.map((n) => [n, median(samples[n]!)])), ...ceilings };
}

/** The gemm on operands already in Wasm memory (no copies), one thread. */
function gemmAlone(a: Float32Array, b: Float32Array): () => void {
  const v = wasmMatmulVariant()!;
  const heap = wasmHeap();
  const memory = heap.shared ? { initial: 1, maximum: MAX_PAGES, shared: true } : { initial: 1, shared: false };
  const build = () => renderGemm({ mr: v.mr, nr: v.nr, fma: v.fma, memory });
  const gemm = wasmKernel(`bench|gemm|${v.mr}|${v.nr}|${v.fma}`, 'gemm', build);
  const panels = Math.ceil(N / v.nr);
  const pa = heap.alloc(4 * N * N), pb = heap.alloc(4 * N * panels * v.nr), pc = heap.alloc(4 * N * panels * v.nr);
  const f32 = heap.f32();
  f32.set(a, pa >>> 2);
  for (let p = 0; p < panels; p++) {
    for (let kk = 0; kk < N; kk++) {
      for (let c = 0; c < v.nr; c++) f32[(pb >>> 2) + (p * N + kk) * v.nr + c] = b[kk * N + p * v.nr + c]!;
    }
  }
  return () => {
    const claim = tileClaim(N, panels, v.mr, 1);
    const { at, rows } = claim;
    const ldc = 4 * panels * v.nr;
    gemm.exports.gemm!(pa, 4 * N, pb, pc, ldc, N, panels, N, v.kc, v.mc, at, rows, claim.panels, 1, 0, 0, 0);
  };
}

async function initTfjsWasm(): Promise<void> {
  const require = createRequire(import.meta.url);
  setWasmPaths(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm')) + sep);
  if (!(await tf.setBackend('wasm'))) throw new Error('the tfjs wasm backend failed to initialize');
  if (!tf.env().getBool('WASM_HAS_SIMD_SUPPORT')) throw new Error('tfjs-wasm would run its scalar build');
}

async function main(): Promise<void> {
  await initTfjsWasm();
  await jax.init('wasm');
  jax.defaultDevice('wasm');
  const variant = wasmMatmulVariant();
  if (variant === undefined) throw new Error('kiln runs the JavaScript engine here (KILN_CPU=js or no Wasm SIMD)');
  const threads = await k.threadsReady();
  const allThreads = k.getNumThreads();
  if (threads !== allThreads) throw new Error(`${allThreads} threads asked for, ${threads} started`);
  const arithmetic = variant.fma ? 'relaxed-SIMD fma' : 'f32x4 mul + add';
  const blocks = `k block ${variant.kc}, row block ${variant.mc}`;
  console.log(`kiln gemm ${variant.mr}x${variant.nr}, ${blocks}, ${arithmetic}; ${threads} threads`);

  const wallMs = (fn: () => void) => {
    const t0 = performance.now();
    fn();
    return performance.now() - t0;
  };
  const ceiling = simdCeiling(false, wallMs);
  const ceilingFma = variant.fma ? simdCeiling(true, wallMs) : undefined;
  const withFma = ceilingFma === undefined ? '' : `; with relaxed_madd ${fmtNumber(ceilingFma)}`;
  console.log(`SIMD128 ceiling (the micro-kernel's mul + add, no loads): ${fmtNumber(ceiling)} GFLOP/s${withFma}`);

  // The load average says how much of the cores other processes took: the all-threads side's
  // wall clock counts it (the one-thread figures are CPU time).
  const before = loadavg();
  k.manualSeed(0);
  const a = k.randn([N, N]), b = k.randn([N, N]);
  const av = a.data<'float32'>(), bv = b.data<'float32'>();
  const kilnOn = (n: number) => () => {
    k.setNumThreads(n);
    return a.matmul(b);
  };
  // Timed sides give their product back at once, as the TF.js side does: a 4 MiB result left
  // to the garbage collector costs collections that CPU time counts (on V8's helper threads).
  const kilnTimed = (n: number) => () => kilnOn(n)().dispose();
  const ta = tf.tensor2d(av, [N, N]), tb = tf.tensor2d(bv, [N, N]);
  const ja = jax.numpy.array(av).reshape([N, N]), jb = jax.numpy.array(bv).reshape([N, N]);
  const tfjs = () => {
    const c = tf.matMul(ta, tb);
    const v = c.dataSync();
    c.dispose();
    return v;
  };
  const jaxMatmul = () => jax.numpy.matmul(ja.ref, jb.ref).dataSync();
  const want = kilnOn(1)().data();
  const diffs = {
    'kiln all threads': maxAbsDiff(want, kilnOn(allThreads)().data()),
    tfjs: maxAbsDiff(want, tfjs()),
    jax: maxAbsDiff(want, jaxMatmul()),
  };
  console.log('matmul max |diff| to kiln 1 thread:', diffs);
  if (diffs['kiln all threads'] !== 0) throw new Error('kiln on all threads differs from one thread');
  const alone = gemmAlone(av, bv);
  const mm = rounds({
    'kiln 1 thread': kilnTimed(1), [`kiln ${allThreads} threads`]: kilnTimed(allThreads),
    'kiln gemm alone': alone, 'tfjs-wasm': tfjs, 'jax-js': jaxMatmul,
  }, 3);
  const oneSides = { 'kiln 1 thread': kilnTimed(1), 'kiln gemm alone': alone, 'tfjs-wasm': tfjs, 'jax-js': jaxMatmul };
  const oneThread = cpuRounds(oneSides, 3, variant.fma);
  k.setNumThreads(allThreads);

  k.manualSeed(1);
  const model = mlpModel();
  const xs = k.randn([BATCH, SIZES[0]]).data<'float32'>();
  const labels = k.randint(0, SIZES[3], [BATCH]).data<'int32'>();
  const jaxStep = jaxMlp(linears(model), xs, labels);
  const step = k.jit(kilnStep(model));
  const x = k.tensor(xs, { shape: [BATCH, SIZES[0]] }), y = k.tensor(labels, { shape: [BATCH], dtype: 'int32' });
  // Each side reads its loss back (jax-js's step returns it as a number), and every side has
  // run a few times before the rounds, so kiln's traces and compile fall outside them.
  const kilnStepOn = (n: number) => () => {
    k.setNumThreads(n);
    return step(x, y).item();
  };
  const allJit = `kiln jit ${allThreads} threads`;
  const mlpSides = { 'kiln jit 1 thread': kilnStepOn(1), [allJit]: kilnStepOn(allThreads), 'jax-js jit': jaxStep };
  for (const side of Object.values(mlpSides)) for (let i = 0; i < 5; i++) side();
  const mlp = rounds(mlpSides, 10);
  // One thread each in CPU time too, which other processes on the cores do not inflate.
  const mlpCpu = cpuRounds({ 'kiln jit 1 thread': kilnStepOn(1), 'jax-js jit': jaxStep }, 10, false).ms;
  k.setNumThreads(allThreads);

  const gflops = (m: Measurement) => FLOPS / m.median / 1e6;
  const rate = (m: Measurement) => `${fmtNumber(gflops(m))} GFLOP/s`;
  const rows = Object.values(mm).map((m) => [`matmul ${N}: ${m.name}`, fmtNumber(m.median), rate(m)]);
  rows.push(...Object.values(mlp).map((m) => [`MLP step: ${m.name}`, fmtNumber(m.median), '']));
  console.log(formatTable(['workload', 'ms (median)', 'rate'], rows));
  const cpu = oneThread.ms, cpuRate = (name: string) => FLOPS / cpu[name]! / 1e6;
  const cpuRows = Object.keys(cpu).map((name) => [
    `matmul ${N}: ${name}`, fmtNumber(cpu[name]!), fmtNumber(cpuRate(name)),
  ]);
  console.log(formatTable(['one thread', 'CPU ms (median)', 'GFLOP/s'], cpuRows));
  const kernelCeiling = oneThread.fma ?? oneThread.mulAdd;
  const fmaCeiling = oneThread.fma === undefined ? '' : `, relaxed_madd ${fmtNumber(oneThread.fma)}`;
  console.log(`SIMD128 ceiling (CPU time, best of the rounds): mul + add ${fmtNumber(oneThread.mulAdd)}${fmaCeiling}`);
  const one = mm['kiln 1 thread']!, all = mm[`kiln ${allThreads} threads`]!;
  const ratios: Record<string, number> = {
    'kiln 1 thread / SIMD128 ceiling (CPU time)': cpuRate('kiln 1 thread') / kernelCeiling,
    'kiln gemm alone / SIMD128 ceiling (CPU time)': cpuRate('kiln gemm alone') / kernelCeiling,
    'copies in and out, share of kiln 1 thread CPU time':
      (cpu['kiln 1 thread']! - cpu['kiln gemm alone']!) / cpu['kiln 1 thread']!,
    'kiln 1 thread vs tfjs-wasm (speedup, CPU time)': cpu['tfjs-wasm']! / cpu['kiln 1 thread']!,
    'kiln 1 thread vs jax-js (speedup, CPU time)': cpu['jax-js']! / cpu['kiln 1 thread']!,
    [`kiln ${allThreads} threads vs 1 thread (speedup, wall)`]: one.median / all.median,
    'MLP kiln jit 1 thread / jax-js jit (time)': mlp['kiln jit 1 thread']!.median / mlp['jax-js jit']!.median,
    'MLP kiln jit 1 thread / jax-js jit (CPU time)': mlpCpu['kiln jit 1 thread']! / mlpCpu['jax-js jit']!,
    [`MLP kiln jit ${allThreads} threads / jax-js jit (time)`]: mlp[allJit]!.median / mlp['jax-js jit']!.median,
  };
  if (oneThread.fma !== undefined) {
    ratios['relaxed_madd ceiling / mul + add ceiling (CPU time)'] = oneThread.fma / oneThread.mulAdd;
  }
  for (const [name, r] of Object.entries(ratios)) console.log(`${name}: ${r.toFixed(2)}`);
  const load = (x: number[]) => x.map((l) => l.toFixed(2)).join(' ');
  console.log(`load average (1, 5, 15 min) before ${load(before)}, after ${load(loadavg())}`);
  const path = saveJson(resultsPath('matmul'), {
    variant, threads: allThreads, ceilingGflops: ceiling, ceilingFmaGflops: ceilingFma,
    cpuCeilingGflops: kernelCeiling, cpuCeilingMulAddGflops: oneThread.mulAdd, cpuCeilingFmaGflops: oneThread.fma,
    loadBefore: before, loadAfter: loadavg(),
    matmul: mm, matmulCpuMs: cpu, mlp, mlpCpuMs: mlpCpu, ratios, diffs,
  });
  console.log(`saved ${path}`);
}

await main();
