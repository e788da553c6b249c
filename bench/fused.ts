/**
 * Fused workloads, every implementation side by side in one run:
 *
 *   kiln eager · kiln jit · tfjs-cpu · tfjs-wasm (SIMD) · hand-written JS (bench/hand.ts)
 *
 * "hand JS" calls kiln's own float32 erf and exp, so it differs from kiln only in how the
 * loop is written; "hand (Math.*)" is the same loop on Math.exp (gelu and softmax only).
 *
 *   npm run bench   (compiles with tsconfig.bench.json, runs dist/bench/eager.js, then this)
 *   node dist/bench/fused.js   (this one alone, after a build)
 *
 * Workloads: gelu(x*a+b) on 4M elements (exact erf form), softmax and layerNorm over the
 * last axis of [4096, 1024], square matmuls of 512 and 1024, one SGD training step of an
 * MLP 784-256-256-10 (ReLU, batch 128, cross entropy, the first MNIST test images), and
 * the per-call cost of a jit'd chain of 10 elementwise ops on [16] tensors.
 *
 * Method:
 *   - every implementation gets the same input values (drawn once from kiln's seeded randn)
 *     and its output is checked against kiln eager before anything is timed;
 *   - times are medians over interleaved rounds (each round times every implementation in
 *     turn, starting one further along each round) so that drift on a busy machine hits all
 *     of them alike; warm-up calls come before the first round, and one more untimed call
 *     starts each round;
 *   - a call is "inputs in, a new result out": no readback (kiln, tfjs-cpu and tfjs-wasm all
 *     compute synchronously, so the result exists when the call returns), and the hand
 *     loops allocate their output like the libraries do. tfjs results are disposed inside
 *     the timed call, as a tfjs program must;
 *   - the kiln jit column replays the compiled kernels (calls 1 and 2 trace eagerly).
 *
 * tfjs-node is not a baseline: it runs libtensorflow natively, while everything here is one
 * thread of JavaScript or WebAssembly (the wasm backend runs single-threaded in Node).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, sep } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths, version_wasm } from '@tensorflow/tfjs-backend-wasm';
import * as k from '../src/node.js';
import * as hand from './hand.js';
import { registerTrainingGradients } from './tfjs-gradients.js';
import { tfjsMlp } from './tfjs-mlp.js';
import { environment, fmtNumber, formatTable, maxAbsDiff, measure, mergeRounds, resultsPath, saveJson, type Measurement, type MeasureOptions, excess, type Tolerance } from './harness.js';
import { BATCH, LR, SIZES, kilnStep, linears, mlpModel } from './mlp.js';

// Implementations.

const IMPLS = ['eager', 'jit', 'tfjsCpu', 'tfjsWasm', 'hand', 'handMath'] as const;
type Impl = (typeof IMPLS)[number];

const HEADERS: Record<Impl, string> = {
  eager: 'kiln eager',
  jit: 'kiln jit',
  tfjsCpu: 'tfjs-cpu',
  tfjsWasm: 'tfjs-wasm',
  hand: 'hand JS',
  handMath: 'hand (Math.*)',
};

/** The tfjs backend an implementation needs active while it runs. */
const BACKEND: Partial<Record<Impl, 'cpu' | 'wasm'>> = { tfjsCpu: 'cpu', tfjsWasm: 'wasm' };

type Sides = Partial<Record<Impl, () => unknown>>;
type Timings = Partial<Record<Impl, Measurement>>;

async function useBackend(impl: Impl): Promise<void> {
  const backend = BACKEND[impl];
  if (backend === undefined || tf.getBackend() === backend) return;
  await tf.setBackend(backend);
  if (tf.getBackend() !== backend) throw new Error(`tfjs backend is ${tf.getBackend()}, expected ${backend}`);
}

interface TimeOptions extends MeasureOptions {
  rounds?: number;
  /** Untimed calls at the start of every round (see timeSides); default 1. */
  roundWarmup?: number;
}

