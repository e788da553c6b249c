/**
 * pow with a constant exponent against the same math written out, eagerly and under jit,
 * on 4M float32 elements. pow(x, 3) is computed as x·x·x (src/ops/elementwise.ts `pow`), so
 * it should cost what x.mul(x).mul(x) costs; `pow(x, tensor(3))`, whose exponent is a tensor,
 * still runs the pow primitive and shows what the fast path saves.
 *
 *   npx tsc -p tsconfig.bench.json && node dist/bench/pow.js
 *
 * Each row times two peers in interleaved rounds (a, b, a, b, …) and reports medians, the
 * fastest runs and the ratios of both, since the machine may be shared.
 */
import * as k from '../src/index.js';
import { environment, fmtNumber, formatTable, interleaved, resultsPath, saveJson, type Measurement } from './harness.js';

const N = 4 * 1024 * 1024;
type Fn = (x: k.Tensor) => k.Tensor;

interface Row {
  workload: string;
  subject: [string, Fn];
  peer: [string, Fn];
}

const rows: Row[] = [
  { workload: 'x ** 3, eager', subject: ['x.pow(3)', (x) => x.pow(3)], peer: ['x.mul(x).mul(x)', (x) => x.mul(x).mul(x)] },
  { workload: 'x ** 3, jit', subject: ['x.pow(3)', k.jit((x: k.Tensor) => x.pow(3))], peer: ['x.mul(x).mul(x)', k.jit((x: k.Tensor) => x.mul(x).mul(x))] },
  { workload: 'x ** 3, tensor exponent, eager', subject: ['x.pow(3)', (x) => x.pow(3)], peer: ['x.pow(tensor(3))', (x) => x.pow(k.tensor(3))] },
  { workload: 'x ** 2, eager', subject: ['x.pow(2)', (x) => x.pow(2)], peer: ['x.mul(x)', (x) => x.mul(x)] },
  { workload: 'x ** 0.5, eager', subject: ['x.pow(0.5)', (x) => x.pow(0.5)], peer: ['x.sqrt()', (x) => x.sqrt()] },
  { workload: 'x ** 0.5, jit', subject: ['x.pow(0.5)', k.jit((x: k.Tensor) => x.pow(0.5))], peer: ['x.sqrt()', k.jit((x: k.Tensor) => x.sqrt())] },
  { workload: 'x ** -1, eager', subject: ['x.pow(-1)', (x) => x.pow(-1)], peer: ['x.reciprocal()', (x) => x.reciprocal()] },
];

function main(): void {
  k.manualSeed(7);
  const x = k.rand([N]).add(0.5);
  const results: { workload: string; subject: Measurement; peer: Measurement; ratio: number }[] = [];
  for (const row of rows) {
    // Results must agree before they are timed: a fast wrong answer is not a result.
    const a = row.subject[1](x).data(), b = row.peer[1](x).data();
    let worst = 0;
    for (let i = 0; i < N; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(Math.abs(b[i]!), 1e-30));
    if (!(worst <= 1e-6)) throw new Error(`${row.workload}: results differ (relative ${worst})`);
    const m = interleaved(row.workload, { a: [row.subject[0], () => row.subject[1](x)], b: [row.peer[0], () => row.peer[1](x)] }, { warmup: 3, runs: 40, rounds: 10 });
    results.push({ workload: row.workload, subject: m.a, peer: m.b, ratio: m.a.median / m.b.median });
  }
  console.log(`pow with a constant exponent, ${N} float32 elements (ms per call, interleaved rounds; ratio = subject / peer)`);
  console.log(formatTable(
    ['workload', 'subject', 'median ms', 'min ms', 'peer', 'median ms', 'min ms', 'ratio of medians', 'ratio of mins'],
    results.map((r, i) => [
      r.workload, rows[i]!.subject[0], fmtNumber(r.subject.median), fmtNumber(r.subject.min),
      rows[i]!.peer[0], fmtNumber(r.peer.median), fmtNumber(r.peer.min), `${r.ratio.toFixed(2)}x`, `${(r.subject.min / r.peer.min).toFixed(2)}x`,
    ]),
  ));
  console.log(`saved ${saveJson(resultsPath('pow'), { environment: environment(), elements: N, results })}`);
}

main();
