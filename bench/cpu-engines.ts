/**
 * The two CPU engines back to back: the WebAssembly engine (the default) against the
 * JavaScript engine (KILN_CPU=js) on the same workloads. An engine is chosen once per
 * process, so each round runs one child process per engine, alternating (wasm, js, js,
 * wasm, …) so that load on the machine falls on both; medians of the rounds' medians are
 * compared as ratios and saved as JSON.
 *
 * Workloads: eager add of two float32[16] (per call: the dispatch cost), disposed at once or
 * dropped (the Wasm engine then spills it when its memory fills), a chain of 10 eager ops on
 * [16] in a tidy scope, eager matmul 256×256, and an MLP 784-256-256-10 SGD step on a batch
 * of 128 (forward, backward, update, loss read back) eagerly and under jit.
 *
 *   npx tsc -p tsconfig.bench.json && node dist/bench/cpu-engines.js
 *   ROUNDS=8 ONLY=add,chain node dist/bench/cpu-engines.js
 */
import * as k from '../src/node.js';
import { cpuEngine } from '../runtime/wasm/engine.js';
import {
  engineRounds, fmtNumber, formatTable, measure, mergeRounds, resultsPath, saveJson, type Measurement,
} from './harness.js';

const ROUNDS = Number(process.env.ROUNDS ?? 4);
const ADDS = 20_000;

/** The workloads of one engine, timed in this process (milliseconds per call; add: per batch of ADDS calls). */
function runWorkloads(): Record<string, Measurement> {
  k.manualSeed(0);
  const a = k.randn([16]), b = k.randn([16]);
  const adds = () => {
    for (let i = 0; i < ADDS; i++) a.add(b).dispose();
  };
  const dropped = () => {
    for (let i = 0; i < ADDS; i++) a.add(b);
  };
  const chains = () => {
    for (let i = 0; i < ADDS / 10; i++) {
      k.tidy(() => a.add(b).mul(b).sub(a).exp().tanh().mul(2).add(1).neg().abs().sqrt());
    }
  };
  const m1 = k.randn([256, 256]), m2 = k.randn([256, 256]);
  const model = new k.nn.Sequential(
    new k.nn.Linear(784, 256), new k.nn.ReLU(), new k.nn.Linear(256, 256), new k.nn.ReLU(), new k.nn.Linear(256, 10));
  const opt = new k.optim.SGD(model.parameters(), { lr: 0.01 });
  const x = k.randn([128, 784]), y = k.randint(0, 10, [128]);
  const step = (input: k.Tensor, target: k.Tensor) => {
    opt.zeroGrad();
    const loss = k.nn.crossEntropy(model.forward(input), target);
    loss.backward();
    opt.step();
    return loss;
  };
  const jitted = k.jit(step);
  const workloads: Record<string, () => Measurement> = {
    'eager add [16] + dispose, µs per call': () => measure('add', adds, { warmup: 2, runs: 5 }),
    'eager add [16] dropped, µs per call': () => measure('dropped', dropped, { warmup: 2, runs: 5 }),
    'eager 10-op chain [16] in tidy, µs per chain': () => measure('chain', chains, { warmup: 2, runs: 5 }),
    'eager matmul 256, ms': () =>
      measure('matmul', () => k.tidy(() => m1.matmul(m2)).dispose(), { warmup: 3, runs: 20 }),
    'MLP step eager, ms': () => measure('eager', () => k.tidy(() => step(x, y).item()), { warmup: 3, runs: 10 }),
    'MLP step jit, ms': () => measure('jit', () => k.tidy(() => jitted(x, y).item()), { warmup: 4, runs: 20 }),
  };
  // ONLY=add,chain times the workloads whose names contain one of those words.
  const only = process.env.ONLY?.split(',');
  const chosen = Object.keys(workloads).filter((name) => only === undefined || only.some((w) => name.includes(w)));
  return Object.fromEntries(chosen.map((name) => [name, workloads[name]!()]));
}


if (process.env.KILN_BENCH_CHILD === '1') {
  console.log(JSON.stringify({ engine: cpuEngine(), ...runWorkloads() }));
} else {
  const seen = engineRounds<Record<string, Measurement>>('cpu-engines', import.meta.url, ROUNDS);
  const names = Object.keys(seen.wasm[0]!).filter((n) => n !== 'engine');
  const merged = (engine: 'wasm' | 'js', name: string) => mergeRounds(seen[engine].map((s) => s[name]!));
  // The [16] workloads are timed per batch of ADDS calls (ADDS / 10 chains): reported per call or chain, in µs.
  const scale = (name: string) =>
    (name.startsWith('eager add') ? 1000 / ADDS : name.includes('chain') ? 10_000 / ADDS : 1);
  const rows = names.map((name) => {
    const w = merged('wasm', name).median * scale(name), j = merged('js', name).median * scale(name);
    return { name, wasm: w, js: j, ratio: w / j };
  });
  console.log(`CPU engines, ${ROUNDS} rounds of one child process per engine (medians)\n`);
  console.log(formatTable(['workload', 'wasm', 'js', 'wasm / js'],
    rows.map((r) => [r.name, fmtNumber(r.wasm), fmtNumber(r.js), r.ratio.toFixed(2)])));
  console.log(`\nsaved ${saveJson(resultsPath('cpu-engines'), rows)}`);
}