/**
 * Times every side in interleaved rounds and combines each side's rounds: the median of the
 * per-round medians, the overall min and the worst p90. `runs` and `minTimeMs` are totals
 * over all rounds.
 *
 * Each round of a side starts with an untimed call: the switch from the previous side
 * leaves that side's garbage to collect and caches holding its data, and the first call
 * would pay for both. Forcing a full collection between sides instead would be worse: V8
 * then returns the freed buffers to the OS, and the next calls of an allocating side pay
 * page faults for fresh memory that a steady loop never sees.
 */
async function timeSides(name: string, sides: Sides, opts: TimeOptions): Promise<Timings> {
  const impls = IMPLS.filter((i) => sides[i] !== undefined);
  const rounds = opts.rounds ?? 3;
  const per: MeasureOptions = { runs: Math.max(1, Math.ceil((opts.runs ?? 9) / rounds)), minTimeMs: (opts.minTimeMs ?? 0) / rounds };
  if (opts.maxRuns !== undefined) per.maxRuns = opts.maxRuns;
  const samples: Partial<Record<Impl, Measurement[]>> = {};
  for (const impl of impls) {
    await useBackend(impl);
    measure(`${name} ${impl} warm-up`, sides[impl]!, { warmup: opts.warmup ?? 3, runs: 1 });
  }
  for (let r = 0; r < rounds; r++) {
    for (let j = 0; j < impls.length; j++) {
      const impl = impls[(j + r) % impls.length]!;
      await useBackend(impl);
      (samples[impl] ??= []).push(measure(`${name} ${impl}`, sides[impl]!, { ...per, warmup: opts.roundWarmup ?? 1 }));
    }
  }
  const out: Timings = {};
  for (const impl of impls) out[impl] = mergeRounds(samples[impl]!);
  return out;
}


/** Scales every time of a measurement (e.g. from ms per 1000 calls to µs per call). */
function scaled(m: Measurement, f: number): Measurement {
  return { ...m, median: m.median * f, min: m.min * f, p90: m.p90 * f, mean: m.mean * f };
}

// Correctness.


/**
 * Compares every implementation's output with kiln eager's, prints the max abs differences
 * and fails the run when one is off by more than its tolerance: a fast wrong answer is not
 * a result. kiln jit must reproduce eager bit for bit.
 */
function check(name: string, ref: ArrayLike<number>, outs: Partial<Record<Impl, ArrayLike<number>>>, tol: Partial<Record<Impl, Tolerance>>): Partial<Record<Impl, number>> {
  const diffs: Partial<Record<Impl, number>> = {};
  const parts: string[] = [];
  for (const impl of IMPLS) {
    const out = outs[impl];
    if (out === undefined) continue;
    const d = maxAbsDiff(ref, out);
    diffs[impl] = d;
    parts.push(`${HEADERS[impl]} ${d === 0 ? '0' : d.toExponential(2)}`);
    const t = tol[impl] ?? { atol: 0, rtol: 0 };
    if (!(excess(ref, out, t.rtol) <= t.atol)) {
      throw new Error(`${name}: ${HEADERS[impl]} disagrees with kiln eager (max |diff| ${d}; tolerance ${t.atol} + ${t.rtol}*|x|)`);
    }
  }
  console.log(`check ${name}: max |diff| vs kiln eager: ${parts.join(', ')}`);
  return diffs;
}

/** Calls a jit'd function until it replays, and reports how many kernels a replay runs. */
function compile<A extends unknown[]>(fn: k.JitFunction<(...args: A) => k.Tensor>, ...args: A): { out: k.Tensor; kernels: number | undefined } {
  let out = fn(...args);
  for (let i = 0; i < 2; i++) out = fn(...args);
  if (fn.stats.replays === 0) throw new Error('the jit did not compile: no replay after three calls');
  return { out, kernels: fn.explain(...args).variants[0]?.kernelCount };
}

// Inputs.

/** Tensors (or arrays) of each library holding one set of values. */
interface Input {
  values: Float32Array;
  kt: k.Tensor;
  cpu: tf.Tensor;
  wasm: tf.Tensor;
}

/** Runs `make` with a tfjs backend active, so the tensors it creates live on that backend. */
async function onBackend<T>(backend: 'cpu' | 'wasm', make: () => T): Promise<T> {
  await tf.setBackend(backend);
  return make();
}

