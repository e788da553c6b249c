/**
 * The Wasm engine's kernels against the JavaScript engine's, TF.js Wasm SIMD and jax-js
 * (Wasm, jit), in one process with interleaved rounds: add (4M), row sums, softmax and
 * layerNorm [4096,1024], gelu(x·a+b) over 4M in its erf and tanh forms. kiln's sides run
 * the kernels jit compiles for each workload at the backend level: the Wasm backend over
 * buffers in its memory (on one thread and on all of them), the JavaScript engine's CPU
 * backend over typed arrays (the same specs, recorded from a traced call), each reading its
 * output back as the peers' sides do. Whether every thread count gives the one-thread bits,
 * and whether the JavaScript engine gives them too (the Wasm math library documents where
 * it differs: exp, erf), is checked before timing. Prints kiln's thread scaling and the ratios the
 * Wasm engine is judged by, for kiln on one thread (the peers run on one: TF.js's Wasm threads are
 * off in Node, jax-js has no workers there) and on all of them, and saves them as JSON; medians
 * of per-round medians, the one-thread ratios also in CPU time (steadier on a loaded machine).
 * Last, the readback alone: tensor.data() of [4096,1024] float32 against a bare copy out of the
 * same memory (new Float32Array(n) + set) and TF.js's dataSync (a slice of its heap), with the
 * page faults each takes (a fresh 16 MB array's pages cost more than the copy on this machine).
 *
 *   KILN_CPU=wasm npm run bench:wasm      (the engine the jit'd workloads must trace on; ROUNDS=n,
 *                                          ONLY=softmax,gelu runs the workloads whose names hold one)
 */
import { createRequire } from 'node:module';
import { dirname, sep } from 'node:path';
import * as jax from '@jax-js/jax';
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { wasm } from '../compiler/backends.js';
import { renderJs } from '../compiler/codegen/js.js';
import { jsHelpers } from '../compiler/codegen/js-helpers.js';
import type { KernelSpec } from '../compiler/kernel.js';
import { CpuBackend } from '../runtime/cpu/backend.js';
import { cpuEngine } from '../runtime/wasm/engine.js';
import { wasmHeap } from '../runtime/wasm/memory.js';
import * as k from '../src/index.js';
import { fmtNumber, formatTable, interleavedRounds, resultsPath, saveJson, type Measurement } from './harness.js';
import { prepare, sameBits, specsOf } from './kernel-replay.js';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const ONLY = process.env.ONLY?.split(',').filter((w) => w !== '') ?? [];
const ROWS = 4096, COLS = 1024, N = ROWS * COLS;

function rounds(sides: Record<string, () => unknown>, runs: number): Record<string, Measurement> {
  return interleavedRounds(sides, ROUNDS, runs, 2);
}

/**
 * Milliseconds of this process's CPU time per run of each side, median over interleaved
 * rounds: for sides that run on the calling thread alone (kiln on one thread and the peers
 * in Node), a time the other processes of a loaded machine barely move, where their
 * wall-clock times swing by 2× between runs.
 */
function cpuRounds(sides: Record<string, () => unknown>, runs: number): Record<string, number> {
  const names = Object.keys(sides);
  const per: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + r) % names.length]!;
      sides[name]!();
      const start = process.cpuUsage();
      for (let j = 0; j < runs; j++) sides[name]!();
      const used = process.cpuUsage(start);
      per[name]!.push((used.user + used.system) / 1000 / runs);
    }
  }
  return Object.fromEntries(names.map((n) => [n, per[n]!.sort((a, b) => a - b)[per[n]!.length >> 1]!]));
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

/** A jax-js side: a jit'd function of the arrays, its output read back. */
function jaxSide(fn: (...xs: jax.Array[]) => jax.Array, inputs: jax.Array[]): () => unknown {
  const f = jax.jit(fn);
  return () => f(...inputs.map((x) => x.ref)).dataSync();
}

