/**
 * The seed's while loop with 100,000 iterations, measured side by side in one run:
 *   - eager: the loop as written (each `<` reads both tensors, each step dispatches two adds);
 *   - jit with guards: the loop rewritten but not lifted (`liftLoops: false`): the trace
 *     unrolls every iteration and each condition is a guard, replayed op by op;
 *   - jit with loop lifting: one loop node, run as compiled kernels over fixed buffers;
 *   - on WebGPU (./loop-webgpu.ts): eager with a readback per iteration vs one loop kernel.
 * Besides the replay times, the one-off cost of each jit flavour is shown: its two traces
 * and its first replay (which optimizes and fuses the graph).
 *
 *   npm run bench:loop   (tsc with tsconfig.bench.json, then node dist/bench/loop.js)
 *
 * The functions are rewritten at run time (`rewrite: true`), as kiln/vite and kiln/register
 * do at build time. All three must give the plain-JS answer; the check runs before timing.
 */
import * as k from '../src/node.js';
import { environment, measure, resultsPath, saveJson, table } from './harness.js';
import { webGpuRows } from './loop-webgpu.js';

const ITERATIONS = Number(process.argv[2] ?? 100_000);

function seedLoop(first: k.Tensor, second: k.Tensor): k.Tensor[] {
  while (first < second) {
    first = first.add(2);
    second = second.add(1);
  }
  return [first, second];
}

const int = (v: number) => k.tensor(v, { dtype: 'int32' });
const call = (fn: typeof seedLoop) => () => fn(int(0), int(ITERATIONS));
const expected = [2 * ITERATIONS, 2 * ITERATIONS];

function check(name: string, result: k.Tensor[]): void {
  const got = result.map((t) => t.item());
  if (got.join() !== expected.join()) throw new Error(`${name}: got ${got}, expected ${expected}`);
}

/** Milliseconds of one call. */
function once(fn: () => k.Tensor[], name: string): number {
  const t0 = performance.now();
  check(name, fn());
  return performance.now() - t0;
}

check('eager', call(seedLoop)());
const guarded = k.jit(seedLoop, { rewrite: true, liftLoops: false });
const lifted = k.jit(seedLoop, { rewrite: true });
const setup = {
  guarded: { traces: once(call(guarded), 'jit with guards') + once(call(guarded), 'jit with guards'), firstReplay: once(call(guarded), 'jit with guards') },
  lifted: { traces: once(call(lifted), 'jit, lifted') + once(call(lifted), 'jit, lifted'), firstReplay: once(call(lifted), 'jit, lifted') },
};
if (guarded.stats.replays !== 1 || lifted.stats.replays !== 1) throw new Error('both jit flavours must be replaying by now');

const eager = measure('eager', call(seedLoop), { warmup: 2, runs: 7 });
const withGuards = measure('jit with guards', call(guarded), { warmup: 1, runs: 5 });
const withLifting = measure('jit with loop lifting', call(lifted), { warmup: 3, runs: 25 });
// A lifted replay with another trip count uses the same variant: no retrace, no new variant.
check('lifted, half the trip count', lifted(int(ITERATIONS), int(2 * ITERATIONS)).map((t) => t.sub(ITERATIONS)));
if (lifted.stats.variants !== 1 || lifted.stats.traces !== 2) throw new Error('the lifted loop must keep one variant for every trip count');

console.log(`the seed loop, ${ITERATIONS} iterations (${environment().cpu}, ${environment().cores} cores)\n`);
table([
  { workload: `seed loop, ${ITERATIONS} iterations`, values: [eager.median, withGuards.median, withLifting.median], unit: 'ms' },
], { columns: ['eager', 'jit with guards', 'jit, loop lifted'], ratio: { subject: 2, baseline: 0, header: 'eager/lifted' } });
console.log(`\none-off costs (ms): jit with guards: two traces ${setup.guarded.traces.toFixed(0)}, first replay ${setup.guarded.firstReplay.toFixed(0)}; lifted: two traces ${setup.lifted.traces.toFixed(0)}, first replay ${setup.lifted.firstReplay.toFixed(0)}`);
const webgpu = await webGpuRows(ITERATIONS);
const path = saveJson(resultsPath('loop'), {
  iterations: ITERATIONS, eager, withGuards, withLifting, setup, stats: { guarded: guarded.stats, lifted: lifted.stats }, webgpu,
});
console.log(`\nsaved ${path}`);