/** One set of N(0, 1) values; tfjs keeps the array a tensor is made from, so each side gets its own copy. */
async function input(shape: number[]): Promise<Input> {
  const values = k.randn(shape).data<'float32'>();
  return {
    values,
    kt: k.tensor(values.slice(), { shape }),
    cpu: await onBackend('cpu', () => tf.tensor(values.slice(), shape, 'float32')),
    wasm: await onBackend('wasm', () => tf.tensor(values.slice(), shape, 'float32')),
  };
}

/** Runs a tfjs computation and disposes its result (and, through tidy, every intermediate). */
function tfRun(f: () => tf.Tensor): () => void {
  return () => tf.tidy(f).dispose();
}

/** A tfjs computation's result as an array, for the checks. */
async function tfValues(backend: 'cpu' | 'wasm', f: () => tf.Tensor): Promise<Float32Array> {
  await tf.setBackend(backend);
  const t = tf.tidy(f);
  const v = t.dataSync() as Float32Array;
  t.dispose();
  return v.slice();
}

// The tfjs WebAssembly backend.

interface WasmInfo {
  version: string;
  simd: boolean;
  threads: boolean;
  binary: string;
}

/**
 * Loads the wasm backend from the package's own dist files (no network), and proves that
 * the SIMD build is what runs: tfjs picks the binary from feature flags, so the flags are
 * checked, and the bytes the backend instantiates are compared with the SIMD binary.
 */
