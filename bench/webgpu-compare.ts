/**
 * WebGPU side by side, on one adapter in one run:
 *
 *   kiln eager on WebGPU · kiln jit on WebGPU · TensorFlow.js's WebGPU backend
 *
 *   npm run bench:webgpu   (compiles with tsconfig.bench.json, runs dist/bench/webgpu-compare.js)
 *   node dist/bench/webgpu-compare.js [--throttle=off] [--quick]
 *
 * Workloads: gelu(x*a+b) on 4M float32 elements (exact erf form), softmax and layerNorm
 * over the last axis of [4096, 1024], and one SGD training step (lr 0.01, cross entropy)
 * of an MLP 784-256-256-10 with ReLU on a batch of 128 MNIST test images.
 *
 * Method:
 *   - one Dawn instance (the `webgpu` package, created with no options, as kiln's
 *     acquireDevice does) serves as `navigator.gpu` for both libraries: kiln's
 *     `webgpu.init()` and tfjs's backend each request the adapter and a device of it;
 *   - every side gets the same input values (kiln's seeded randn), and its output is
 *     checked against kiln eager on the CPU before anything is timed; kiln jit is checked
 *     against kiln eager on WebGPU as well;
 *   - a timed call is "inputs on the GPU in, a new result out, and one element of it read
 *     back": the readback waits for the queued work, so the GPU time is counted. kiln reads
 *     a one-element view (only those 4 bytes are copied); tfjs reads a one-element slice.
 *     Results (and, for eager kiln and tfjs, every intermediate) are disposed in the call;
 *   - times are medians over interleaved rounds (each round times every side in turn,
 *     starting one further along each round, after one untimed call), so drift in the
 *     machine's load hits all sides alike; warm-up calls (pipelines, buffer pools, jit
 *     tracing) come before the first round.
 *
 * kiln's event-wait throttle (runtime/webgpu/throttle.ts) patches `setImmediate` for the
 * whole process, so it acts on tfjs's waits for the same Dawn instance too. kiln's
 * acquireDevice installs it by default, but only for a GPU object it created itself: with
 * Dawn exposed as `navigator.gpu` (as tfjs needs) it would not. So kiln's device is acquired
 * with `throttle: false` and this benchmark installs the throttle itself, with the defaults
 * acquireDevice uses, unless `--throttle=off`; that way it can also switch it off and on
 * for the last table, which times the gelu chain both ways, round by round.
 */
import { createRequire } from 'node:module';
import { create, globals } from 'webgpu';
import * as tf from '@tensorflow/tfjs-core';
import * as k from '../src/node.js';
import { eventWaitThrottleActive, eventWaitThrottleStats, installEventWaitThrottle, type ThrottleStats } from '../runtime/webgpu/throttle.js';
import { registerTrainingGradients } from './tfjs-gradients.js';
import { environment, fmtNumber, formatTable, maxAbsDiff, measureAsync, mergeRounds, resultsPath, saveJson, table, type Measurement, type MeasureOptions, excess, type Tolerance } from './harness.js';
import { BATCH, LR, SIZES, kilnStep, linears, mlpModel } from './mlp.js';
import { tfjsMlp } from './tfjs-mlp.js';

const argv = process.argv.slice(2);
const THROTTLE = !argv.includes('--throttle=off');
const QUICK = argv.includes('--quick');

// Systems.

const SYSTEMS = ['eager', 'jit', 'tfjs'] as const;
type System = (typeof SYSTEMS)[number];
const HEADERS: Record<System, string> = { eager: 'kiln eager', jit: 'kiln jit', tfjs: 'tfjs-webgpu' };

/** One timed call of a side: compute, read one element back, dispose; resolves to that element. */
type Call = () => Promise<number>;
type Sides = Record<System, Call>;
type Timings = Record<System, Measurement>;

// The device.

