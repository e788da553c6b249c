/**
 * The page of the browser thread-scaling benchmark (bench/browser-threads.ts serves it
 * cross-origin isolated): float32 matmuls on one thread and on two, timed in the page in
 * interleaved rounds (each round starts with the side the last one ended with), so drift
 * on a busy machine hits both alike. The times are left on `kilnBench`.
 */
import { setNumThreads, tensor, threadsReady, type Tensor } from '../../../src/index.js';

/** What the page measured: the threads it got, and milliseconds per round for each size. */
export interface BrowserThreadsResult {
  threads: number;
  sizes: Record<string, { one: number[]; two: number[] }>;
}

const SIZES = [512, 1024];
const ROUNDS = 9;

function operand(n: number, seed: number): Tensor {
  const values = Float32Array.from({ length: n * n }, (_, i) => (((i * 7919 + seed) % 2003) - 1001) / 1024);
  return tensor(values, { shape: [n, n] });
}

async function run(): Promise<BrowserThreadsResult> {
  setNumThreads(2);
  const result: BrowserThreadsResult = { threads: await threadsReady(), sizes: {} };
  for (const n of SIZES) {
    const a = operand(n, 13), b = operand(n, 101);
    const time = (threads: number): number => {
      setNumThreads(threads);
      const start = performance.now();
      a.matmul(b).data();
      return performance.now() - start;
    };
    time(1);
    time(2);
    const one: number[] = [], two: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      if (r % 2 === 0) {
        one.push(time(1));
        two.push(time(2));
      } else {
        two.push(time(2));
        one.push(time(1));
      }
    }
    result.sizes[n] = { one, two };
  }
  return result;
}

const target = globalThis as { kilnBench?: unknown };
try {
  target.kilnBench = await run();
} catch (e) {
  target.kilnBench = { error: (e as Error).stack ?? String(e) };
}
