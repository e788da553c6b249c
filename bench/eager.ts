/**
 * Eager kiln on the CPU side by side with TensorFlow.js's pure-JS CPU backend.
 *
 *   npm run bench   (compiles with tsconfig.bench.json, then runs dist/bench/eager.js)
 *
 * tfjs-node is deliberately not the baseline: it wraps libtensorflow through a native
 * addon, while kiln and tfjs-backend-cpu are both plain JavaScript on one thread.
 *
 * Both libraries get the same input values (drawn once from kiln's seeded randn and copied
 * into each), and every output is checked against the other's before it is timed. Times
 * are medians over interleaved rounds (kiln, tfjs, kiln, tfjs, ...) so that drift on a busy
 * machine hits both sides alike.
 *
 * Targets: per-op overhead on [16] below tfjs's; every other workload at least 3x faster.
 */
import * as tf from '@tensorflow/tfjs-core';
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
import * as k from '../src/index.js';
import { environment, fmtNumber, interleaved, maxAbsDiff, measure, resultsPath, saveJson, table, type Measurement, type MeasureOptions, type TableRow } from './harness.js';

type Fn = () => unknown;

/** Times kiln and tfjs in alternating rounds and pools each side's samples. */
function compare(name: string, kilnFn: Fn, tfjsFn: Fn, opts: MeasureOptions & { rounds?: number }): { kiln: Measurement; tfjs: Measurement } {
  const { a, b } = interleaved(name, { a: ['kiln', kilnFn], b: ['tfjs', tfjsFn] }, opts);
  return { kiln: a, tfjs: b };
}

/** Fails the run when the two libraries disagree: a fast wrong answer is not a result. */
function check(name: string, kilnOut: ArrayLike<number>, tfjsOut: ArrayLike<number>, tol: number): number {
  const d = maxAbsDiff(kilnOut, tfjsOut);
  if (!(d <= tol)) throw new Error(`${name}: kiln and tfjs disagree (max |diff| ${d} > ${tol})`);
  return d;
}

/** One set of input values, as a kiln tensor and a tfjs tensor. */
function inputs(shape: number[]): { kt: k.Tensor; tt: tf.Tensor; values: Float32Array } {
  const values = k.randn(shape).data<'float32'>();
  // Each side gets its own copy: tf.tensor keeps the array it is given.
  return { kt: k.tensor(values, { shape }), tt: tf.tensor(values.slice(), shape, 'float32'), values };
}

interface Workload {
  workload: string;
  unit: string;
  kiln: number;
  tfjs: number;
  speedup: number;
  target: string;
  met: boolean;
  maxAbsDiff: number;
  gflops?: { kiln: number; tfjs: number };
  raw: { kiln: Measurement; tfjs: Measurement };
}