/** The throttle as this benchmark manages it: on or off, with acquireDevice's defaults. */
let removeThrottle: (() => void) | undefined;
function setThrottle(on: boolean): void {
  if (on && removeThrottle === undefined) removeThrottle = installEventWaitThrottle();
  if (!on && removeThrottle !== undefined) {
    removeThrottle();
    removeThrottle = undefined;
  }
}

interface Devices {
  kilnAdapter: string;
  tfjsAdapter: string;
  tfjsBackendVersion: string;
}

/**
 * Exposes Dawn as `navigator.gpu` (with the GPU* constants tfjs uses as globals), acquires
 * kiln's device and loads tfjs's WebGPU backend. The backend registers itself only when
 * `navigator.gpu` exists at import time, so it is imported here, after the setup.
 */
async function initDevices(): Promise<Devices> {
  Object.assign(globalThis, globals);
  // Node 21+ has a read-only `navigator` getter on globalThis: define over it.
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: create([]) }, configurable: true, writable: true });
  const { adapter } = await k.webgpu.init({ throttle: false });
  // Someone else's installation would keep the throttle on through the "off" phases.
  if (eventWaitThrottleActive()) throw new Error('the event-wait throttle is installed already: this benchmark could not switch it off');
  await import('@tensorflow/tfjs-backend-webgpu');
  const { version } = createRequire(import.meta.url)('@tensorflow/tfjs-backend-webgpu/package.json') as { version: string };
  let ok: boolean;
  try {
    ok = await tf.setBackend('webgpu');
  } catch (e) {
    throw new Error(`tfjs-backend-webgpu failed to initialize: ${(e as Error).stack ?? String(e)}`);
  }
  if (!ok || tf.getBackend() !== 'webgpu') throw new Error(`tfjs-backend-webgpu failed to initialize (backend is ${tf.getBackend()})`);
  const info = (tf.backend() as unknown as { adapterInfo?: { vendor?: string; architecture?: string } }).adapterInfo;
  const tfjsAdapter = info ? [info.vendor, info.architecture].filter((s) => s).join(' / ') : 'unknown';
  return { kilnAdapter: adapter, tfjsAdapter, tfjsBackendVersion: version };
}

// Reading one element.

/** Reads the first element of a kiln result through a one-element view, then disposes both. */
async function kilnFirst(y: k.Tensor): Promise<number> {
  const one = k.tidy(() => y.reshape([y.size]).narrow(0, 0, 1));
  y.dispose();
  try {
    return await one.itemAsync();
  } finally {
    one.dispose();
  }
}

/** Runs a tfjs computation, reads the first element of its result through a one-element slice; disposes everything. */
async function tfFirst(f: () => tf.Tensor): Promise<number> {
  const one = tf.tidy(() => tf.slice(tf.reshape(f(), [-1]), 0, 1));
  try {
    return (await one.data())[0]!;
  } finally {
    one.dispose();
  }
}

// Timing.

interface TimeOptions {
  warmup: number;
  /** Timed calls per side, in total over the rounds. */
  runs: number;
  rounds: number;
  /** Keep sampling until the timed calls of a side add up to this (in total over the rounds). */
  minTimeMs?: number;
  maxRuns?: number;
}

function timeOptions(o: TimeOptions): TimeOptions {
  return QUICK ? { ...o, runs: Math.min(o.runs, 2 * Math.min(o.rounds, 2)), rounds: Math.min(o.rounds, 2), minTimeMs: 0 } : o;
}

/**
 * Times every side in interleaved rounds and combines each side's rounds: the median of the
 * per-round medians, the overall min and the worst p90 (harness mergeRounds).
 */