async function initWasm(): Promise<WasmInfo> {
  const require = createRequire(import.meta.url);
  const simdPath = require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm');
  setWasmPaths(dirname(simdPath) + sep);
  const api = (globalThis as unknown as { WebAssembly: { instantiate: (...args: unknown[]) => Promise<unknown> } }).WebAssembly;
  const original = api.instantiate;
  const instantiated: Uint8Array[] = [];
  api.instantiate = (...args: unknown[]) => {
    const bytes = args[0];
    if (ArrayBuffer.isView(bytes)) instantiated.push(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    else if (bytes instanceof ArrayBuffer) instantiated.push(new Uint8Array(bytes));
    return Reflect.apply(original, api, args) as Promise<unknown>;
  };
  try {
    if (!(await tf.setBackend('wasm'))) throw new Error('the tfjs wasm backend failed to initialize');
  } finally {
    api.instantiate = original;
  }
  const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
  const threads = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT');
  if (!simd) throw new Error('this Node has no WebAssembly SIMD: tfjs-wasm would run its scalar build');
  const simdBytes = readFileSync(simdPath);
  if (!instantiated.some((b) => simdBytes.equals(b))) throw new Error('tfjs-wasm did not instantiate its SIMD binary');
  return { version: version_wasm, simd, threads, binary: 'tfjs-backend-wasm-simd.wasm' };
}

// Workloads.

interface Workload {
  workload: string;
  unit: string;
  /** Median per implementation, in `unit`. */
  values: Partial<Record<Impl, number>>;
  maxAbsDiff: Partial<Record<Impl, number>>;
  /** Kernels a kiln jit replay runs. */
  jitKernels?: number;
  flops?: number;
  raw: Timings;
}

function workload(name: string, unit: string, t: Timings, diffs: Partial<Record<Impl, number>>, extra: { scale?: number; jitKernels?: number | undefined; flops?: number } = {}): Workload {
  const scale = extra.scale ?? 1;
  const values: Partial<Record<Impl, number>> = {};
  const raw: Timings = {};
  for (const impl of IMPLS) {
    const m = t[impl];
    if (m === undefined) continue;
    raw[impl] = scaled(m, scale);
    values[impl] = m.median * scale;
  }
  const w: Workload = { workload: name, unit, values, maxAbsDiff: diffs, raw };
  if (extra.jitKernels !== undefined) w.jitKernels = extra.jitKernels;
  if (extra.flops !== undefined) w.flops = extra.flops;
  return w;
}

async function gelu(): Promise<Workload> {
  const n = 4 * 1024 * 1024;
  const x = await input([n]), a = await input([n]), b = await input([n]);
  const f = (x: k.Tensor, a: k.Tensor, b: k.Tensor): k.Tensor => k.gelu(x.mul(a).add(b));
  const jitted = k.jit(f);
  const { out, kernels } = compile(jitted, x.kt, a.kt, b.kt);
  // tfjs has no gelu: it is composed from the same ops kiln's gelu lowers to.
  const tfGelu = (x: tf.Tensor, a: tf.Tensor, b: tf.Tensor): tf.Tensor => {
    const y = tf.add(tf.mul(x, a), b);
    return tf.mul(tf.mul(y, 0.5), tf.add(tf.erf(tf.mul(y, Math.SQRT1_2)), 1));
  };
  const ref = f(x.kt, a.kt, b.kt).data<'float32'>();
  // Values reach |y| ~ 20; float64 intermediates and other erf approximations (tfjs and the
  // Math variant use A&S 7.1.26, |error| <= 1.5e-7) differ by a few float32 ulps.
  const loose = { atol: 1e-6, rtol: 2e-6 };
  const diffs = check('gelu', ref, {
    jit: out.data<'float32'>(),
    tfjsCpu: await tfValues('cpu', () => tfGelu(x.cpu, a.cpu, b.cpu)),
    tfjsWasm: await tfValues('wasm', () => tfGelu(x.wasm, a.wasm, b.wasm)),
    hand: hand.geluKiln(x.values, a.values, b.values),
    handMath: hand.geluMath(x.values, a.values, b.values),
  }, { tfjsCpu: loose, tfjsWasm: loose, hand: loose, handMath: loose });
  const t = await timeSides('gelu', {
    eager: () => f(x.kt, a.kt, b.kt),
    jit: () => jitted(x.kt, a.kt, b.kt),
    tfjsCpu: tfRun(() => tfGelu(x.cpu, a.cpu, b.cpu)),
    tfjsWasm: tfRun(() => tfGelu(x.wasm, a.wasm, b.wasm)),
    hand: () => hand.geluKiln(x.values, a.values, b.values),
    handMath: () => hand.geluMath(x.values, a.values, b.values),
  }, { warmup: 3, runs: 10, minTimeMs: 2000, rounds: 5 });
  return workload('gelu(x*a+b) [4M]', 'ms', t, diffs, { jitKernels: kernels });
}

async function softmax(): Promise<Workload> {
  const [rows, cols] = [4096, 1024];
  const x = await input([rows, cols]);
  const f = (x: k.Tensor): k.Tensor => x.softmax(-1);
  const jitted = k.jit(f);
  const { out, kernels } = compile(jitted, x.kt);
  const ref = f(x.kt).data<'float32'>();
  const tol = { atol: 1e-7, rtol: 1e-6 };
  const diffs = check('softmax', ref, {
    jit: out.data<'float32'>(),
    tfjsCpu: await tfValues('cpu', () => tf.softmax(x.cpu, -1)),
    tfjsWasm: await tfValues('wasm', () => tf.softmax(x.wasm, -1)),
    hand: hand.softmaxKiln(x.values, rows, cols),
    handMath: hand.softmaxMath(x.values, rows, cols),
  }, { tfjsCpu: tol, tfjsWasm: tol, hand: tol, handMath: tol });
  const t = await timeSides('softmax', {
    eager: () => f(x.kt),
    jit: () => jitted(x.kt),
    tfjsCpu: tfRun(() => tf.softmax(x.cpu, -1)),
    tfjsWasm: tfRun(() => tf.softmax(x.wasm, -1)),
    hand: () => hand.softmaxKiln(x.values, rows, cols),
    handMath: () => hand.softmaxMath(x.values, rows, cols),
  }, { warmup: 3, runs: 10, minTimeMs: 2000, rounds: 5 });
  return workload('softmax [4096,1024] axis -1', 'ms', t, diffs, { jitKernels: kernels });
}

async function layerNorm(): Promise<Workload> {
  const [rows, cols] = [4096, 1024];
  const eps = 1e-5;
  const x = await input([rows, cols]), w = await input([cols]), b = await input([cols]);
  const f = (x: k.Tensor, w: k.Tensor, b: k.Tensor): k.Tensor => k.nn.layerNorm(x, [cols], w, b, eps);
  const jitted = k.jit(f);
  const { out, kernels } = compile(jitted, x.kt, w.kt, b.kt);
  // tfjs has no layerNorm op. tf.batchNorm only broadcasts statistics along the last axis
  // (per channel), not per row, so the per-row form is composed: moments, then the affine.
  const tfLayerNorm = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor): tf.Tensor => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), w), b);
  };
  const ref = f(x.kt, w.kt, b.kt).data<'float32'>();
  const tol = { atol: 1e-6, rtol: 2e-6 };
  // tfjs-wasm sums each row in float32 (kiln and the hand loop in float64): the error of the
  // row statistics, scaled by the weight, shows up as a few 1e-6 in the outputs.
  const float32Sums = { atol: 3e-5, rtol: 2e-6 };
  const diffs = check('layerNorm', ref, {
    jit: out.data<'float32'>(),
    tfjsCpu: await tfValues('cpu', () => tfLayerNorm(x.cpu, w.cpu, b.cpu)),
    tfjsWasm: await tfValues('wasm', () => tfLayerNorm(x.wasm, w.wasm, b.wasm)),
    hand: hand.layerNorm(x.values, w.values, b.values, rows, cols, eps),
  }, { tfjsCpu: float32Sums, tfjsWasm: float32Sums, hand: tol });
  const t = await timeSides('layerNorm', {
    eager: () => f(x.kt, w.kt, b.kt),
    jit: () => jitted(x.kt, w.kt, b.kt),
    tfjsCpu: tfRun(() => tfLayerNorm(x.cpu, w.cpu, b.cpu)),
    tfjsWasm: tfRun(() => tfLayerNorm(x.wasm, w.wasm, b.wasm)),
    hand: () => hand.layerNorm(x.values, w.values, b.values, rows, cols, eps),
  }, { warmup: 3, runs: 10, minTimeMs: 2000, rounds: 5 });
  return workload('layerNorm [4096,1024] axis -1', 'ms', t, diffs, { jitKernels: kernels });
}