async function main(): Promise<void> {
  // Production mode turns off tfjs's debug checks and its "install tfjs-node" notice.
  tf.enableProdMode();
  await tf.setBackend('cpu');
  await tf.ready();
  if (tf.getBackend() !== 'cpu') throw new Error(`tfjs backend is ${tf.getBackend()}, expected cpu`);
  k.manualSeed(0);

  const env = environment();
  console.log(`node ${env.node}, ${env.cpu} x${env.cores}, tfjs-core ${tf.version_core} / tfjs-backend-cpu ${version_cpu}`);
  console.log('kiln and tfjs run the same inputs; times are medians; ratio = tfjs / kiln (above 1: kiln is faster).\n');

  const results: Workload[] = [];
  const record = (
    workload: string, unit: string, scale: number, m: { kiln: Measurement; tfjs: Measurement },
    target: 'overhead' | 'speedup', diff: number, flops?: number,
  ): void => {
    const kilnV = m.kiln.median * scale, tfjsV = m.tfjs.median * scale;
    const speedup = tfjsV / kilnV;
    const w: Workload = {
      workload, unit, kiln: kilnV, tfjs: tfjsV, speedup,
      target: target === 'overhead' ? 'below tfjs' : '>= 3x',
      met: target === 'overhead' ? kilnV < tfjsV : speedup >= 3,
      maxAbsDiff: diff, raw: m,
    };
    if (flops !== undefined) w.gflops = { kiln: flops / (m.kiln.median * 1e6), tfjs: flops / (m.tfjs.median * 1e6) };
    results.push(w);
  };

  // tfjs ops are called as functions (tf.add(a, b)): the node build of tfjs-core does not
  // install the chained methods (a.add(b)), which are thin wrappers over the same calls.

  // (a) Per-op overhead: 1000 adds of two [16] tensors per timed call, reported per add.
  // kiln: the loop as written; results become garbage, and the GC time they cost is part of
  // the figure, as it is for any user. tfjs: the same loop inside tf.tidy, as a tfjs user
  // would write it, so the time includes tidy's scope bookkeeping and disposing the 1000
  // results at its end (without disposal tfjs would leak them). Neither reads results back.
  {
    const OPS = 1000;
    const a = inputs([16]), b = inputs([16]);
    const diff = check('add [16]', a.kt.add(b.kt).data<'float32'>(), tf.tidy(() => tf.add(a.tt, b.tt).dataSync()), 0);
    const kilnAdds = (): k.Tensor => {
      let out = a.kt;
      for (let i = 0; i < OPS; i++) out = a.kt.add(b.kt);
      return out;
    };
    const tfjsAdds = (): void => {
      tf.tidy(() => {
        for (let i = 0; i < OPS; i++) tf.add(a.tt, b.tt);
      });
    };
    const m = compare('add16', kilnAdds, tfjsAdds, { warmup: 50, runs: 60, minTimeMs: 1500 });
    record(`add [16] x${OPS}`, 'us/op', 1000 / OPS, m, 'overhead', diff);
  }

  // (b) gelu(x*a + b) on 4M elements, a and b full-size tensors; the exact erf GELU.
  // tfjs core has no gelu, so it is composed from the same seven ops kiln's gelu lowers to:
  // x*a, +b, *0.5, *(1/sqrt2), erf, +1, and the final product.
  // Both sides read the result back (kiln .data(), a fresh copy; tfjs dataSync(), the
  // backend's own array), so the figure is "inputs in, numbers out" for each.
  {
    const shape = [4 * 1024 * 1024];
    const x = inputs(shape), a = inputs(shape), b = inputs(shape);
    const kilnGelu = (): Float32Array => k.gelu(x.kt.mul(a.kt).add(b.kt)).data<'float32'>();
    const tfjsGelu = (): Float32Array => {
      const out = tf.tidy(() => {
        const y = tf.add(tf.mul(x.tt, a.tt), b.tt);
        return tf.mul(tf.mul(y, 0.5), tf.add(tf.erf(tf.mul(y, Math.SQRT1_2)), 1));
      });
      const values = out.dataSync() as Float32Array;
      out.dispose();
      return values;
    };
    // tfjs's erf is a rational approximation (|error| < 1.5e-7 in erf, scaled by |x|/2 here).
    const diff = check('gelu chain', kilnGelu(), tfjsGelu(), 1e-5);
    const m = compare('gelu', kilnGelu, tfjsGelu, { warmup: 3, runs: 12, minTimeMs: 3000 });
    record('gelu(x*a+b) [4M]', 'ms', 1, m, 'speedup', diff);
  }

  // (c) softmax over the last axis of [4096, 1024], results read back as in (b).
  {
    const shape = [4096, 1024];
    const x = inputs(shape);
    const kilnSoftmax = (): Float32Array => x.kt.softmax(-1).data<'float32'>();
    const tfjsSoftmax = (): Float32Array => {
      const out = tf.softmax(x.tt, -1);
      const values = out.dataSync() as Float32Array;
      out.dispose();
      return values;
    };
    const diff = check('softmax', kilnSoftmax(), tfjsSoftmax(), 1e-6);
    const m = compare('softmax', kilnSoftmax, tfjsSoftmax, { warmup: 3, runs: 12, minTimeMs: 3000 });
    record('softmax [4096,1024] axis -1', 'ms', 1, m, 'speedup', diff);
  }

  // (d) Square float32 matmuls, results read back; GFLOP/s counts 2*n^3 flops.
  for (const n of [512, 1024]) {
    const a = inputs([n, n]), b = inputs([n, n]);
    const kilnMatmul = (): Float32Array => a.kt.matmul(b.kt).data<'float32'>();
    const tfjsMatmul = (): Float32Array => {
      const out = tf.matMul(a.tt, b.tt);
      const values = out.dataSync() as Float32Array;
      out.dispose();
      return values;
    };
    // Sums of n products of N(0,1) values: float32 rounding differs with summation order.
    const diff = check(`matmul ${n}`, kilnMatmul(), tfjsMatmul(), 1e-3);
    const opts = n <= 512 ? { warmup: 3, runs: 10, minTimeMs: 2000 } : { warmup: 1, runs: 6, minTimeMs: 0, rounds: 2 };
    const m = compare(`matmul${n}`, kilnMatmul, tfjsMatmul, opts);
    record(`matmul ${n}x${n}`, 'ms', 1, m, 'speedup', diff, 2 * n ** 3);
  }

  // What kiln's readback alone costs on 4M elements: part of (b) and (c) above.
  const big = k.randn([4 * 1024 * 1024]);
  const readback = measure('kiln .data() [4M]', () => big.data(), { warmup: 3, runs: 15, minTimeMs: 500 });

  const rows: TableRow[] = results.map((w) => {
    const row: TableRow = {
      workload: w.workload, values: [w.kiln, w.tfjs], unit: w.unit,
      extra: { target: w.target, met: w.met ? 'yes' : 'NO' },
    };
    if (w.gflops) row.notes = [`${fmtNumber(w.gflops.kiln)} GFLOP/s`, `${fmtNumber(w.gflops.tfjs)} GFLOP/s`];
    return row;
  });
  table(rows, { columns: ['kiln eager', 'tfjs-cpu'], ratio: { subject: 0, baseline: 1, header: 'speed-up (tfjs/kiln)' }, extraColumns: ['target', 'met'] });
  console.log(`\nkiln .data() of 4M float32 (included in the gelu and softmax rows): ${fmtNumber(readback.median)} ms`);

  const path = saveJson(resultsPath('eager'), {
    versions: { tfjsCore: tf.version_core, tfjsBackendCpu: version_cpu },
    workloads: results,
    kilnReadback4M: readback,
  });
  console.log(`saved ${path}`);
}

await main();