async function timeSides<K extends string>(name: string, sides: Record<K, Call>, order: readonly K[], opts: TimeOptions, between?: (side: K) => void): Promise<Record<K, Measurement>> {
  const o = timeOptions(opts);
  const per: MeasureOptions = { warmup: 1, runs: Math.max(1, Math.ceil(o.runs / o.rounds)), minTimeMs: (o.minTimeMs ?? 0) / o.rounds };
  if (o.maxRuns !== undefined) per.maxRuns = Math.ceil(o.maxRuns / o.rounds);
  for (const side of order) {
    between?.(side);
    for (let i = 0; i < o.warmup; i++) await sides[side]();
  }
  const samples = {} as Record<K, Measurement[]>;
  for (let r = 0; r < o.rounds; r++) {
    for (let j = 0; j < order.length; j++) {
      const side = order[(j + r) % order.length]!;
      between?.(side);
      (samples[side] ??= []).push(await measureAsync(`${name} ${side}`, sides[side], per));
    }
  }
  const out = {} as Record<K, Measurement>;
  for (const side of order) out[side] = mergeRounds(samples[side]);
  return out;
}

/** Checks that kiln's live WebGPU tensors and tfjs's tensors did not grow while `fn` ran. */
async function flatMemory<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const before = { kiln: k.memory().webgpu.tensors, tfjs: tf.memory().numTensors };
  const out = await fn();
  const after = { kiln: k.memory().webgpu.tensors, tfjs: tf.memory().numTensors };
  // Only growth fails: leftovers of the checks may be collected (FinalizationRegistry) meanwhile.
  if (after.kiln > before.kiln || after.tfjs > before.tfjs) {
    throw new Error(`${name}: live tensors grew while timing (kiln webgpu ${before.kiln} -> ${after.kiln}, tfjs ${before.tfjs} -> ${after.tfjs})`);
  }
  return out;
}

// Correctness.

/**
 * Compares every side's output with kiln eager on the CPU (and kiln jit with kiln eager on
 * WebGPU), prints the max abs differences and fails the run when one is out of tolerance.
 */
function check(name: string, cpu: ArrayLike<number>, outs: Record<System, ArrayLike<number>>, tol: Tolerance): Record<System, number> {
  const diffs = {} as Record<System, number>;
  const parts: string[] = [];
  const fail = (what: string, ref: ArrayLike<number>, x: ArrayLike<number>, d: number) => {
    if (!(excess(ref, x, tol.rtol) <= tol.atol)) throw new Error(`${name}: ${what} (max |diff| ${d}; tolerance ${tol.atol} + ${tol.rtol}*|x|)`);
  };
  for (const s of SYSTEMS) {
    const d = maxAbsDiff(cpu, outs[s]);
    diffs[s] = d;
    parts.push(`${HEADERS[s]} ${d === 0 ? '0' : d.toExponential(2)}`);
    fail(`${HEADERS[s]} disagrees with kiln eager on the CPU`, cpu, outs[s], d);
  }
  const jitEager = maxAbsDiff(outs.eager, outs.jit);
  fail('kiln jit disagrees with kiln eager on WebGPU', outs.eager, outs.jit, jitEager);
  console.log(`check ${name}: max |diff| vs kiln eager on the CPU: ${parts.join(', ')}; kiln jit vs kiln eager (WebGPU): ${jitEager === 0 ? '0' : jitEager.toExponential(2)}`);
  return diffs;
}

/** Calls a jit'd function until it replays; the result of the last call and the kernels a replay runs. */
function compile<A extends unknown[]>(fn: k.JitFunction<(...args: A) => k.Tensor>, ...args: A): { out: k.Tensor; kernels: number | undefined } {
  let out = fn(...args);
  for (let i = 0; i < 2; i++) {
    out.dispose();
    out = fn(...args);
  }
  if (fn.stats.replays === 0) throw new Error('the jit did not compile: no replay after three calls');
  return { out, kernels: fn.explain(...args).variants[0]?.kernelCount };
}

/** Fails when a jit'd function did anything but replay while it was timed. */
function onlyReplays(name: string, fn: { stats: k.JitStats }, run: () => Promise<unknown>): () => Promise<unknown> {
  return async () => {
    const before = { ...fn.stats };
    const out = await run();
    const after = fn.stats;
    if (after.traces !== before.traces || after.fallbacks !== before.fallbacks || after.variants !== before.variants) {
      throw new Error(`${name}: the jit'd function traced or fell back while timed: ${JSON.stringify(before)} -> ${JSON.stringify(after)}`);
    }
    return out;
  };
}

