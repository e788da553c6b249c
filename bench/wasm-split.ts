/**
 * Where splitting a Wasm kernel over threads starts to pay: a map (add, and exp) over n
 * float32 elements, run whole on the calling thread and split in two jobs over the pool
 * (the calling thread and one worker), interleaved rounds, for n = 2^12 … 2^20. Prints the
 * split/whole time ratio per size; runtime/wasm/split.ts's MIN_SPLIT_WORK comes from it.
 *
 *   npx tsc -p tsconfig.bench.json && node dist/bench/wasm-split.js
 */
import { renderWasm } from '../compiler/codegen/wasm/render.js';
import type { MapSpec } from '../compiler/kernel.js';
import { MAX_PAGES, wasmHeap } from '../runtime/wasm/memory.js';
import { wasmKernel } from '../runtime/wasm/modules.js';
import { runJobs, setNumThreads, threadsReady } from '../runtime/wasm/threads.js';
import { fmtNumber, formatTable, interleavedRounds, resultsPath, saveJson } from './harness.js';

const ROUNDS = Number(process.env.ROUNDS ?? 5);

function mapSpec(n: number, op: 'add' | 'exp'): MapSpec {
  const body: MapSpec['body'] = op === 'add'
    ? [{ op: 'load', arg: 1 }, { op: 'load', arg: 2 }, { op: 'prim', prim: 'add', args: [0, 1], dtype: 'float32' }]
    : [{ op: 'load', arg: 1 }, { op: 'prim', prim: 'exp', args: [0], dtype: 'float32' }];
  const args = op === 'add' ? 3 : 2;
  return {
    kind: 'map', shape: [n], dtypes: new Array(args).fill('float32'), strides: new Array(args).fill([1]),
    body, stores: [{ arg: 0, node: body.length - 1 }],
  };
}

async function main(): Promise<void> {
  setNumThreads(2);
  if ((await threadsReady()) < 2) throw new Error('wasm-split bench: needs a second thread');
  const heap = wasmHeap();
  const rows: string[][] = [];
  const results: Record<string, unknown> = {};
  for (const op of ['add', 'exp'] as const) {
    for (let log2 = 12; log2 <= 20; log2++) {
      const n = 2 ** log2;
      const spec = mapSpec(n, op);
      const program = renderWasm(spec, { shared: heap.shared, maxPages: MAX_PAGES });
      if (program.kind !== 'wasm') throw new Error('wasm-split bench: expected a Wasm module');
      const kernel = wasmKernel(`wasm-split|${op}|${n}`, program.entry, () => program.bytes);
      const addresses = spec.dtypes.map(() => heap.alloc(4 * n));
      const offsets = spec.dtypes.map(() => 0);
      const entry = kernel.exports[program.entry]!;
      const half = n / 2;
      const job = (from: number, to: number) => [...addresses, ...offsets, from, to, 0];
      const m = interleavedRounds({
        whole: () => entry(...job(0, n)),
        split: () => runJobs(kernel, [job(0, half), job(half, n)]),
      }, ROUNDS, Math.max(20, 2 ** (22 - log2)));
      const ratio = m.split!.median / m.whole!.median;
      const micros = (side: 'whole' | 'split') => fmtNumber(m[side]!.median * 1000);
      rows.push([op, `2^${log2}`, micros('whole'), micros('split'), ratio.toFixed(2)]);
      results[`${op} 2^${log2}`] = { ...m, ratio };
      for (const a of addresses) heap.free(a);
    }
  }
  console.log(formatTable(['map', 'elements', 'whole µs', 'split in 2 µs', 'split / whole'], rows));
  console.log(`saved ${saveJson(resultsPath('wasm-split'), { rounds: ROUNDS, results })}`);
}

await main();
