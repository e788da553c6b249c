/**
 * One epoch of the MNIST CNN example (examples/mnist-cnn.ts: two 3×3 convolutions with max
 * pooling and a linear classifier, Adam, batches of 64 over the 8,000 training images, the
 * jit'd step of examples/common.ts with its loss read back every batch) on each CPU engine:
 * the default (WebAssembly) and KILN_CPU=js, and, with KILN_BASE naming the root of another
 * kiln build (its `dist/src/node.js`, compiled with tsconfig.bench.json), that build at its
 * default engine, so a change is measured against its base. An engine is chosen once per
 * process, so each round runs one child process per side, the order rotating from round to
 * round so that load on the machine falls on every side; a child trains a first epoch
 * (tracing and compiling, what the example's first epoch costs) and then EPOCHS more, and
 * the medians over rounds are compared as ratios and saved as JSON.
 *
 *   npx tsc -p tsconfig.bench.json && [KILN_BASE=<root>] node dist/bench/mnist-epoch.js
 *   ROUNDS=3 EPOCHS=2 KILN_THREADS=1 ...
 */
import { pathToFileURL } from 'node:url';
import type * as kiln from '../src/node.js';
import { childResult, fmtNumber, formatTable, repoRoot, resultsPath, saveJson } from './harness.js';

type Kiln = typeof kiln;

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const EPOCHS = Number(process.env.EPOCHS ?? 2);
const BATCH = 64, TRAIN = 8000, LR = 4e-3;

/** What one child measured: milliseconds of its first epoch and of each later one. */
interface EpochTimes {
  engine: string;
  first: number;
  later: number[];
  loss: number;
}

/** The example's CNN: [N,1,28,28] → conv 3×3, 8 → pool → conv 3×3, 16 → pool → linear to 10. */
function makeCnn(k: Kiln): kiln.nn.Sequential {
  const { nn } = k;
  return new nn.Sequential(
    new nn.Conv2d(1, 8, 3), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Conv2d(8, 16, 3), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Flatten(), new nn.Linear(16 * 5 * 5, 10),
  );
}

/** Trains 1 + EPOCHS epochs with the kiln at `root`, timing each. */
async function trainEpochs(root: string): Promise<EpochTimes> {
  const k = (await import(pathToFileURL(`${root}/dist/src/node.js`).href)) as Kiln;
  const { images, labels } = k.data.loadMnist();
  const x = images.narrow(0, 0, TRAIN).reshape([-1, 1, 28, 28]), y = labels.narrow(0, 0, TRAIN);
  k.manualSeed(0);
  const model = makeCnn(k);
  const optimizer = new k.optim.Adam(model.parameters(), { lr: LR });
  const schedule = new k.optim.CosineAnnealingLR(optimizer, 1 + EPOCHS);
  const loader = new k.data.DataLoader([x, y], { batchSize: BATCH, shuffle: true, seed: 0 });
  const step = k.jit((xb: kiln.Tensor, yb: kiln.Tensor) => {
    optimizer.zeroGrad();
    const loss = k.nn.crossEntropy(model.forward(xb), yb);
    loss.backward();
    optimizer.step();
    return loss.detach();
  });
  const times: number[] = [];
  let loss = 0;
  for (let epoch = 0; epoch <= EPOCHS; epoch++) {
    model.train();
    const start = performance.now();
    for (const [xb, yb] of loader) loss = step(xb, yb).item();
    times.push(performance.now() - start);
    schedule.step();
  }
  // The engine as that build names it (a base build may predate cpuEngineInfo).
  const { cpuEngine } = (await import(pathToFileURL(`${root}/dist/runtime/wasm/engine.js`).href)) as
    { cpuEngine: () => string };
  return { engine: cpuEngine(), first: times[0]!, later: times.slice(1), loss };
}

type Side = 'wasm' | 'js' | 'base';

function child(side: Side): EpochTimes {
  const root = side === 'base' ? process.env.KILN_BASE! : repoRoot();
  const env = { KILN_CPU: side === 'js' ? 'js' : '', KILN_BENCH_CHILD: root };
  return childResult<EpochTimes>('mnist-epoch', import.meta.url, env);
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

if (process.env.KILN_BENCH_CHILD !== undefined) {
  console.log(JSON.stringify(await trainEpochs(process.env.KILN_BENCH_CHILD)));
} else {
  const sides: Side[] = process.env.KILN_BASE !== undefined ? ['wasm', 'js', 'base'] : ['wasm', 'js'];
  const seen = new Map<Side, EpochTimes[]>(sides.map((s) => [s, []]));
  for (let r = 0; r < ROUNDS; r++) {
    // Rotate the order (wasm js base, js base wasm, …) so no side always runs first or last.
    for (let i = 0; i < sides.length; i++) {
      const side = sides[(i + r) % sides.length]!;
      const t = child(side);
      seen.get(side)!.push(t);
      console.log(`round ${r + 1}: ${side} (${t.engine}) first epoch ${fmtNumber(t.first)} ms, then ` +
        `${t.later.map(fmtNumber).join(', ')} ms; loss ${t.loss.toFixed(4)}`);
    }
  }
  const rows = sides.map((side) => {
    const runs = seen.get(side)!;
    return {
      side, engine: runs[0]!.engine,
      first: median(runs.map((t) => t.first)), epoch: median(runs.flatMap((t) => t.later)),
    };
  });
  const wasm = rows[0]!;
  console.log(`\nMNIST CNN epoch (${TRAIN / BATCH} jit steps of batch ${BATCH}), medians of ${ROUNDS} rounds\n`);
  const header = ['side', 'engine, as the build names it', 'first epoch, ms', 'later epoch, ms', 'later / wasm'];
  console.log(formatTable(header,
    rows.map((r) => [r.side, r.engine, fmtNumber(r.first), fmtNumber(r.epoch), (r.epoch / wasm.epoch).toFixed(2)])));
  console.log(`\nsaved ${saveJson(resultsPath('mnist-epoch'), { rounds: ROUNDS, epochs: EPOCHS, rows })}`);
}