// Inputs.

/** One set of N(0, 1) values from kiln's seeded randn, on the CPU (kiln), on WebGPU (kiln) and in tfjs. */
interface Input {
  values: Float32Array;
  cpu: k.Tensor;
  gpu: k.Tensor;
  tf: tf.Tensor;
}

function fromValues(values: Float32Array, shape: number[]): Input {
  return {
    values,
    cpu: k.tensor(values.slice(), { shape }),
    gpu: k.tensor(values.slice(), { shape, device: 'webgpu' }),
    tf: tf.tensor(values.slice(), shape, 'float32'),
  };
}

function input(shape: number[]): Input {
  return fromValues(k.randn(shape).data<'float32'>(), shape);
}

function filled(shape: number[], v: number): Input {
  return fromValues(new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(v), shape);
}

async function tfValues(f: () => tf.Tensor): Promise<Float32Array> {
  const t = tf.tidy(f);
  const v = (await t.data()) as Float32Array;
  t.dispose();
  return v;
}

async function kilnValues(t: k.Tensor): Promise<Float32Array> {
  const v = await t.dataAsync<'float32'>();
  t.dispose();
  return v;
}

// Workloads.

interface Workload {
  workload: string;
  unit: string;
  /** Median per system, in ms. */
  values: Record<System, number>;
  maxAbsDiffVsCpu: Record<System, number>;
  jitKernels?: number;
  /** What the tfjs side computes, where it is not one tfjs op. */
  tfjsForm?: string;
  raw: Timings;
}

function workload(name: string, t: Timings, diffs: Record<System, number>, extra: { jitKernels?: number | undefined; tfjsForm?: string } = {}): Workload {
  const values = {} as Record<System, number>;
  for (const s of SYSTEMS) values[s] = t[s].median;
  const w: Workload = { workload: name, unit: 'ms', values, maxAbsDiffVsCpu: diffs, raw: t };
  if (extra.jitKernels !== undefined) w.jitKernels = extra.jitKernels;
  if (extra.tfjsForm !== undefined) w.tfjsForm = extra.tfjsForm;
  return w;
}

const ELEMENTWISE_TIMING: TimeOptions = { warmup: 3, runs: 25, rounds: 5, minTimeMs: 2500, maxRuns: 100 };

// tfjs has no gelu op (tfjs-layers' gelu activation is not in core): it is composed from
// the same function, 0.5*y*(1 + erf(y/sqrt2)), with tf.erf, which on WebGPU evaluates
// Abramowitz & Stegun 7.1.26 (|error| <= 1.5e-7) in the shader.
const TFJS_GELU = '0.5*y*(1+tf.erf(y*SQRT1_2)), y = x*a+b (7 tfjs kernels)';

interface GeluCase {
  sides: Sides;
  jitted: k.JitFunction<(x: k.Tensor, a: k.Tensor, b: k.Tensor) => k.Tensor>;
  workload: Workload;
}

