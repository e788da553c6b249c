/**
 * The Wasm gemm alone at matmul 1024 (operands already packed in Wasm memory, one thread)
 * for several register blocks, k blocks and row blocks, and the SIMD ceiling beside it:
 * the measurement that chose the blocking in compiler/wasm-matmul.ts.
 *
 *   npx tsc -p tsconfig.bench.json && node dist/bench/gemm-blocking.js    (ROUNDS=n)
 *
 * Times are the process's CPU time (best of interleaved rounds), not wall time: on a shared
 * machine a single-threaded kernel's CPU time is what it costs, while its wall time counts
 * the other processes it waited for. Node flags pass through NODE_OPTIONS
 * (--experimental-wasm-relaxed-simd times the fused multiply-add kernels).
 */
import { renderGemm } from '../compiler/codegen/wasm/gemm.js';
import { KC, MC, MR, NR } from '../compiler/wasm-matmul.js';
import { wasmApi } from '../runtime/wasm/api.js';
import { wasmFeatures } from '../runtime/wasm/features.js';
import { fmtNumber, formatTable, resultsPath, saveJson } from './harness.js';
import { simdCeiling } from './simd-ceiling.js';

const N = 1024;
const ROUNDS = Number(process.env.ROUNDS ?? 12);
const FMA = wasmFeatures().relaxedSimd;

/** [mr, nr, kc, mc]: the chosen blocking first, then the alternatives measured against it. */
const VARIANTS: readonly (readonly [number, number, number, number])[] = [
  [MR, NR, KC, MC], [MR, NR, KC, 64], [MR, NR, KC, N], [MR, NR, 512, MC], [4, 8, 512, 64], [4, 8, 256, N],
  [3, 8, KC, MC], [3, 12, KC, MC], [5, 8, KC, MC], [6, 8, KC, MC],
];

function cpuMs(fn: () => void): number {
  const t0 = process.cpuUsage();
  fn();
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1000;
}

/** One variant's gemm over random operands in a memory of its own. */
function gemmRun([mr, nr, kc, mc]: readonly number[]): () => void {
  const api = wasmApi!;
  const panels = Math.ceil(N / nr!);
  const a = 0, b = 4 * N * N, c = b + 4 * N * panels * nr!;
  const memory = new api.Memory({ initial: Math.ceil((c + 4 * N * panels * nr!) / 65536) });
  const bytes = renderGemm({ mr: mr!, nr: nr!, fma: FMA, memory: { initial: 1, shared: false } });
  const gemm = new api.Instance(new api.Module(bytes), { env: { memory } }).exports.gemm as (...x: number[]) => void;
  const f32 = new Float32Array(memory.buffer);
  for (let i = 0; i < c / 4; i++) f32[i] = Math.random() - 0.5;
  return () => gemm(a, 4 * N, b, c, 4 * panels * nr!, N, panels, N, kc!, mc!);
}

const runs = VARIANTS.map(gemmRun);
const best = VARIANTS.map(() => Infinity);
for (let r = 0; r < ROUNDS; r++) {
  for (let i = 0; i < runs.length; i++) {
    const v = (i + r) % runs.length;
    if (r === 0) runs[v]!();
    best[v] = Math.min(best[v]!, cpuMs(runs[v]!));
  }
}
const ceiling = simdCeiling(FMA, cpuMs);
const gflops = (ms: number) => (2 * N ** 3) / ms / 1e6;
console.log(`SIMD128 ceiling (${FMA ? 'relaxed_madd' : 'mul + add'}, CPU time): ${fmtNumber(ceiling)} GFLOP/s`);
const rows = VARIANTS.map(([mr, nr, kc, mc], i) => [
  `${mr}x${nr}${i === 0 ? ' (chosen)' : ''}`, String(kc), String(mc), fmtNumber(best[i]!), fmtNumber(gflops(best[i]!)),
  (gflops(best[i]!) / ceiling).toFixed(2),
]);
console.log(formatTable(['register block', 'k block', 'row block', 'CPU ms (best)', 'GFLOP/s', 'of ceiling'], rows));
const variants = VARIANTS.map((v, i) => ({ block: v, ms: best[i], gflops: gflops(best[i]!) }));
const path = saveJson(resultsPath('gemm-blocking'), { fma: FMA, ceilingGflops: ceiling, variants });
console.log(`saved ${path}`);