async function matmul(n: number): Promise<Workload> {
  const a = await input([n, n]), b = await input([n, n]);
  const f = (a: k.Tensor, b: k.Tensor): k.Tensor => a.matmul(b);
  const jitted = k.jit(f);
  const { out, kernels } = compile(jitted, a.kt, b.kt);
  const ref = f(a.kt, b.kt).data<'float32'>();
  // Sums of n products of N(0,1) values: float32 rounding differs with summation order, and
  // with the accumulator (hand JS sums in float64; kiln's Wasm kernel, like tfjs, in float32).
  const other = { atol: 1e-3, rtol: 0 };
  const diffs = check(`matmul ${n}`, ref, {
    jit: out.data<'float32'>(),
    tfjsCpu: await tfValues('cpu', () => tf.matMul(a.cpu, b.cpu)),
    tfjsWasm: await tfValues('wasm', () => tf.matMul(a.wasm, b.wasm)),
    hand: hand.matmul(a.values, b.values, n, n, n),
  }, { tfjsCpu: other, tfjsWasm: other, hand: other });
  const opts: TimeOptions = n <= 512 ? { warmup: 2, runs: 10, minTimeMs: 1500, rounds: 5 } : { warmup: 1, runs: 6, rounds: 3 };
  const t = await timeSides(`matmul${n}`, {
    eager: () => f(a.kt, b.kt),
    jit: () => jitted(a.kt, b.kt),
    tfjsCpu: tfRun(() => tf.matMul(a.cpu, b.cpu)),
    tfjsWasm: tfRun(() => tf.matMul(a.wasm, b.wasm)),
    hand: () => hand.matmul(a.values, b.values, n, n, n),
  }, opts);
  return workload(`matmul ${n}x${n}`, 'ms', t, diffs, { jitKernels: kernels, flops: 2 * n ** 3 });
}

// The MLP training step.

/** The same step in tfjs on one backend, from kiln's initial weights (transposed to [in, out]). */
async function tfjsMlpOn(backend: 'cpu' | 'wasm', init: k.nn.Linear[], xs: Float32Array, labels: Int32Array) {
  await tf.setBackend(backend);
  const x = tf.tensor2d(xs.slice(), [BATCH, SIZES[0]]);
  const y = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), SIZES[3]), 'float32')) as tf.Tensor2D;
  const { params, step } = tfjsMlp(init, x, y, LR);
  const weights = (): Float32Array[] => params.map(({ w }) => w.dataSync() as Float32Array);
  return { step, weights };
}