async function gelu(): Promise<GeluCase> {
  const n = 4 * 1024 * 1024;
  const x = input([n]), a = input([n]), b = input([n]);
  const f = (x: k.Tensor, a: k.Tensor, b: k.Tensor): k.Tensor => k.gelu(x.mul(a).add(b));
  const jitted = k.jit(f);
  const tfGelu = (x: tf.Tensor, a: tf.Tensor, b: tf.Tensor): tf.Tensor => {
    const y = tf.add(tf.mul(x, a), b);
    return tf.mul(tf.mul(y, 0.5), tf.add(tf.erf(tf.mul(y, Math.SQRT1_2)), 1));
  };
  const { out, kernels } = compile(jitted, x.gpu, a.gpu, b.gpu);
  const diffs = check('gelu', f(x.cpu, a.cpu, b.cpu).data<'float32'>(), {
    eager: await kilnValues(k.tidy(() => f(x.gpu, a.gpu, b.gpu))),
    jit: await kilnValues(out),
    tfjs: await tfValues(() => tfGelu(x.tf, a.tf, b.tf)),
  }, { atol: 1e-6, rtol: 1e-5 });
  const sides: Sides = {
    eager: () => kilnFirst(k.tidy(() => f(x.gpu, a.gpu, b.gpu))),
    jit: onlyReplays('gelu', jitted, () => kilnFirst(jitted(x.gpu, a.gpu, b.gpu))) as Call,
    tfjs: () => tfFirst(() => tfGelu(x.tf, a.tf, b.tf)),
  };
  const t = await flatMemory('gelu', () => timeSides('gelu', sides, SYSTEMS, ELEMENTWISE_TIMING));
  return { sides, jitted, workload: workload('gelu(x*a+b) [4M]', t, diffs, { jitKernels: kernels, tfjsForm: TFJS_GELU }) };
}

async function softmax(): Promise<Workload> {
  const shape = [4096, 1024];
  const x = input(shape);
  const f = (x: k.Tensor): k.Tensor => x.softmax(-1);
  const jitted = k.jit(f);
  const { out, kernels } = compile(jitted, x.gpu);
  const diffs = check('softmax', f(x.cpu).data<'float32'>(), {
    eager: await kilnValues(k.tidy(() => f(x.gpu))),
    jit: await kilnValues(out),
    tfjs: await tfValues(() => tf.softmax(x.tf, -1)),
  }, { atol: 1e-7, rtol: 1e-5 });
  const t = await flatMemory('softmax', () => timeSides('softmax', {
    eager: () => kilnFirst(k.tidy(() => f(x.gpu))),
    jit: onlyReplays('softmax', jitted, () => kilnFirst(jitted(x.gpu))) as Call,
    tfjs: () => tfFirst(() => tf.softmax(x.tf, -1)),
  }, SYSTEMS, ELEMENTWISE_TIMING));
  return workload('softmax [4096,1024] axis -1', t, diffs, { jitKernels: kernels, tfjsForm: 'tf.softmax' });
}

async function layerNorm(): Promise<Workload> {
  const [rows, cols] = [4096, 1024];
  const eps = 1e-5;
  // The affine part with weight ones and bias zeros, computed by both libraries.
  const x = input([rows, cols]), w = filled([cols], 1), b = filled([cols], 0);
  const f = (x: k.Tensor, w: k.Tensor, b: k.Tensor): k.Tensor => k.nn.layerNorm(x, [cols], w, b, eps);
  const jitted = k.jit(f);
  const { out, kernels } = compile(jitted, x.gpu, w.gpu, b.gpu);
  // tfjs has no layerNorm op (tf.batchNorm normalizes per channel, not per row): moments, then the affine.
  const tfLayerNorm = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor): tf.Tensor => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), w), b);
  };
  const diffs = check('layerNorm', f(x.cpu, w.cpu, b.cpu).data<'float32'>(), {
    eager: await kilnValues(k.tidy(() => f(x.gpu, w.gpu, b.gpu))),
    jit: await kilnValues(out),
    tfjs: await tfValues(() => tfLayerNorm(x.tf, w.tf, b.tf)),
  }, { atol: 2e-5, rtol: 1e-5 });
  const t = await flatMemory('layerNorm', () => timeSides('layerNorm', {
    eager: () => kilnFirst(k.tidy(() => f(x.gpu, w.gpu, b.gpu))),
    jit: onlyReplays('layerNorm', jitted, () => kilnFirst(jitted(x.gpu, w.gpu, b.gpu))) as Call,
    tfjs: () => tfFirst(() => tfLayerNorm(x.tf, w.tf, b.tf)),
  }, SYSTEMS, ELEMENTWISE_TIMING));
  return workload('layerNorm [4096,1024] axis -1, w=1 b=0', t, diffs, { jitKernels: kernels, tfjsForm: 'tf.moments, then (x-mean)*rsqrt(var+eps)*w+b' });
}

