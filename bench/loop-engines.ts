/**
 * The small-kernel workloads of the jit on the two CPU engines, back to back: the seed loop
 * lifted (one loop node; each iteration runs one-element kernels) and guarded (unrolled,
 * replayed op by op with a guard per condition), and a jit call of a chain of 10 small ops on
 * [16]. An engine is chosen once per process, so each round runs one child process per
 * engine, alternating (wasm, js, js, wasm, …); medians of the rounds' medians are compared
 * as ratios (Wasm engine / JavaScript engine) and saved as JSON.
 *
 *   npx tsc -p tsconfig.bench.json && ROUNDS=4 node dist/bench/loop-engines.js
 */
import * as k from '../src/node.js';
import { cpuEngine } from '../runtime/wasm/engine.js';
import {
  engineRounds, fmtNumber, formatTable, measure, mergeRounds, resultsPath, saveJson, type Measurement,
} from './harness.js';

const ROUNDS = Number(process.env.ROUNDS ?? 4);
const LIFTED = 100_000;
const GUARDED = 2_000;
const CHAINS = 2_000;

function seedLoop(first: k.Tensor, second: k.Tensor): k.Tensor[] {
  while (first < second) {
    first = first.add(2);
    second = second.add(1);
  }
  return [first, second];
}

function chain(a: k.Tensor, b: k.Tensor): k.Tensor {
  let x = a.add(b);
  x = x.mul(b).sub(a).mul(0.5).add(1);
  x = x.maximum(a).mul(x).sub(0.25).div(b.abs().add(1)).tanh();
  return x;
}

/** The workloads timed in this process: milliseconds per batch (LIFTED or GUARDED iterations, CHAINS calls). */
function runWorkloads(): Record<string, Measurement> {
  const int = (v: number) => k.tensor(v, { dtype: 'int32' });
  const lifted = k.jit(seedLoop, { rewrite: true });
  const guarded = k.jit(seedLoop, { rewrite: true, liftLoops: false });
  k.manualSeed(0);
  const a = k.randn([16]), b = k.randn([16]);
  const jitted = k.jit(chain);
  const calls = () => {
    for (let i = 0; i < CHAINS; i++) k.tidy(() => jitted(a, b));
  };
  return {
    lifted: measure('lifted', () => lifted(int(0), int(LIFTED)), { warmup: 3, runs: 9 }),
    guarded: measure('guarded', () => guarded(int(0), int(GUARDED)), { warmup: 3, runs: 9 }),
    chain: measure('chain', calls, { warmup: 3, runs: 9 }),
  };
}

/** Per-item scale of each workload's batch time (ms) to its unit: ns per iteration, µs per call. */
const UNITS: Record<string, [string, number]> = {
  lifted: ['seed loop lifted, ns per iteration', 1e6 / LIFTED],
  guarded: ['seed loop guarded, ns per iteration', 1e6 / GUARDED],
  chain: ['jit call of a 10-op chain on [16], µs per call', 1e3 / CHAINS],
};


if (process.env.KILN_BENCH_CHILD === '1') {
  console.log(JSON.stringify({ engine: cpuEngine(), ...runWorkloads() }));
} else {
  const seen = engineRounds<Record<string, Measurement>>('loop-engines', import.meta.url, ROUNDS);
  const rows = Object.entries(UNITS).map(([key, [name, scale]]) => {
    const w = mergeRounds(seen.wasm.map((s) => s[key]!)).median * scale;
    const j = mergeRounds(seen.js.map((s) => s[key]!)).median * scale;
    return { name, wasm: w, js: j, ratio: w / j };
  });
  console.log(`jit small-kernel workloads, ${ROUNDS} rounds of one child process per engine (medians)\n`);
  console.log(formatTable(['workload', 'wasm', 'js', 'wasm / js'],
    rows.map((r) => [r.name, fmtNumber(r.wasm), fmtNumber(r.js), r.ratio.toFixed(2)])));
  console.log(`\nsaved ${saveJson(resultsPath('loop-engines'), rows)}`);
}
