/**
 * The jit MLP training step (784-256-256-10, ReLU, batch 128, SGD, cross entropy) on the
 * Wasm engine beside jax-js (Wasm, jit), on one thread and on all, in one process with
 * interleaved rounds; with KILN_BASE naming the root of another kiln build (its
 * `dist/src/index.js`, compiled with tsconfig.bench.json), that build's step runs beside
 * this one on the same inputs, so a change is measured against its base. Also counts, per
 * replayed step, the kernels each build launches (those run as JavaScript over the memory),
 * the buffers it allocates and the bytes it spills, and splits the step's time (one thread)
 * into gemms, other kernels and the rest, for this step and for a step of the MNIST CNN
 * (examples/mnist-cnn.ts: Adam, batch 64), whose step is timed too; and times each matmul
 * of the step alone (eager, one thread) against a matmul 1024, in GFLOP/s.
 *
 *   npx tsc -p tsconfig.bench.json && KILN_CPU=wasm [KILN_BASE=<root>] node dist/bench/mlp-step.js
 */
import * as jax from '@jax-js/jax';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as kiln from '../src/index.js';
import { fmtNumber, formatTable, interleavedRounds, resultsPath, saveJson, type Measurement } from './harness.js';
import { jaxMlp } from './jax-mlp.js';
import { BATCH, LR, SIZES } from './mlp.js';

type Kiln = typeof kiln;

/** What the bench needs of a kiln build: its API and its Wasm backend (to count launches by kind). */
interface Build {
  name: string;
  k: Kiln;
  wasm: {
    run: (launches: readonly { kernel: { kind: string } }[]) => void;
    alloc: (dtype: kiln.DType, elements: number, uninitialised?: boolean) => unknown;
    spillStats: () => { spilledBytes: number };
  };
}

const ROUNDS = Number(process.env.ROUNDS ?? 7);

async function load(root: string, name: string): Promise<Build> {
  const url = (path: string) => pathToFileURL(`${root}/${path}`).href;
  const k = (await import(url('dist/src/index.js'))) as Kiln;
  const { wasm } = (await import(url('dist/compiler/backends.js'))) as { wasm: Build['wasm'] };
  return { name, k, wasm };
}

function mlp(k: Kiln): kiln.nn.Sequential {
  return new k.nn.Sequential(
    new k.nn.Linear(SIZES[0], SIZES[1]), new k.nn.ReLU(),
    new k.nn.Linear(SIZES[1], SIZES[2]), new k.nn.ReLU(),
    new k.nn.Linear(SIZES[2], SIZES[3]),
  );
}

function cnn(k: Kiln): kiln.nn.Sequential {
  return new k.nn.Sequential(
    new k.nn.Conv2d(1, 8, 3), new k.nn.ReLU(), new k.nn.MaxPool2d(2),
    new k.nn.Conv2d(8, 16, 3), new k.nn.ReLU(), new k.nn.MaxPool2d(2),
    new k.nn.Flatten(), new k.nn.Linear(16 * 5 * 5, 10),
  );
}

/** A jit'd training step of `model` with `optimizer`; the loss comes back as a number. */
function stepOf(
  k: Kiln, model: kiln.nn.Sequential, optimizer: { zeroGrad(): void; step(): void },
): (x: kiln.Tensor, y: kiln.Tensor) => number {
  const step = k.jit((x: kiln.Tensor, y: kiln.Tensor) => {
    optimizer.zeroGrad();
    const loss = k.nn.crossEntropy(model.forward(x), y);
    loss.backward();
    optimizer.step();
    return loss.detach();
  });
  return (x, y) => step(x, y).item();
}

/** What one replayed step does on the Wasm engine: its launches, buffers, spills and where its time goes. */
interface StepProfile {
  all: number;
  js: number;
  allocs: number;
  /** Bytes the residency layer spilled, per step. */
  spilled: number;
  /** Milliseconds per step in gemm launches (host kernels), in the other launches, and outside any launch. */
  gemm: number;
  kernels: number;
  outside: number;
}

