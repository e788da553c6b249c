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
 * (--experimental-wasm-relaxed-simd times the fused multiply-add kernels, with the chosen
 * blocking's mul + add kernel and both ceilings beside them for the ratio).
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
  [MR, NR, KC, MC], [MR, NR, 256, MC], [MR, NR, N, MC], [MR, NR, KC, 128], [MR, NR, KC, N], [4, 8, KC, 64],
  [4, 8, N, 64], [3, 8, KC, MC], [3, 12, KC, MC], [5, 8, KC, MC], [6, 8, KC, MC],
];

function cpuMs(fn: () => void): number {
  const t0 = process.cpuUsage();
  fn();
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1000;
}

/** One variant's gemm over random operands in a memory of its own. */
function gemmRun([mr, nr, kc, mc]: readonly number[], fma: boolean): () => void {
  const api = wasmApi!;
  const panels = Math.ceil(N / nr!);
  const a = 0, b = 4 * N * N, c = b + 4 * N * panels * nr!, claim = c + 4 * N * panels * nr!;
  const memory = new api.Memory({ initial: Math.ceil((claim + 4) / 65536) });
  const bytes = renderGemm({ mr: mr!, nr: nr!, fma, memory: { initial: 1, shared: false } });
  const gemm = new api.Instance(new api.Module(bytes), { env: { memory } }).exports.gemm as (...x: number[]) => void;
  const f32 = new Float32Array(memory.buffer);
  for (let i = 0; i < c / 4; i++) f32[i] = Math.random() - 0.5;
  const claimed = new Int32Array(memory.buffer, claim, 1);
  return () => {
    claimed[0] = 0;
    gemm(a, 4 * N, b, c, 4 * panels * nr!, N, panels, N, kc!, mc!, claim, N, panels, 1, 0, 0, 0);
  };
}

// Under relaxed SIMD the chosen blocking's mul + add kernel runs too, second.
const kernels = VARIANTS.flatMap((v, i) => (i === 0 && FMA ? [true, false] : [FMA]).map((fma) => ({ v, fma })));
const runs = kernels.map(({ v, fma }) => gemmRun(v, fma));
const best = kernels.map(() => Infinity);
// The ceilings are measured in every round too (their best), so a variant's fraction of one
// compares runs made under the same load and clock.
const ceilings = { fma: 0, mulAdd: 0 };
for (let r = 0; r < ROUNDS; r++) {
  for (let i = 0; i < runs.length; i++) {
    const v = (i + r) % runs.length;
    if (r === 0) runs[v]!();
    best[v] = Math.min(best[v]!, cpuMs(runs[v]!));
  }
  ceilings.mulAdd = Math.max(ceilings.mulAdd, simdCeiling(false, cpuMs));
  if (FMA) ceilings.fma = Math.max(ceilings.fma, simdCeiling(true, cpuMs));
}
const gflops = (ms: number) => (2 * N ** 3) / ms / 1e6;
const withFma = FMA ? `, relaxed_madd ${fmtNumber(ceilings.fma)}` : '';
console.log(`SIMD128 ceiling (CPU time): mul + add ${fmtNumber(ceilings.mulAdd)} GFLOP/s${withFma}`);
const rows = kernels.map(({ v: [mr, nr, kc, mc], fma }, i) => [
  `${mr}x${nr}${fma ? ' fma' : ''}${i === 0 ? ' (chosen)' : ''}`, String(kc), String(mc), fmtNumber(best[i]!),
  fmtNumber(gflops(best[i]!)), (gflops(best[i]!) / (fma ? ceilings.fma : ceilings.mulAdd)).toFixed(2),
]);
const header = ['register block', 'k block', 'row block', 'CPU ms (best)', 'GFLOP/s', 'of its ceiling'];
console.log(formatTable(header, rows));
if (FMA) {
  const ceilingRatio = (ceilings.fma / ceilings.mulAdd).toFixed(2);
  console.log(`fma / mul + add: gemm ${(best[1]! / best[0]!).toFixed(2)}, ceiling ${ceilingRatio}`);
}
const variants = kernels.map(({ v, fma }, i) => ({ block: v, fma, ms: best[i], gflops: gflops(best[i]!) }));
const path = saveJson(resultsPath('gemm-blocking'), { fma: FMA, ceilings, variants });
console.log(`saved ${path}`);