async function mlpStep(): Promise<Workload> {
  registerTrainingGradients();
  const mnist = k.data.loadMnist();
  const x = mnist.images.narrow(0, 0, BATCH).reshape([BATCH, SIZES[0]]).contiguous();
  const y = mnist.labels.narrow(0, 0, BATCH).contiguous();
  const xs = x.data<'float32'>(), ys = y.data<'int32'>();

  k.manualSeed(0);
  const eagerModel = mlpModel(), jitModel = mlpModel();
  jitModel.loadStateDict(eagerModel.stateDict());
  const init = linears(eagerModel);
  const handLayers: hand.HandLinear[] = init.map((l) => ({
    weight: l.weight.data<'float32'>(), bias: l.bias!.data<'float32'>(), inFeatures: l.inFeatures, outFeatures: l.outFeatures,
  }));
  const tfCpu = await tfjsMlpOn('cpu', init, xs, ys);
  const tfWasm = await tfjsMlpOn('wasm', init, xs, ys);
  const eagerStep = kilnStep(eagerModel), jitStep = k.jit(kilnStep(jitModel));

  const sides: Sides = {
    eager: () => eagerStep(x, y).item(),
    jit: () => jitStep(x, y).item(),
    tfjsCpu: tfCpu.step,
    tfjsWasm: tfWasm.step,
    hand: () => hand.mlpStep(handLayers, xs, ys, BATCH, LR),
  };
  // Four steps from the same weights: the jit traces calls 1-2 and replays from call 3.
  const losses: Partial<Record<Impl, number[]>> = {};
  for (let s = 0; s < 4; s++) {
    for (const impl of IMPLS) {
      if (sides[impl] === undefined) continue;
      await useBackend(impl);
      (losses[impl] ??= []).push(sides[impl]!() as number);
    }
  }
  if (jitStep.stats.replays === 0) throw new Error('the training step did not compile');
  const kernels = jitStep.explain(x, y).variants[0]?.kernelCount;
  // Weights after the checked steps, as [in, out] (tfjs's layout) for every side.
  const transposed = (w: Float32Array, out: number, inF: number): Float32Array => {
    const t = new Float32Array(w.length);
    for (let o = 0; o < out; o++) for (let i = 0; i < inF; i++) t[i * out + o] = w[o * inF + i]!;
    return t;
  };
  const kilnWeights = (m: k.nn.Sequential) => linears(m).map((l) => l.weight.t().contiguous().data<'float32'>());
  await tf.setBackend('cpu');
  const cpuWeights = tfCpu.weights();
  await tf.setBackend('wasm');
  const wasmWeights = tfWasm.weights();
  const weights: Partial<Record<Impl, Float32Array[]>> = {
    eager: kilnWeights(eagerModel),
    jit: kilnWeights(jitModel),
    tfjsCpu: cpuWeights,
    tfjsWasm: wasmWeights,
    hand: handLayers.map((l) => transposed(l.weight, l.outFeatures, l.inFeatures)),
  };
  const flat = (ws: Float32Array[]): Float32Array => {
    const out = new Float32Array(ws.reduce((s, w) => s + w.length, 0));
    let o = 0;
    for (const w of ws) { out.set(w, o); o += w.length; }
    return out;
  };
  // Losses of the four steps followed by every weight, so one check covers both.
  const state = (impl: Impl): Float32Array => flat([Float32Array.from(losses[impl]!), ...weights[impl]!]);
  const near = { atol: 1e-5, rtol: 0 };
  const diffs = check('MLP step (4 losses + weights)', state('eager'), {
    jit: state('jit'), tfjsCpu: state('tfjsCpu'), tfjsWasm: state('tfjsWasm'), hand: state('hand'),
  }, { tfjsCpu: near, tfjsWasm: near, hand: near });

  const tensorsBefore = tf.memory().numTensors;
  const t = await timeSides('mlp', sides, { warmup: 3, runs: 20, minTimeMs: 2500, maxRuns: 300, rounds: 5 });
  // tfjs frees memory only on dispose: a leaking step would be cheaper than a real loop.
  if (tf.memory().numTensors !== tensorsBefore) throw new Error(`the tfjs step leaks tensors (${tensorsBefore} before timing, ${tf.memory().numTensors} after)`);
  return workload(`MLP ${SIZES.join('-')} SGD step, batch ${BATCH}`, 'ms', t, diffs, { jitKernels: kernels });
}

