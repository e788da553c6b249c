/**
 * The Wasm engine's kernels against the JavaScript engine's and TF.js Wasm SIMD, in one
 * process with interleaved rounds: add (4M), row sums, softmax and layerNorm [4096,1024],
 * gelu(x·a+b) over 4M (tanh form). kiln's sides run the kernels jit compiles for each
 * workload at the backend level: the Wasm backend over buffers in its memory, the
 * JavaScript engine's CPU backend over typed arrays (the same specs, recorded from a
 * traced call). Both give the same bits, checked before timing. Ratios are printed and
 * saved as JSON; medians of per-round medians.
 *
 *   npx tsc -p tsconfig.bench.json && node dist/bench/wasm-kernels.js
 */
import { createRequire } from 'node:module';
import { dirname, sep } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { wasm } from '../compiler/backends.js';
import { renderJs } from '../compiler/codegen/js.js';
import { jsHelpers } from '../compiler/codegen/js-helpers.js';
import type { KernelSpec } from '../compiler/kernel.js';
import type { Backend } from '../runtime/backend.js';
import { CpuBackend } from '../runtime/cpu/backend.js';
import { ARRAY_OF } from '../runtime/dtype.js';
import { argDtypes } from '../compiler/codegen/wasm/render.js';
import * as k from '../src/index.js';
import { fmtNumber, formatTable, interleavedRounds, resultsPath, saveJson, type Measurement } from './harness.js';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const ROWS = 4096, COLS = 1024, N = ROWS * COLS;

function rounds(sides: Record<string, () => unknown>, runs: number): Record<string, Measurement> {
  return interleavedRounds(sides, ROUNDS, runs, 2);
}

/** Elements a loop nest over `shape` with `strides` reaches (strides are non-negative in these workloads). */
function reach(shape: readonly number[], strides: readonly number[]): number {
  return 1 + shape.reduce((s, n, d) => s + (n - 1) * Math.abs(strides[d]!), 0);
}

/** Elements each arg of a spec spans. */
function extents(spec: KernelSpec): number[] {
  switch (spec.kind) {
    case 'map': return spec.strides.map((s) => reach(spec.shape, s));
    case 'reduce': case 'row':
      return spec.dtypes.map((_, a) => reach([...spec.outer, ...spec.inner], [...spec.outerStrides[a]!, ...spec.innerStrides[a]!]));
    // A loop kernel's args are one-element values.
    case 'loop': return spec.dtypes.map(() => 1);
    case 'multi': {
      const out = new Array<number>(spec.args).fill(1);
      for (const p of spec.parts) extents(p.spec).forEach((e, a) => (out[p.args[a]!] = Math.max(out[p.args[a]!]!, e)));
      return out;
    }
    case 'matmul': case 'random': throw new Error(`wasm-kernels bench: no ${spec.kind} kernels expected`);
  }
}

/** The spec of every kernel the Wasm backend has compiled since `recordSpecs`. */
const specOf = new Map<unknown, KernelSpec>();

function recordSpecs(): void {
  const compile = wasm.compile.bind(wasm);
  wasm.compile = (key, spec) => {
    let built: KernelSpec | undefined;
    const kernel = compile(key, () => (built = spec()));
    if (built !== undefined) specOf.set(kernel, built);
    return kernel;
  };
}

/** The kernel specs a jit replay of `fn` at `inputs` launches, in order (the third call replays). */
function specsOf(fn: (...xs: k.Tensor[]) => k.Tensor, inputs: k.Tensor[]): KernelSpec[] {
  const f = k.jit(fn);
  f(...inputs);
  f(...inputs);
  const specs: KernelSpec[] = [];
  const run = wasm.run.bind(wasm);
  wasm.run = (launches) => {
    for (const l of launches) specs.push(specOf.get(l.kernel)!);
    run(launches);
  };
  try {
    f(...inputs);
  } finally {
    wasm.run = run;
  }
  if (f.stats.replays !== 1) throw new Error(`wasm-kernels bench: expected one replay, got ${f.stats.replays}`);
  return specs;
}

/** Runs `specs` in order on `backend`, each over its own buffers filled with values in [-2, 2); returns a call and a readout. */
function prepare(backend: Backend<any, any, KernelSpec>, specs: readonly KernelSpec[]): { run: () => void; out: () => number[] } {
  const launches = specs.map((spec, s) => {
    const dtypes = argDtypes(spec);
    const args = extents(spec).map((n, a) => {
      const data = backend.alloc(dtypes[a]!, n);
      const host = new ARRAY_OF[dtypes[a]!](n);
      for (let i = 0; i < n; i++) host[i] = Math.sin(i * 0.37 + a + s) * 2;
      backend.write(data, dtypes[a]!, host);
      return { data, offset: 0 };
    });
    return { kernel: backend.compile(`bench|${s}|${JSON.stringify(spec)}`, () => spec), args, scalars: [] as number[] };
  });
  return {
    run: () => backend.run(launches),
    out: () => launches.flatMap((l, s) => {
      const dtype = argDtypes(specs[s]!)[0]!;
      return Array.from(backend.readSync!(l.args[0]!.data, dtype, 0, Math.min(4096, extents(specs[s]!)[0]!)));
    }),
  };
}