// The MLP training step.

/** `model` with every parameter moved to the GPU as a fresh parameter (modules have no `.to`); the helper of test/src/jit/webgpu.test.ts. */
function toGpu<M extends k.nn.Module>(model: M): M {
  for (const [, m] of model.namedModules()) {
    for (const [key, value] of Object.entries(m)) {
      if (k.nn.isParameter(value)) (m as unknown as Record<string, k.Tensor>)[key] = k.nn.parameter(value.detach().to('webgpu'));
    }
  }
  return model;
}

/** The same step in tfjs from kiln's initial weights; the loss is read asynchronously. */
function tfjsStep(init: k.nn.Linear[], xs: Float32Array, labels: Int32Array) {
  const x = tf.tensor2d(xs.slice(), [BATCH, SIZES[0]]);
  const y = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), SIZES[3]), 'float32')) as tf.Tensor2D;
  const { params, stepAsync } = tfjsMlp(init, x, y, LR);
  return { params, step: stepAsync };
}

async function mlpStep(): Promise<Workload> {
  registerTrainingGradients();
  const mnist = k.data.loadMnist();
  const x = mnist.images.narrow(0, 0, BATCH).reshape([BATCH, SIZES[0]]).contiguous();
  const y = mnist.labels.narrow(0, 0, BATCH).contiguous();
  const xg = x.to('webgpu'), yg = y.to('webgpu');

  k.manualSeed(0);
  const cpuModel = mlpModel();
  const init = linears(cpuModel);
  const tfjs = tfjsStep(init, x.data<'float32'>(), y.data<'int32'>());
  const eagerModel = mlpModel(), jitModel = mlpModel();
  eagerModel.loadStateDict(cpuModel.stateDict());
  jitModel.loadStateDict(cpuModel.stateDict());
  toGpu(eagerModel);
  toGpu(jitModel);
  const cpuStep = kilnStep(cpuModel), eagerStep = kilnStep(eagerModel), jitStep = k.jit(kilnStep(jitModel));

  const sides: Sides = {
    eager: async () => {
      const loss = k.tidy(() => eagerStep(xg, yg));
      try {
        return await loss.itemAsync();
      } finally {
        loss.dispose();
      }
    },
    jit: async () => {
      // In tidy as well: a replay assigns every parameter a fresh .grad, and only a scope
      // disposes the previous ones (zeroGrad sets them to null; the GC would free them later).
      const loss = k.tidy(() => jitStep(xg, yg));
      try {
        return await loss.itemAsync();
      } finally {
        loss.dispose();
      }
    },
    tfjs: tfjs.step,
  };
  // Four steps from the same weights: the jit traces calls 1-2 (lazily made state makes
  // them differ) and replays from call 3.
  const losses: Record<System | 'cpu', number[]> = { cpu: [], eager: [], jit: [], tfjs: [] };
  for (let s = 0; s < 4; s++) {
    losses.cpu.push(cpuStep(x, y).item());
    for (const sys of SYSTEMS) losses[sys].push(await sides[sys]());
  }
  if (jitStep.stats.replays === 0) throw new Error(`the training step did not compile: ${JSON.stringify(jitStep.stats)}`);
  const kernels = jitStep.explain(xg, yg).variants[0]?.kernelCount;
  // Losses of the four steps, then every weight as [in, out], so one check covers both.
  const kilnState = async (m: k.nn.Sequential, l: number[]) => {
    const ws: Float32Array[] = [];
    for (const lin of linears(m)) {
      const t = k.tidy(() => lin.weight.t().contiguous());
      ws.push(await kilnValues(t));
    }
    return flat([Float32Array.from(l), ...ws]);
  };
  const tfState = async () => {
    const ws: Float32Array[] = [];
    for (const p of tfjs.params) ws.push((await p.w.data()) as Float32Array);
    return flat([Float32Array.from(losses.tfjs), ...ws]);
  };
  const diffs = check('MLP step (4 losses + weights)', await kilnState(cpuModel, losses.cpu), {
    eager: await kilnState(eagerModel, losses.eager),
    jit: await kilnState(jitModel, losses.jit),
    tfjs: await tfState(),
  }, { atol: 1e-5, rtol: 1e-4 });

  const jitTimed = onlyReplays('mlp', jitStep, sides.jit) as Call;
  const t = await flatMemory('mlp', () => timeSides('mlp', { ...sides, jit: jitTimed }, SYSTEMS, { warmup: 3, runs: 30, rounds: 5, minTimeMs: 4000, maxRuns: 150 }));
  return workload(`MLP ${SIZES.join('-')} SGD step, batch ${BATCH}`, t, diffs, { jitKernels: kernels, tfjsForm: 'optimizer.minimize (tf.train.sgd), tf.losses.softmaxCrossEntropy' });
}