interface Workload {
  name: string;
  fn: (...xs: k.Tensor[]) => k.Tensor;
  inputs: k.Tensor[];
  tfjs: () => tf.Tensor;
  jax: () => unknown;
}

/** The judged ratios: times of kiln over each peer's (below 1 is faster), on one thread and on all. */
const JUDGED: Record<string, { peer: 'tfjs-wasm' | 'jax-js'; atMost: number }[]> = {
  'softmax [4096,1024]': [{ peer: 'tfjs-wasm', atMost: 1 }],
  'layerNorm [4096,1024]': [{ peer: 'tfjs-wasm', atMost: 1 }],
  'gelu(x*a+b) 4M, erf': [{ peer: 'tfjs-wasm', atMost: 0.5 }, { peer: 'jax-js', atMost: 1 }],
  'gelu(x*a+b) 4M, tanh': [{ peer: 'tfjs-wasm', atMost: 0.5 }, { peer: 'jax-js', atMost: 1 }],
};

/** Minor page faults per run of each side, median over interleaved rounds of `runs` runs. */
function faultRounds(sides: Record<string, () => unknown>, runs: number): Record<string, number> {
  const names = Object.keys(sides);
  const per: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const name of names) {
      const before = process.resourceUsage().minorPageFault;
      for (let j = 0; j < runs; j++) sides[name]!();
      per[name]!.push((process.resourceUsage().minorPageFault - before) / runs);
    }
  }
  return Object.fromEntries(names.map((n) => [n, per[n]!.sort((a, b) => a - b)[per[n]!.length >> 1]!]));
}

/**
 * Reading [4096,1024] float32 back: kiln's tensor.data(), a bare copy out of the Wasm memory
 * into a fresh array, and TF.js's dataSync; wall and CPU milliseconds, and page faults.
 */
function readback(x: k.Tensor, t: tf.Tensor): Record<string, unknown> {
  const n = x.size;
  const sides = {
    'kiln data()': () => x.data(),
    'bare new Float32Array + set': () => {
      const out = new Float32Array(n);
      out.set(wasmHeap().elements('float32').subarray(0, n));
      return out;
    },
    'tfjs dataSync': () => t.dataSync(),
  };
  const m = rounds(sides, 3), cpu = cpuRounds(sides, 3), faults = faultRounds(sides, 3);
  const rows = Object.keys(sides).map((s) => [s, fmtNumber(m[s]!.median), fmtNumber(cpu[s]!), faults[s]!.toFixed(0)]);
  console.log(`\nreadback of [${x.shape.join(',')}] float32 (a fresh array each time):`);
  console.log(formatTable(['side', 'ms', 'CPU ms', 'page faults'], rows));
  const ratio = {
    'data() / bare copy (time)': m['kiln data()']!.median / m['bare new Float32Array + set']!.median,
    'data() / tfjs dataSync (time)': m['kiln data()']!.median / m['tfjs dataSync']!.median,
  };
  for (const [label, r] of Object.entries(ratio)) console.log(`${label}: ${r.toFixed(2)}`);
  return { ...m, cpuMs: cpu, pageFaults: faults, ratio };
}