/**
 * Launches per replayed step, those run as JavaScript, the buffers allocated and the bytes
 * spilled, and (over `steps` steps on one thread) the time in gemms, in other kernels and
 * outside kernels (the replay's own work, allocation, collection).
 */
function profile(build: Build, step: () => unknown, steps = 50): StepProfile {
  build.k.setNumThreads(1);
  for (let i = 0; i < 4; i++) step();
  const p = { all: 0, js: 0, allocs: 0, spilled: 0, gemm: 0, kernels: 0, outside: 0 };
  const { run, alloc } = build.wasm;
  build.wasm.run = (list) => {
    p.all += list.length;
    p.js += list.filter((l) => l.kernel.kind === 'js').length;
    const t0 = performance.now();
    run.call(build.wasm, list);
    const t = performance.now() - t0;
    if (list.every((l) => l.kernel.kind === 'host')) p.gemm += t;
    else p.kernels += t;
  };
  build.wasm.alloc = (...args) => {
    p.allocs++;
    return alloc.apply(build.wasm, args);
  };
  const spilled = build.wasm.spillStats().spilledBytes;
  const t0 = performance.now();
  try {
    for (let i = 0; i < steps; i++) step();
  } finally {
    build.wasm.run = run;
    build.wasm.alloc = alloc;
  }
  const total = performance.now() - t0;
  p.spilled = build.wasm.spillStats().spilledBytes - spilled;
  p.outside = total - p.gemm - p.kernels;
  for (const k of Object.keys(p) as (keyof StepProfile)[]) p[k] /= steps;
  return p;
}

/**
 * The step's matmuls alone (eager, one thread, operands in the layouts the step gives them:
 * the weight transposed in the forward, the activations' gradient transposed in the weight
 * gradients) and matmul 1024, in GFLOP/s (best of interleaved rounds).
 */
function gemmRates(k: Kiln): string[][] {
  k.setNumThreads(1);
  const cases: [string, () => kiln.Tensor, number][] = [];
  const add = (name: string, a: kiln.Tensor, b: kiln.Tensor, ta: boolean, tb: boolean) => {
    const [m, kk] = ta ? [a.shape[1]!, a.shape[0]!] : [a.shape[0]!, a.shape[1]!];
    const n = tb ? b.shape[0]! : b.shape[1]!;
    cases.push([`${name} ${m}x${kk}x${n}`, () => k.matmul(ta ? a.t() : a, tb ? b.t() : b), 2 * m * n * kk]);
  };
  const x = k.randn([BATCH, SIZES[0]]), h = k.randn([BATCH, SIZES[1]]), g = k.randn([BATCH, SIZES[1]]);
  const w1 = k.randn([SIZES[1], SIZES[0]]), w2 = k.randn([SIZES[2], SIZES[1]]);
  add('forward x W1^T', x, w1, false, true);
  add('forward h W2^T', h, w2, false, true);
  add('dW2 = dY^T h', g, h, true, false);
  add('dW1 = dY^T x', g, x, true, false);
  add('dX = dY W2', g, w2, false, false);
  add('matmul 1024', k.randn([1024, 1024]), k.randn([1024, 1024]), false, false);
  const sides = Object.fromEntries(cases.map(([name, f, flops]) => {
    const reps = Math.max(1, Math.round(2e8 / flops));
    return [name, () => { for (let i = 0; i < reps; i++) f().dispose(); }];
  }));
  const times = interleavedRounds(sides, ROUNDS, 3, 2);
  return cases.map(([name, , flops]) => {
    const reps = Math.max(1, Math.round(2e8 / flops));
    return [name, fmtNumber((reps * flops) / times[name]!.min / 1e6)];
  });
}

const fmtRatio = (r: number) => r.toFixed(3);

