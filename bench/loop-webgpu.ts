/**
 * The WebGPU rows of `npm run bench:loop`: the seed loop on WebGPU, eager against lifted.
 * Eager code on WebGPU must read each condition asynchronously (`await itemAsync()`), one
 * readback per iteration; the lifted loop is one WGSL kernel with the loop inside, one
 * launch per call. Rounds alternate between the two, so both see the same machine load.
 * Here the adapter is lavapipe (Mesa's CPU Vulkan driver): the output names the adapter.
 *
 * Then power iteration until convergence (v ← normalize(A·v) while ‖v − v_prev‖ > tol, A a
 * [64,64] matrix), whose body does not fuse into one kernel: eager awaits each condition,
 * the lifted loop (an async function under jit) runs host-driven, many iterations per readback.
 */
import * as k from '../src/node.js';
import { eagerGpu } from '../src/webgpu.js';
import { measureAsync, mergeRounds, table, type Measurement } from './harness.js';

/** Eager iterations per call: each costs a GPU round trip, so 100,000 would take minutes on lavapipe. */
const EAGER_ITERATIONS = 1000;
const ROUNDS = 3;

/** The seed loop as eager WebGPU code must write it: the condition read back each iteration. */
async function eagerSeedLoop(first: k.Tensor, second: k.Tensor): Promise<k.Tensor[]> {
  while ((await first.lt(second).itemAsync()) !== 0) {
    first = first.add(2);
    second = second.add(1);
  }
  return [first, second];
}

function seedLoop(first: k.Tensor, second: k.Tensor): k.Tensor[] {
  while (first < second) {
    first = first.add(2);
    second = second.add(1);
  }
  return [first, second];
}

const gpuInt = (v: number) => k.tensor(v, { dtype: 'int32', device: 'webgpu' });

/** Runs the seed loop from (0, n) and checks the answer once the values are back. */
async function checked(result: k.Tensor[] | Promise<k.Tensor[]>, n: number, name: string): Promise<void> {
  const got = await Promise.all((await result).map(async (t) => (await t.dataAsync())[0]));
  if (got.join() !== `${2 * n},${2 * n}`) throw new Error(`${name}: got ${got}, expected ${2 * n},${2 * n}`);
}

/** Prints the WebGPU table (or why there is none); returns the measurements for the results file. */
export async function webGpuRows(iterations: number): Promise<Record<string, Measurement | number> | string> {
  let adapter: string;
  try {
    adapter = (await k.webgpu.init()).adapter;
  } catch (e) {
    const why = `no WebGPU rows: ${(e as Error).message}`;
    console.log(`\n${why}`);
    return why;
  }
  const lifted = k.jit(seedLoop, { rewrite: true });
  const eagerOf = (n: number) => () => checked(eagerSeedLoop(gpuInt(0), gpuInt(n)), n, 'eager on webgpu');
  const liftedOf = (n: number) => () => checked(lifted(gpuInt(0), gpuInt(n)), n, 'lifted on webgpu');
  await liftedOf(10)();
  await liftedOf(10)();
  const rounds: Record<string, Measurement[]> = { eager: [], liftedSame: [], liftedFull: [] };
  for (let r = 0; r < ROUNDS; r++) {
    rounds.eager!.push(await measureAsync('eager', eagerOf(EAGER_ITERATIONS), { warmup: r === 0 ? 1 : 0, runs: 1 }));
    rounds.liftedSame!.push(await measureAsync('lifted', liftedOf(EAGER_ITERATIONS), { warmup: 1, runs: 5 }));
    rounds.liftedFull!.push(await measureAsync('lifted', liftedOf(iterations), { warmup: 1, runs: 5 }));
  }
  if (lifted.stats.variants !== 1) {
    throw new Error('the lifted loop on WebGPU must keep one variant for every trip count');
  }
  const merged = Object.entries(rounds).map(([key, ms]) => [key, mergeRounds(ms)]);
  const m = Object.fromEntries(merged) as Record<string, Measurement>;
  console.log(`\nthe seed loop on WebGPU (${adapter}; lavapipe is a CPU driver: these are not GPU speeds)\n`);
  table([
    {
      workload: `seed loop, ${EAGER_ITERATIONS} iterations`, values: [m.eager!.median, m.liftedSame!.median], unit: 'ms',
    },
    { workload: `seed loop, ${iterations} iterations`, values: [NaN, m.liftedFull!.median], unit: 'ms' },
  ], {
    columns: ['eager (await per iteration)', 'jit, one loop kernel'],
    ratio: { subject: 1, baseline: 0, header: 'eager/lifted' },
  });
  return { ...m, ...(await powerIterationRows()) };
}