async function main(): Promise<void> {
  if (cpuEngine() !== 'wasm') throw new Error('wasm-kernels bench: CPU tensors must live on the Wasm engine (KILN_CPU=wasm)');
  await initTfjsWasm();
  await jax.init('wasm');
  jax.defaultDevice('wasm');
  const threads = await k.threadsReady();
  const all = k.getNumThreads();
  if (threads !== all) throw new Error(`wasm-kernels bench: ${all} threads asked for, ${threads} started`);
  const js = new CpuBackend<KernelSpec>((spec) => ({ source: renderJs(spec), helpers: jsHelpers, sizes: [] }));
  k.manualSeed(0);
  const x2 = k.randn([ROWS, COLS]), w = k.randn([COLS]), b = k.randn([COLS]);
  const x1 = k.randn([N]), a = k.randn([N]), c = k.randn([N]);
  const t2 = tf.tensor2d(x2.data() as Float32Array, [ROWS, COLS]), tw = tf.tensor1d(w.data() as Float32Array);
  const tb = tf.tensor1d(b.data() as Float32Array);
  const t1 = tf.tensor1d(x1.data() as Float32Array), ta = tf.tensor1d(a.data() as Float32Array);
  const tc = tf.tensor1d(c.data() as Float32Array);
  const np = jax.numpy;
  const j2 = np.array(x2.data() as Float32Array).reshape([ROWS, COLS]), jw = np.array(w.data() as Float32Array);
  const jb = np.array(b.data() as Float32Array);
  const j1 = np.array(x1.data() as Float32Array), ja = np.array(a.data() as Float32Array);
  const jc = np.array(c.data() as Float32Array);
  const tfGelu = (form: 'erf' | 'tanh') => tf.tidy(() => {
    const y = tf.add(tf.mul(t1, ta), tc);
    if (form === 'erf') return tf.mul(tf.mul(0.5, y), tf.add(1, tf.erf(tf.mul(y, Math.SQRT1_2))));
    const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(y, tf.mul(0.044715, tf.pow(y, 3))));
    return tf.mul(tf.mul(0.5, y), tf.add(1, tf.tanh(inner)));
  });
  const gelu = (form: 'erf' | 'tanh'): Workload => ({
    name: `gelu(x*a+b) 4M, ${form}`, fn: (p, q, r) => k.gelu(p!.mul(q!).add(r!), form === 'erf' ? 'none' : 'tanh'),
    inputs: [x1, a, c], tfjs: () => tfGelu(form),
    jax: jaxSide((p, q, r) => jax.nn.gelu(p!.mul(q!).add(r!), { approximate: form === 'tanh' }), [j1, ja, jc]),
  });
  const workloads: Workload[] = [
    {
      name: 'add 4M', fn: (p, q) => p!.add(q!), inputs: [x1, a], tfjs: () => tf.add(t1, ta),
      jax: jaxSide((p, q) => p!.add(q!), [j1, ja]),
    },
    {
      name: 'sum rows [4096,1024]', fn: (p) => p!.sum(1), inputs: [x2], tfjs: () => tf.sum(t2, 1),
      jax: jaxSide((p) => p!.sum(1), [j2]),
    },
    {
      name: 'softmax [4096,1024]', fn: (p) => k.softmax(p!, 1), inputs: [x2], tfjs: () => tf.softmax(t2),
      jax: jaxSide((p) => jax.nn.softmax(p!, -1), [j2]),
    },
    {
      name: 'layerNorm [4096,1024]', fn: (p, q, r) => k.nn.layerNorm(p!, [COLS], q!, r!), inputs: [x2, w, b],
      tfjs: () => tf.tidy(() => {
        const { mean, variance } = tf.moments(t2, 1, true);
        return tf.add(tf.mul(tf.div(tf.sub(t2, mean), tf.sqrt(tf.add(variance, 1e-5))), tw), tb);
      }),
      jax: jaxSide((p, q, r) => jax.nn.standardize(p!, -1, { epsilon: 1e-5 }).mul(q!).add(r!), [j2, jw, jb]),
    },
    gelu('erf'),
    gelu('tanh'),
  ];
  const one = 'kiln wasm 1 thread', every = `kiln wasm ${all} threads`;
  const rows: string[][] = [];
  const judged: string[][] = [];
  const results: Record<string, unknown> = {};
  for (const wl of workloads.filter((w) => ONLY.length === 0 || ONLY.some((o) => w.name.includes(o)))) {
    const specs = specsOf(wl.fn, wl.inputs);
    const onWasm = prepare(wasm, specs), onJs = prepare(js, specs);
    const on = (n: number) => () => {
      k.setNumThreads(n);
      return onWasm.runAndRead();
    };
    on(1)();
    const single = onWasm.out();
    on(all)();
    onJs.run();
    const threadsSame = sameBits(single, onWasm.out());
    const engineSame = sameBits(single, onJs.out());
    const before = { ...wasm.compiled };
    const kinds = specs.map((s) => s.kind).join('+');
    const peers = { 'kiln js': onJs.runAndRead, 'tfjs-wasm': tfSide(wl.tfjs), 'jax-js': wl.jax };
    const sides = { [one]: on(1), [every]: on(all), ...peers };
    const m = rounds(sides, 3);
    const t = (side: string) => m[side]!.median;
    const cpu = cpuRounds({ [one]: on(1), 'tfjs-wasm': peers['tfjs-wasm'], 'jax-js': peers['jax-js'] }, 3);
    const ratio = {
      'thread scaling (1 / all)': t(one) / t(every),
      'js / wasm all (speedup)': t('kiln js') / t(every),
      'wasm 1 / tfjs-wasm (time)': t(one) / t('tfjs-wasm'),
      'wasm 1 / jax-js (time)': t(one) / t('jax-js'),
      'wasm all / tfjs-wasm (time)': t(every) / t('tfjs-wasm'),
      'wasm all / jax-js (time)': t(every) / t('jax-js'),
      'wasm 1 / tfjs-wasm (CPU time)': cpu[one]! / cpu['tfjs-wasm']!,
      'wasm 1 / jax-js (CPU time)': cpu[one]! / cpu['jax-js']!,
    };
    const times = Object.keys(sides).map((side) => fmtNumber(t(side)));
    const yes = (b: boolean) => (b ? 'yes' : 'NO');
    const ratios = Object.values(ratio).map((r) => r.toFixed(2));
    rows.push([wl.name, kinds, ...times, ...ratios, yes(threadsSame), yes(engineSame)]);
    for (const { peer, atMost } of JUDGED[wl.name] ?? []) {
      const pairs = [
        ['kiln 1 thread', t(one) / t(peer)], ['kiln 1 thread, CPU time', cpu[one]! / cpu[peer]!],
        [`kiln ${all} threads`, t(every) / t(peer)],
      ] as const;
      for (const [label, r] of pairs) {
        judged.push([wl.name, `${label} / ${peer}`, r.toFixed(2), `≤ ${atMost}`, r <= atMost ? 'met' : 'NOT met']);
      }
    }
    const compiledDuringTiming = wasm.compiled.wasm - before.wasm;
    const sameBitsAs = { oneThread: threadsSame, jsEngine: engineSame };
    results[wl.name] = { kernels: kinds, compiledDuringTiming, sameBitsAs, ...m, cpuMs: cpu, ratio };
  }
  k.setNumThreads(all);
  const header = ['workload', 'kernels', 'wasm 1T ms', `wasm ${all}T ms`, 'js ms', 'tfjs-wasm ms', 'jax-js ms'];
  const bits = ['1T bits = allT', 'wasm bits = js'];
  const ratioHeads = ['1T/allT', 'js/wasm', '1T/tfjs', '1T/jax', 'allT/tfjs', 'allT/jax', '1T/tfjs cpu', '1T/jax cpu'];
  console.log(formatTable([...header, ...ratioHeads, ...bits], rows));
  console.log(`\njudged (time ratios, kiln on 1 and on ${all} threads):`);
  console.log(formatTable(['workload', 'ratio', 'value', 'target', ''], judged));
  console.log(`kernels by path: ${JSON.stringify(wasm.compiled)}`);
  if (ONLY.length === 0 || ONLY.some((o) => 'readback'.includes(o))) results.readback = readback(x2, t2);
  const saved = { rounds: ROUNDS, threads: all, compiled: wasm.compiled, results };
  const path = saveJson(resultsPath('wasm-kernels'), saved);
  console.log(`saved ${path}`);
}

await main();
