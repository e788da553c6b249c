/**
 * A matmul with its epilogue (bias, relu, residual) applied by the Wasm gemm at its stores,
 * against the same gemm followed by the epilogue as a generated JavaScript map over the
 * product (how fused epilogues ran before), in one process with interleaved rounds, over
 * typed arrays (the Wasm kernels run on the default engine, not under KILN_CPU=js):
 *
 *   npx tsc -p tsconfig.bench.json && node dist/bench/matmul-epilogue.js    (ROUNDS=n)
 *
 * Workloads: the three layers of the MLP 784-256-256-10 forward at batch 128 (bias and
 * relu, bias and relu, bias), their sum (the forward's matmuls under jit), and a 1024 layer
 * with bias, relu and a residual, each on one thread and on all. Both sides compute the
 * same bits; that is checked before timing.
 */
import * as k from '../src/index.js';
import { jsHelpers } from '../compiler/codegen/js-helpers.js';
import type { Expr, MatmulSpec } from '../compiler/kernel.js';
import { lowerMatmul } from '../compiler/lower.js';
import { epilogueKernel, wasmMatmul } from '../compiler/wasm-matmul.js';
import { fmtNumber, formatTable, interleavedRounds, resultsPath, saveJson } from './harness.js';

const ROUNDS = Number(process.env.ROUNDS ?? 9);

/** relu(acc + bias), then + residual where asked: the body the fuser gives a linear layer. */
function body(relu: boolean, residual: boolean): Expr[] {
  const f32 = 'float32' as const;
  const out: Expr[] = [{ op: 'acc' }, { op: 'load', arg: 3 }, { op: 'prim', prim: 'add', args: [0, 1], dtype: f32 }];
  if (relu) {
    out.push({ op: 'literal', value: 0, dtype: f32 }, { op: 'prim', prim: 'le', args: [2, 3], dtype: f32 });
    out.push({ op: 'prim', prim: 'where', args: [4, 3, 2], dtype: f32 });
  }
  const last = out.length - 1;
  if (residual) out.push({ op: 'load', arg: 4 }, { op: 'prim', prim: 'add', args: [last, last + 1], dtype: f32 });
  return out;
}

interface Layer {
  name: string;
  m: number;
  n: number;
  k: number;
  relu: boolean;
  residual: boolean;
}

/** The layer both ways: [fused in the gemm, gemm then a JavaScript map], each writing `out`. */
function layerSides(l: Layer): [() => Float32Array, () => Float32Array] {
  const rand = (n: number) => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);
  const a = rand(l.m * l.k), b = rand(l.k * l.n), bias = rand(l.n), residual = rand(l.m * l.n);
  const layout = (shape: number[]) => ({ shape, strides: [shape[1]!, 1], offset: 0, dtype: 'float32' as const });
  const plain = lowerMatmul(layout([l.m, l.k]), layout([l.k, l.n]), layout([l.m, l.n])).build() as MatmulSpec;
  const e = body(l.relu, l.residual);
  const spec: MatmulSpec = {
    ...plain, epilogue: { body: e, value: e.length - 1, dtype: 'float32' },
    extras: [
      { dtype: 'float32', batchStrides: [], strides: [0, 1] },
      ...(l.residual ? [{ dtype: 'float32' as const, batchStrides: [], strides: [l.n, 1] as [number, number] }] : []),
    ],
  };
  const extras = l.residual ? [bias, residual] : [bias];
  const fusedKernel = wasmMatmul(spec)!, gemm = wasmMatmul(plain)!, map = epilogueKernel(spec, l.n, jsHelpers);
  const out = new Float32Array(l.m * l.n), product = new Float32Array(l.m * l.n), mapped = new Float32Array(l.m * l.n);
  const zeros = extras.map(() => 0);
  const fused = () => {
    fusedKernel(out, a, b, ...extras, 0, 0, 0, ...zeros);
    return out;
  };
  const jsMap = () => {
    gemm(product, a, b, 0, 0, 0);
    map(mapped, ...extras, product, 0, ...zeros, 0);
    return mapped;
  };
  return [fused, jsMap];
}

async function main(): Promise<void> {
  const threads = await k.threadsReady();
  const layers: Layer[] = [
    { name: 'MLP layer 1 (128x784 · 784x256, bias, relu)', m: 128, n: 256, k: 784, relu: true, residual: false },
    { name: 'MLP layer 2 (128x256 · 256x256, bias, relu)', m: 128, n: 256, k: 256, relu: true, residual: false },
    { name: 'MLP layer 3 (128x256 · 256x10, bias)', m: 128, n: 10, k: 256, relu: false, residual: false },
    { name: 'layer 1024 (bias, relu, residual)', m: 1024, n: 1024, k: 1024, relu: true, residual: true },
  ];
  const rows: string[][] = [];
  const results: Record<string, unknown> = {};
  for (const t of threads > 1 ? [1, threads] : [1]) {
    k.setNumThreads(t);
    const forward = { fused: 0, jsMap: 0 };
    for (const [i, l] of layers.entries()) {
      const [fused, jsMap] = layerSides(l);
      const want = jsMap();
      const same = fused().every((x, j) => Object.is(x, want[j]));
      if (!same) throw new Error(`${l.name}: the fused epilogue and the JavaScript map differ`);
      const m = interleavedRounds({ 'in the gemm': fused, 'gemm, then a JS map': jsMap }, ROUNDS, l.m > 512 ? 2 : 20);
      const [f, j] = [m['in the gemm']!.median, m['gemm, then a JS map']!.median];
      if (i < 3) {
        forward.fused += f;
        forward.jsMap += j;
      }
      rows.push([`${l.name}, ${t} thread${t > 1 ? 's' : ''}`, fmtNumber(f), fmtNumber(j), (j / f).toFixed(2)]);
      results[`${l.name}|${t}`] = m;
    }
    const speedup = (forward.jsMap / forward.fused).toFixed(2);
    const name = `MLP forward's matmuls, ${t} thread${t > 1 ? 's' : ''}`;
    rows.push([name, fmtNumber(forward.fused), fmtNumber(forward.jsMap), speedup]);
  }
  k.setNumThreads(threads);
  console.log(formatTable(['workload', 'in the gemm ms', 'gemm + JS map ms', 'speedup'], rows));
  console.log(`saved ${saveJson(resultsPath('matmul-epilogue'), { threads, rows, results })}`);
}

await main();