// Per-call overhead.

/** 10 chained elementwise ops: add, mul, sub, mul, add, maximum, mul, sub, mul, tanh. */
function chain(a: k.Tensor, b: k.Tensor): k.Tensor {
  let x = a.add(b).mul(b).sub(a).mul(0.5).add(1);
  x = x.maximum(a);
  return x.mul(x).sub(0.25).mul(b).tanh();
}

function tfChain(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  let x = tf.add(tf.mul(tf.sub(tf.mul(tf.add(a, b), b), a), 0.5), 1);
  x = tf.maximum(x, a);
  return tf.tanh(tf.mul(tf.sub(tf.mul(x, x), 0.25), b));
}

async function overhead(): Promise<Workload> {
  const a = await input([16]), b = await input([16]);
  const jitted = k.jit(chain);
  const { out, kernels } = compile(jitted, a.kt, b.kt);
  const ref = chain(a.kt, b.kt).data<'float32'>();
  const tol = { atol: 1e-6, rtol: 1e-6 };
  const diffs = check('10-op chain [16]', ref, {
    jit: out.data<'float32'>(),
    tfjsCpu: await tfValues('cpu', () => tfChain(a.cpu, b.cpu)),
    tfjsWasm: await tfValues('wasm', () => tfChain(a.wasm, b.wasm)),
    hand: hand.chain(a.values, b.values),
  }, { tfjsCpu: tol, tfjsWasm: tol, hand: tol });
  // 1000 calls per sample: the sample in ms is then the time per call in µs.
  const CALLS = 1000;
  const repeat = (fn: () => unknown) => () => {
    let r: unknown;
    for (let i = 0; i < CALLS; i++) r = fn();
    return r;
  };
  const t = await timeSides('chain', {
    eager: repeat(() => chain(a.kt, b.kt)),
    jit: repeat(() => jitted(a.kt, b.kt)),
    tfjsCpu: repeat(tfRun(() => tfChain(a.cpu, b.cpu))),
    tfjsWasm: repeat(tfRun(() => tfChain(a.wasm, b.wasm))),
    hand: repeat(() => hand.chain(a.values, b.values)),
  }, { warmup: 20, runs: 30, minTimeMs: 2000, rounds: 5 });
  return workload('10-op chain on [16], per call', 'us', t, diffs, { scale: 1000 / CALLS, jitKernels: kernels });
}

// Report.

interface Target {
  target: string;
  measured: string;
  met: boolean;
}

function ratio(w: Workload, num: Impl, den: Impl): number {
  return (w.values[num] ?? NaN) / (w.values[den] ?? NaN);
}

function fmtRatio(x: number): string {
  return Number.isFinite(x) ? `${fmtNumber(x)}x` : 'n/a';
}