function flat(ws: Float32Array[]): Float32Array {
  const out = new Float32Array(ws.reduce((s, w) => s + w.length, 0));
  let o = 0;
  for (const w of ws) {
    out.set(w, o);
    o += w.length;
  }
  return out;
}

// The throttle, off and on.

interface ThrottleRow {
  system: System;
  off: Measurement;
  on: Measurement;
}

/** The gelu chain of every system with the event-wait throttle off and on, phases alternating round by round. */
async function throttleCompare(sides: Sides): Promise<{ rows: ThrottleRow[]; stats: ThrottleStats }> {
  type Phase = `${System} ${'off' | 'on'}`;
  const phased = {} as Record<Phase, Call>;
  const order: Phase[] = [];
  for (const s of SYSTEMS) {
    for (const p of ['off', 'on'] as const) {
      phased[`${s} ${p}`] = sides[s];
      order.push(`${s} ${p}`);
    }
  }
  // Each removal drops the throttle's counters: add up what every installation saw during the comparison.
  let stats: ThrottleStats = { polls: 0, sleeps: 0, sleptMs: 0 };
  let counted = eventWaitThrottleStats();
  const take = () => {
    const c = eventWaitThrottleStats();
    stats = { polls: stats.polls + c.polls - counted.polls, sleeps: stats.sleeps + c.sleeps - counted.sleeps, sleptMs: stats.sleptMs + c.sleptMs - counted.sleptMs };
    counted = c;
  };
  const t = await timeSides('gelu throttle', phased, order, { ...ELEMENTWISE_TIMING, runs: 25, rounds: 5, minTimeMs: 0 }, (phase) => {
    const on = phase.endsWith(' on');
    if (on === (removeThrottle !== undefined)) return;
    take();
    setThrottle(on);
    counted = eventWaitThrottleStats();
  });
  take();
  setThrottle(THROTTLE);
  return { rows: SYSTEMS.map((system) => ({ system, off: t[`${system} off`], on: t[`${system} on`] })), stats };
}

// Report.

interface Target {
  target: string;
  measured: string;
  met: boolean;
}

const fmtRatio = (x: number): string => (Number.isFinite(x) ? `${fmtNumber(x)}x` : 'n/a');

function targets(ws: { gelu: Workload; softmax: Workload; layerNorm: Workload; mlp: Workload }): Target[] {
  const out: Target[] = [];
  for (const w of [ws.gelu, ws.softmax, ws.layerNorm]) {
    const r = w.values.tfjs / w.values.jit;
    out.push({ target: `${w.workload}: kiln jit >= 3x faster than tfjs-webgpu`, measured: `tfjs/jit ${fmtRatio(r)}`, met: r >= 3 });
  }
  const r = ws.mlp.values.eager / ws.mlp.values.jit;
  out.push({ target: 'MLP step: kiln jit >= 2x faster than kiln eager (WebGPU)', measured: `eager/jit ${fmtRatio(r)}`, met: r >= 2 });
  return out;
}

