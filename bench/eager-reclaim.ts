/**
 * A PyTorch-style eager training loop (no tidy, no dispose) on both CPU engines: the MLP
 * 784-256-256-10 with SGD on a batch of 128, STEPS synchronous steps. Tensors the loop drops
 * are collected as it runs on the JavaScript engine; on the Wasm engine they must come back
 * by spilling to the JavaScript heap, so this prints the Wasm memory's live bytes and size
 * every REPORT steps, and each engine's time per step. An engine is chosen once per process:
 * one child process per engine and round, alternating (wasm, js, js, wasm, …); medians of
 * the rounds' per-step times are compared as a ratio and saved as JSON.
 *
 *   npx tsc -p tsconfig.bench.json && node dist/bench/eager-reclaim.js
 *   STEPS=2000 ROUNDS=2 node dist/bench/eager-reclaim.js
 */
import * as k from '../src/node.js';
import { wasm } from '../compiler/backends.js';
import { cpuEngine } from '../runtime/wasm/engine.js';
import { engineRounds, fmtNumber, formatTable, resultsPath, saveJson } from './harness.js';

const STEPS = Number(process.env.STEPS ?? 2000);
const REPORT = Number(process.env.REPORT ?? 200);
const ROUNDS = Number(process.env.ROUNDS ?? 2);
const MiB = 2 ** 20;

interface Trace {
  engine: string;
  /** Milliseconds per step over the steps after the first REPORT (warm-up). */
  msPerStep: number;
  /** At every REPORT steps: live MiB in the Wasm memory, its size in MiB, and ms per step since the last row. */
  rows: { step: number; liveMiB: number; memoryMiB: number; msPerStep: number }[];
  spill: ReturnType<typeof wasm.spillStats> | undefined;
}

function train(): Trace {
  k.manualSeed(0);
  const model = new k.nn.Sequential(
    new k.nn.Linear(784, 256), new k.nn.ReLU(), new k.nn.Linear(256, 256), new k.nn.ReLU(), new k.nn.Linear(256, 10));
  const opt = new k.optim.SGD(model.parameters(), { lr: 0.01 });
  const x = k.randn([128, 784]), y = k.randint(0, 10, [128]);
  const rows: Trace['rows'] = [];
  let last = performance.now(), warm = last;
  for (let step = 1; step <= STEPS; step++) {
    opt.zeroGrad();
    const loss = k.nn.crossEntropy(model.forward(x), y);
    loss.backward();
    opt.step();
    loss.item();
    if (step % REPORT === 0) {
      const now = performance.now(), m = k.memory().cpu;
      rows.push({ step, liveMiB: m.bytes / MiB, memoryMiB: m.memoryBytes / MiB, msPerStep: (now - last) / REPORT });
      if (step === REPORT) warm = now;
      last = now;
    }
  }
  const msPerStep = (performance.now() - warm) / (STEPS - REPORT);
  return { engine: cpuEngine(), msPerStep, rows, spill: cpuEngine() === 'wasm' ? wasm.spillStats() : undefined };
}


if (process.env.KILN_BENCH_CHILD === '1') {
  console.log(JSON.stringify(train()));
} else {
  const seen = engineRounds<Trace>('eager-reclaim', import.meta.url, ROUNDS);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const first = seen.wasm[0]!;
  const what = 'Eager MLP 784-256-256-10 SGD, batch 128, no tidy/dispose';
  console.log(`${what}: ${STEPS} steps, ${ROUNDS} rounds per engine\n`);
  console.log('Wasm engine, first round:');
  console.log(formatTable(['step', 'live MiB', 'memory MiB', 'ms/step'],
    first.rows.map((r) => [String(r.step), fmtNumber(r.liveMiB), fmtNumber(r.memoryMiB), fmtNumber(r.msPerStep)])));
  console.log(`spills: ${JSON.stringify(first.spill)}\n`);
  const wasmMs = median(seen.wasm.map((t) => t.msPerStep)), jsMs = median(seen.js.map((t) => t.msPerStep));
  console.log(formatTable(['engine', 'ms per step (median of rounds)'],
    [['wasm', fmtNumber(wasmMs)], ['js', fmtNumber(jsMs)], ['wasm / js', (wasmMs / jsMs).toFixed(2)]]));
  console.log(`\nsaved ${saveJson(resultsPath('eager-reclaim'), { steps: STEPS, wasm: seen.wasm, js: seen.js })}`);
}
