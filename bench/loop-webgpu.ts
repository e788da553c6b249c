/**
 * The WebGPU rows of `npm run bench:loop`: the seed loop on WebGPU, eager against lifted.
 * Eager code on WebGPU must read each condition asynchronously (`await itemAsync()`), one
 * readback per iteration; the lifted loop is one WGSL kernel with the loop inside, one
 * launch per call. Rounds alternate between the two, so both see the same machine load.
 * Here the adapter is lavapipe (Mesa's CPU Vulkan driver): the output names the adapter.
 */
import * as k from '../src/node.js';
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
export async function webGpuRows(iterations: number): Promise<Record<string, Measurement> | string> {
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
  return m;
}