async function main(): Promise<void> {
  await jax.init('wasm');
  jax.defaultDevice('wasm');
  const here = await load(fileURLToPath(new URL('../..', import.meta.url)), 'kiln');
  const builds = [here, ...(process.env.KILN_BASE ? [await load(process.env.KILN_BASE, 'base')] : [])];
  kiln.manualSeed(1);
  const xs = kiln.randn([BATCH, SIZES[0]]).data<'float32'>();
  const labels = kiln.randint(0, SIZES[3], [BATCH]).data<'int32'>();
  const images = kiln.randn([64, 1, 28, 28]).data<'float32'>();
  const digits = kiln.randint(0, 10, [64]).data<'int32'>();
  const threads = Math.max(...(await Promise.all(builds.map((b) => b.k.threadsReady()))));

  const counts: string[][] = [];
  const sides: Record<string, () => unknown> = {}, cnnSides: Record<string, () => unknown> = {};
  for (const b of builds) {
    const { k } = b;
    k.manualSeed(1);
    const model = mlp(k);
    const x = k.tensor(xs, { shape: [BATCH, SIZES[0]] }), y = k.tensor(labels, { shape: [BATCH], dtype: 'int32' });
    const step = stepOf(k, model, new k.optim.SGD(model.parameters(), { lr: LR }));
    const conv = cnn(k);
    const convStep = stepOf(k, conv, new k.optim.Adam(conv.parameters(), { lr: 1e-3 }));
    const cx = k.tensor(images, { shape: [64, 1, 28, 28] }), cy = k.tensor(digits, { shape: [64], dtype: 'int32' });
    const profiles = [['MLP', profile(b, () => step(x, y))], ['CNN', profile(b, () => convStep(cx, cy), 20)]] as const;
    for (const [model, p] of profiles) {
      const ms = (t: number) => t.toFixed(2);
      counts.push([`${b.name} ${model}`, `${p.js} of ${p.all}`, String(p.allocs), fmtNumber(p.spilled / 1024),
        ms(p.gemm), ms(p.kernels), ms(p.outside)]);
    }
    for (const n of [1, threads]) {
      sides[`${b.name} ${n} thread${n > 1 ? 's' : ''}`] = () => {
        k.setNumThreads(n);
        return step(x, y);
      };
    }
    for (const n of [1, threads]) {
      cnnSides[`${b.name} CNN ${n} thread${n > 1 ? 's' : ''}`] = () => {
        k.setNumThreads(n);
        return convStep(cx, cy);
      };
    }
  }
  // jax-js starts from the same weights as kiln's MLP (kiln's own, seeded alike).
  kiln.manualSeed(1);
  const layers = mlp(kiln).layers.filter((l): l is kiln.nn.Linear => l instanceof kiln.nn.Linear);
  sides['jax-js jit'] = jaxMlp(layers, xs, labels);

  const times = interleavedRounds(sides, ROUNDS, 10, 3);
  const jaxMs = times['jax-js jit']!.median;
  const rows = Object.values(times).map((t: Measurement) => [t.name, fmtNumber(t.median), fmtRatio(t.median / jaxMs)]);
  const cnnTimes = interleavedRounds(cnnSides, ROUNDS, 5, 2);
  const cnnFirst = Object.values(cnnTimes)[0]!.median;
  const cnnRows = Object.values(cnnTimes)
    .map((t: Measurement) => [t.name, fmtNumber(t.median), fmtRatio(t.median / cnnFirst)]);
  const gemms = gemmRates(here.k);
  const perStep = ['per replayed step, 1 thread', 'JS kernels', 'buffers', 'KiB spilled', 'ms in gemms',
    'ms in other kernels', 'ms outside kernels'];
  console.log(formatTable(perStep, counts));
  console.log(formatTable(['MLP step, jit', 'ms (median)', 'time / jax-js'], rows));
  console.log(formatTable(['CNN step (batch 64), jit', 'ms (median)', 'time / first row'], cnnRows));
  console.log(formatTable(['matmul of the step (kiln, eager, 1 thread)', 'GFLOP/s (best)'], gemms));
  saveJson(resultsPath('mlp-step'), { threads, counts, times, cnnTimes, gemms });
}

await main();