async function main(): Promise<void> {
  // Production mode turns off tfjs's debug checks.
  tf.enableProdMode();
  const devices = await initDevices();
  setThrottle(THROTTLE);
  k.manualSeed(0);

  const env = environment();
  console.log(`node ${env.node}, ${env.cpu} x${env.cores}; tfjs-core ${tf.version_core}, tfjs-backend-webgpu ${devices.tfjsBackendVersion}`);
  console.log(`adapter: kiln "${devices.kilnAdapter}", tfjs "${devices.tfjsAdapter}" (one Dawn instance as navigator.gpu, two devices)`);
  console.log(`event-wait throttle: ${eventWaitThrottleActive() ? 'on (installed by the benchmark with acquireDevice\'s defaults)' : 'off (--throttle=off)'} for the main table; it acts on tfjs's waits too`);
  console.log(`Each call includes reading back one element of its result. Times: ms, medians of interleaved rounds after warm-up${QUICK ? ' (--quick: few runs)' : ''}.\n`);

  const g = await gelu();
  const ws = { gelu: g.workload, softmax: await softmax(), layerNorm: await layerNorm(), mlp: await mlpStep() };
  const all = Object.values(ws);
  console.log('');
  const mainTable = table(all.map((w) => ({
    workload: w.workload,
    unit: w.unit,
    values: SYSTEMS.map((s) => w.values[s]),
    extra: {
      'eager/jit': fmtRatio(w.values.eager / w.values.jit),
      'jit kernels': w.jitKernels === undefined ? '' : String(w.jitKernels),
      'max|diff| vs CPU (eager, jit, tfjs)': SYSTEMS.map((s) => w.maxAbsDiffVsCpu[s].toExponential(1)).join(', '),
    },
  })), {
    columns: SYSTEMS.map((s) => HEADERS[s]),
    ratio: { subject: 1, baseline: 2, header: 'tfjs/jit' },
    extraColumns: ['eager/jit', 'jit kernels', 'max|diff| vs CPU (eager, jit, tfjs)'],
  });
  console.log(`\ntfjs forms: ${all.map((w) => `${w.workload.split(' ')[0]}: ${w.tfjsForm}`).join('; ')}`);

  console.log('\nthe gelu chain with the event-wait throttle off and on (ms, interleaved rounds)');
  const th = await throttleCompare(g.sides);
  const throttleTable = table(th.rows.map((r) => ({ workload: `gelu [4M], ${HEADERS[r.system]}`, unit: 'ms', values: [r.off.median, r.on.median] })), {
    columns: ['throttle off', 'throttle on'],
    ratio: { subject: 1, baseline: 0, header: 'off/on' },
  });
  console.log(`throttle on: ${th.stats.polls} polls, ${th.stats.sleeps} sleeps, ${th.stats.sleptMs.toFixed(0)} ms slept`);

  const ts = targets(ws);
  console.log('\ntargets');
  console.log(formatTable(['target', 'measured', 'status'], ts.map((t) => [t.target, t.measured, t.met ? 'met' : 'NOT MET'])));

  const path = saveJson(resultsPath('webgpu-compare'), {
    versions: { tfjsCore: tf.version_core, tfjsBackendWebgpu: devices.tfjsBackendVersion },
    adapters: { kiln: devices.kilnAdapter, tfjs: devices.tfjsAdapter },
    throttle: { on: THROTTLE },
    quick: QUICK,
    columns: HEADERS,
    workloads: all,
    throttleCompare: { rows: th.rows, stats: th.stats },
    targets: ts,
    tables: { main: mainTable, throttle: throttleTable },
  });
  console.log(`\nsaved ${path}`);

  setThrottle(false);
  tf.engine().reset();
  k.webgpu.destroy();
}

await main();