function targets(ws: Record<'gelu' | 'softmax' | 'layerNorm' | 'mm512' | 'mm1024' | 'mlp' | 'overhead', Workload>): Target[] {
  const out: Target[] = [];
  const atMost = (target: string, value: number, limit: number, show: string) => out.push({ target, measured: show, met: value <= limit });
  const atLeast = (target: string, value: number, limit: number, show: string) => out.push({ target, measured: show, met: value >= limit });
  // The MLP step is many kernels rather than one, but the hand-written step is its ceiling all the same.
  for (const w of [ws.gelu, ws.softmax, ws.layerNorm, ws.mm512, ws.mm1024, ws.mlp]) {
    const r = ratio(w, 'jit', 'hand');
    atMost(`${w.workload}: jit within 1.3x of hand JS`, r, 1.3, `jit/hand ${fmtRatio(r)}`);
  }
  const geluEager = ratio(ws.gelu, 'eager', 'jit');
  atLeast('gelu: jit >= 2.5x faster than eager', geluEager, 2.5, `eager/jit ${fmtRatio(geluEager)}`);
  const geluWasm = ratio(ws.gelu, 'tfjsWasm', 'jit');
  atLeast('gelu: jit >= 2x faster than tfjs-wasm', geluWasm, 2, `wasm/jit ${fmtRatio(geluWasm)}`);
  const lnWasm = ratio(ws.layerNorm, 'tfjsWasm', 'jit');
  out.push({ target: 'layerNorm: jit faster than tfjs-wasm', measured: `wasm/jit ${fmtRatio(lnWasm)}`, met: lnWasm > 1 });
  const smEager = ratio(ws.softmax, 'eager', 'jit');
  atLeast('softmax: jit >= 2x faster than eager', smEager, 2, `eager/jit ${fmtRatio(smEager)}`);
  const mlpEager = ratio(ws.mlp, 'eager', 'jit');
  atLeast('MLP step: jit >= 2x faster than eager', mlpEager, 2, `eager/jit ${fmtRatio(mlpEager)}`);
  const us = ws.overhead.values.jit ?? NaN;
  atMost('jit per-call overhead <= 5 us (10 ops on [16])', us, 5, `${fmtNumber(us)} us/call`);
  return out;
}

function report(ws: Workload[]): string {
  const header = ['workload', 'unit', ...IMPLS.map((i) => HEADERS[i]), 'eager/jit', 'cpu/jit', 'wasm/jit', 'jit/hand', 'jit kernels'];
  const rows = ws.map((w) => [
    w.workload, w.unit,
    ...IMPLS.map((i) => fmtNumber(w.values[i] ?? NaN)),
    fmtRatio(ratio(w, 'eager', 'jit')), fmtRatio(ratio(w, 'tfjsCpu', 'jit')), fmtRatio(ratio(w, 'tfjsWasm', 'jit')), fmtRatio(ratio(w, 'jit', 'hand')),
    w.jitKernels === undefined ? '' : String(w.jitKernels),
  ]);
  const text = formatTable(header, rows);
  console.log(text);
  const throughput = ws.filter((w) => w.flops !== undefined).map((w) => [
    w.workload, 'GFLOP/s', ...IMPLS.map((i) => fmtNumber(w.values[i] === undefined ? NaN : w.flops! / (w.values[i]! * 1e6))),
  ]);
  const gflops = formatTable(['workload', 'unit', ...IMPLS.map((i) => HEADERS[i])], throughput);
  console.log(`\n${gflops}`);
  return `${text}\n\n${gflops}`;
}

async function main(): Promise<void> {
  // Production mode turns off tfjs's debug checks and its "install tfjs-node" notice.
  tf.enableProdMode();
  const wasm = await initWasm();
  await tf.setBackend('cpu');
  k.manualSeed(0);

  const env = environment();
  console.log(`node ${env.node}, ${env.cpu} x${env.cores}; tfjs-core ${tf.version_core}, tfjs-backend-cpu ${version_cpu}, tfjs-backend-wasm ${wasm.version} (${wasm.binary}, SIMD ${wasm.simd ? 'on' : 'off'}, threads ${wasm.threads ? 'on' : 'off'})`);
  console.log(`Times are medians of interleaved rounds after warm-up; ratios above 1 mean kiln jit is faster (jit/hand: how far jit is from hand-written JS).\n`);

  const ws = {
    gelu: await gelu(),
    softmax: await softmax(),
    layerNorm: await layerNorm(),
    mm512: await matmul(512),
    mm1024: await matmul(1024),
    mlp: await mlpStep(),
    overhead: await overhead(),
  };
  console.log('');
  const all = Object.values(ws);
  report(all);

  const ts = targets(ws);
  console.log('\ntargets');
  console.log(formatTable(['target', 'measured', 'status'], ts.map((t) => [t.target, t.measured, t.met ? 'met' : 'NOT MET'])));

  const path = saveJson(resultsPath('fused'), {
    versions: { tfjsCore: tf.version_core, tfjsBackendCpu: version_cpu, tfjsBackendWasm: wasm.version },
    wasm,
    columns: HEADERS,
    workloads: all,
    targets: ts,
  });
  console.log(`\nsaved ${path}`);
}

await main();
