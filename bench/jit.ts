/**
 * jit vs eager on the CPU, measured side by side in one run:
 *   - per-call cost of a function of 10 chained elementwise ops on [16] tensors (µs/call),
 *     where dispatch dominates and the kernels are trivial;
 *   - one training step of an MLP 784-256-256-10 (ReLU), batch 128, SGD, cross entropy
 *     (ms/step): forward, backward and update compiled as one graph;
 *   - first-call latency (./first-calls.ts): eager, then calls 1 and 2 (traces) and 3 (the
 *     first replay) of a fresh jit'd function, for that step, an attention block and the
 *     seed loop with 100,000 iterations.
 *
 *   npm run bench:jit   (tsc with tsconfig.bench.json, then node dist/bench/jit.js)
 *
 * Both sides compute the same bits; the check before timing asserts it.
 */
import * as k from '../src/index.js';
import { environment, fmtNumber, formatTable, measure, resultsPath, saveJson, table, type Measurement } from './harness.js';
import { firstCalls } from './first-calls.js';

function chain(a: k.Tensor, b: k.Tensor): k.Tensor {
  let x = a.add(b);
  x = x.mul(b).sub(a).mul(0.5).add(1);
  x = x.maximum(a).mul(x).sub(0.25).div(b.abs().add(1)).tanh();
  return x;
}

function sameBits(x: k.Tensor, y: k.Tensor): boolean {
  const a = x.data(), b = y.data();
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]) || (v !== v && b[i] !== b[i]));
}

function overhead(): { eager: Measurement; jit: Measurement } {
  const a = k.randn([16]), b = k.randn([16]);
  const jitted = k.jit(chain);
  for (let i = 0; i < 3; i++) jitted(a, b);
  if (!sameBits(jitted(a, b), chain(a, b))) throw new Error('jit and eager differ on the op chain');
  const calls = 1000;
  const per = (fn: () => unknown) => () => { for (let i = 0; i < calls; i++) fn(); };
  const eager = measure('chain eager', per(() => chain(a, b)), { warmup: 5, runs: 15 });
  const jit = measure('chain jit', per(() => jitted(a, b)), { warmup: 5, runs: 15 });
  const scale = (m: Measurement): Measurement => ({ ...m, median: (m.median * 1000) / calls, min: (m.min * 1000) / calls, p90: (m.p90 * 1000) / calls, mean: (m.mean * 1000) / calls });
  return { eager: scale(eager), jit: scale(jit) };
}

function mlp(): k.nn.Sequential {
  return new k.nn.Sequential(new k.nn.Linear(784, 256), new k.nn.ReLU(), new k.nn.Linear(256, 256), new k.nn.ReLU(), new k.nn.Linear(256, 10));
}

function trainStep(): { eager: Measurement; jit: Measurement } {
  k.manualSeed(0);
  const eagerModel = mlp(), jitModel = mlp();
  jitModel.loadStateDict(eagerModel.stateDict());
  const make = (model: k.nn.Sequential) => {
    const opt = new k.optim.SGD(model.parameters(), { lr: 0.01 });
    return (x: k.Tensor, y: k.Tensor) => {
      opt.zeroGrad();
      const loss = k.nn.crossEntropy(model.forward(x), y);
      loss.backward();
      opt.step();
      return loss.detach();
    };
  };
  const eagerStep = make(eagerModel), jitStep = k.jit(make(jitModel));
  const x = k.rand([128, 784]), y = k.randint(0, 10, [128]);
  for (let i = 0; i < 4; i++) {
    if (!sameBits(jitStep(x, y), eagerStep(x, y))) throw new Error(`jit and eager training steps differ at step ${i}`);
  }
  if (jitStep.stats.replays === 0) throw new Error('the training step did not compile');
  const eager = measure('mlp step eager', () => eagerStep(x, y), { warmup: 3, runs: 15 });
  const jit = measure('mlp step jit', () => jitStep(x, y), { warmup: 3, runs: 15 });
  return { eager, jit };
}

const o = overhead();
const t = trainStep();
console.log(`kiln jit vs eager, CPU (${environment().cpu}, ${environment().cores} cores)\n`);
table([
  { workload: '10 chained ops on [16], per call', values: [o.eager.median, o.jit.median], unit: 'us' },
  { workload: 'MLP 784-256-256-10 SGD step, batch 128', values: [t.eager.median, t.jit.median], unit: 'ms' },
], { columns: ['eager', 'jit'], ratio: { subject: 1, baseline: 0, header: 'eager/jit' } });
const first = firstCalls();
console.log('\nfirst calls of a fresh jit\'d function (ms, median over rounds; in brackets: x eager)\n');
const times = (ms: number, eager: number) => `${fmtNumber(ms)} (${(ms / eager).toFixed(2)}x)`;
console.log(formatTable(['workload', 'eager', 'call 1', 'call 2', 'first replay'], first.map((f) => [
  f.workload, fmtNumber(f.eager), times(f.call1, f.eager), times(f.call2, f.eager), times(f.call3, f.eager),
])));
console.log('(plain jit on the seed loop stops unrolling it on call 1 and stays eager: call 3 is eager, not a replay)');
const path = saveJson(resultsPath('jit'), { overhead: o, trainStep: t, firstCalls: first });
console.log(`\nsaved ${path}`);