async function initTfjsWasm(): Promise<void> {
  const require = createRequire(import.meta.url);
  setWasmPaths(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm')) + sep);
  if (!(await tf.setBackend('wasm'))) throw new Error('the tfjs wasm backend failed to initialize');
  if (!tf.env().getBool('WASM_HAS_SIMD_SUPPORT')) throw new Error('tfjs-wasm would run its scalar build');
}

/** A TF.js side that disposes what it makes. */
function tfSide(fn: () => tf.Tensor): () => unknown {
  return () => {
    const y = fn();
    const v = y.dataSync();
    y.dispose();
    return v;
  };
}

async function main(): Promise<void> {
  await initTfjsWasm();
  recordSpecs();
  const js = new CpuBackend<KernelSpec>((spec) => ({ source: renderJs(spec), helpers: jsHelpers, sizes: [] }));
  k.manualSeed(0);
  const x2 = k.randn([ROWS, COLS]), w = k.randn([COLS]), b = k.randn([COLS]);
  const x1 = k.randn([N]), a = k.randn([N]), c = k.randn([N]);
  const t2 = tf.tensor2d(x2.data() as Float32Array, [ROWS, COLS]), tw = tf.tensor1d(w.data() as Float32Array);
  const tb = tf.tensor1d(b.data() as Float32Array);
  const t1 = tf.tensor1d(x1.data() as Float32Array), ta = tf.tensor1d(a.data() as Float32Array);
  const tc = tf.tensor1d(c.data() as Float32Array);
  const geluTanh = (x: k.Tensor) => k.gelu(x, 'tanh');
  const workloads: { name: string; fn: (...xs: k.Tensor[]) => k.Tensor; inputs: k.Tensor[]; tfjs: () => tf.Tensor }[] = [
    { name: 'add 4M', fn: (p, q) => p!.add(q!), inputs: [x1, a], tfjs: () => tf.add(t1, ta) },
    { name: 'sum rows [4096,1024]', fn: (p) => p!.sum(1), inputs: [x2], tfjs: () => tf.sum(t2, 1) },
    { name: 'softmax [4096,1024]', fn: (p) => k.softmax(p!, 1), inputs: [x2], tfjs: () => tf.softmax(t2) },
    {
      name: 'layerNorm [4096,1024]', fn: (p, q, r) => k.nn.layerNorm(p!, [COLS], q!, r!), inputs: [x2, w, b],
      tfjs: () => tf.tidy(() => {
        const { mean, variance } = tf.moments(t2, 1, true);
        return tf.add(tf.mul(tf.div(tf.sub(t2, mean), tf.sqrt(tf.add(variance, 1e-5))), tw), tb);
      }),
    },
    {
      name: 'gelu(x*a+b) 4M, tanh', fn: (p, q, r) => geluTanh(p!.mul(q!).add(r!)), inputs: [x1, a, c],
      tfjs: () => tf.tidy(() => {
        const y = tf.add(tf.mul(t1, ta), tc);
        const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(y, tf.mul(0.044715, tf.pow(y, 3))));
        return tf.mul(tf.mul(0.5, y), tf.add(1, tf.tanh(inner)));
      }),
    },
  ];
  const rows: string[][] = [];
  const results: Record<string, unknown> = {};
  for (const wl of workloads) {
    const specs = specsOf(wl.fn, wl.inputs);
    const onWasm = prepare(wasm, specs), onJs = prepare(js, specs);
    onWasm.run();
    onJs.run();
    const same = onWasm.out().every((v, i, all) => Object.is(v, onJs.out()[i]) || (Number.isNaN(v) && Number.isNaN(all[i])));
    const before = { ...wasm.compiled };
    const kinds = specs.map((s) => s.kind).join('+');
    const m = rounds({ 'kiln wasm': onWasm.run, 'kiln js': onJs.run, 'tfjs-wasm': tfSide(wl.tfjs) }, 3);
    const wasmMs = m['kiln wasm']!.median;
    const ratio = { 'js / wasm (speedup)': m['kiln js']!.median / wasmMs, 'wasm / tfjs-wasm (time)': wasmMs / m['tfjs-wasm']!.median };
    const times = Object.values(m).map((x) => fmtNumber(x.median));
    rows.push([wl.name, kinds, ...times, ...Object.values(ratio).map((r) => r.toFixed(2)), same ? 'yes' : 'NO']);
    results[wl.name] = { kernels: kinds, compiledDuringTiming: wasm.compiled.wasm - before.wasm, sameBits: same, ...m, ratio };
  }
  console.log(formatTable(['workload', 'kernels', 'wasm ms', 'js ms', 'tfjs-wasm ms', 'js/wasm', 'wasm/tfjs', 'same bits'], rows));
  console.log(`kernels by path: ${JSON.stringify(wasm.compiled)}`);
  console.log(`saved ${saveJson(resultsPath('wasm-kernels'), { rounds: ROUNDS, compiled: wasm.compiled, results })}`);
}

await main();