const N = 64;
const TOL = 1e-4;

/**
 * A symmetric [64,64] matrix whose two largest eigenvalues are about 1 and 0.9, so power
 * iteration needs about 90 iterations to move by less than TOL.
 */
function matrix(): k.Tensor {
  let s = 12345;
  const r = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 31 - 1;
  const a = new Float32Array(N * N);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j <= i; j++) a[i * N + j] = a[j * N + i] = 0.002 * r();
    a[i * N + i] += i === 0 ? 1 : i === 1 ? 0.9 : 0.45 * (1 - i / N);
  }
  return k.tensor(a, { shape: [N, N], device: 'webgpu' });
}

const startVector = () => k.tensor(new Float32Array(N).fill(1), { shape: [N, 1], device: 'webgpu' });

/** Power iteration as eager WebGPU code must write it: the condition read back each iteration. */
async function eagerPower(A: k.Tensor, v: k.Tensor): Promise<k.Tensor> {
  let prev = v.mul(0);
  while ((await v.sub(prev).mul(v.sub(prev)).sum().sqrt().gt(TOL).itemAsync()) !== 0) {
    prev = v;
    const w = A.matmul(v);
    v = w.div(w.mul(w).sum().sqrt());
  }
  return v;
}

async function power(A: k.Tensor, v: k.Tensor, tol: number): Promise<k.Tensor> {
  let prev = v.mul(0);
  while (v.sub(prev).mul(v.sub(prev)).sum().sqrt().gt(tol)) {
    prev = v;
    const w = A.matmul(v);
    v = w.div(w.mul(w).sum().sqrt());
  }
  return v;
}

/** The power iteration rows: times per call and readbacks per call, eager against lifted (host-driven). */
async function powerIterationRows(): Promise<Record<string, Measurement | number>> {
  const A = matrix();
  const lifted = k.jit(power, { rewrite: true });
  const want = await (await eagerPower(A, startVector())).dataAsync();
  /** One call of `run`, its answer checked against eager's; the readbacks it made. */
  const call = (run: () => Promise<k.Tensor>, name: string) => async (): Promise<number> => {
    const before = eagerGpu().readbacks;
    const got = await (await run()).dataAsync();
    const readbacks = eagerGpu().readbacks - before - 1;
    for (let i = 0; i < N; i++) {
      if (Math.abs(got[i]! - want[i]!) > 2e-3) throw new Error(`${name}: element ${i} is ${got[i]}, eager ${want[i]}`);
    }
    return readbacks;
  };
  const eager = call(() => eagerPower(A, startVector()), 'eager power iteration');
  const jitted = call(() => lifted(A, startVector(), TOL), 'lifted power iteration');
  for (let i = 0; i < 3; i++) await jitted();
  const readbacks = { eager: await eager(), lifted: await jitted() };
  const rounds: Record<string, Measurement[]> = { powerEager: [], powerLifted: [] };
  for (let r = 0; r < ROUNDS; r++) {
    rounds.powerEager!.push(await measureAsync('eager', eager, { warmup: 0, runs: 3 }));
    rounds.powerLifted!.push(await measureAsync('lifted', jitted, { warmup: 0, runs: 5 }));
  }
  if (lifted.stats.variants !== 1) throw new Error('the lifted power iteration must keep one variant');
  const m = Object.fromEntries(Object.entries(rounds).map(([key, ms]) => [key, mergeRounds(ms)]));
  console.log(`\npower iteration until convergence, A ${N}×${N}, tol ${TOL}, on WebGPU (readbacks per call: `
    + `eager ${readbacks.eager}, lifted ${readbacks.lifted})\n`);
  table([
    { workload: 'power iteration', values: [m.powerEager!.median, m.powerLifted!.median], unit: 'ms' },
  ], {
    columns: ['eager (await per iteration)', 'jit, host-driven loop'],
    ratio: { subject: 1, baseline: 0, header: 'eager/lifted' },
  });
  return { ...m, powerReadbacksEager: readbacks.eager, powerReadbacksLifted: readbacks.lifted };
}
