/**
 * Size-generic Wasm modules against constant-size ones: the kernels jit compiles for each
 * workload (recorded from a traced call on the Wasm engine), each rendered twice, once with
 * its sizes as constants (a family's first member) and once taking every nonzero size as a
 * parameter (what a family's later members run), over the same buffers, in one process with
 * interleaved rounds, on one thread and on all of them. The two must give the same bits
 * (checked before timing). Prints generic / constant time per workload (below 1: the generic
 * module is faster) and saves them as JSON; medians of per-round medians.
 *
 *   npx tsc -p tsconfig.bench.json && KILN_CPU=wasm node dist/bench/wasm-sizes.js
 */
import { renderWasm } from '../compiler/codegen/wasm/render.js';
import type { KernelSpec } from '../compiler/kernel.js';
import { WasmBackend } from '../runtime/wasm/backend.js';
import { cpuEngine } from '../runtime/wasm/engine.js';
import * as k from '../src/index.js';
import { fmtNumber, formatTable, interleavedRounds, resultsPath, saveJson } from './harness.js';
import { prepare, sameBits, specsOf } from './kernel-replay.js';

const ROUNDS = Number(process.env.ROUNDS ?? 7);

async function main(): Promise<void> {
  if (cpuEngine() !== 'wasm') throw new Error('wasm-sizes bench: run with KILN_CPU=wasm');
  const threads = await k.threadsReady();
  k.manualSeed(0);
  const x2 = k.randn([4096, 1024]), w = k.randn([1024]), b = k.randn([1024]);
  const x1 = k.randn([1 << 22]), a = k.randn([1 << 22]), c = k.randn([1 << 22]);
  const g = k.randn([128, 256]), h = k.randn([128, 256]);
  const workloads: [string, (...xs: k.Tensor[]) => k.Tensor, k.Tensor[]][] = [
    ['add 4M', (p, q) => p!.add(q!), [x1, a]],
    ['gelu(x*a+b) 4M, tanh', (p, q, r) => k.gelu(p!.mul(q!).add(r!), 'tanh'), [x1, a, c]],
    ['row sums [4096,1024]', (p) => p!.sum(1), [x2]],
    ['column sums [4096,1024]', (p) => p!.sum(0), [x2]],
    ['softmax [4096,1024]', (p) => k.softmax(p!, -1), [x2]],
    ['layerNorm [4096,1024]', (p, q, r) => k.nn.layerNorm(p!, [1024], q!, r!), [x2, w, b]],
    ['relu backward + bias gradient [128,256]', (p, q) => k.where(p!.gt(0), q!, 0).sum(0), [g, h]],
  ];
  const constant = new WasmBackend<KernelSpec>((spec, target) => renderWasm(spec, target));
  const generic = new WasmBackend<KernelSpec>((spec, target) => renderWasm(spec, target, 'every'));
  const rows: string[][] = [];
  const json: Record<string, Record<string, number>> = {};
  for (const [name, fn, inputs] of workloads) {
    const specs = specsOf(fn, inputs);
    const sides = { constant: prepare(constant, specs), generic: prepare(generic, specs) };
    sides.constant.run();
    sides.generic.run();
    if (!sameBits(sides.constant.out(), sides.generic.out())) {
      throw new Error(`wasm-sizes bench: ${name}: generic bits differ`);
    }
    json[name] = {};
    for (const n of [1, threads]) {
      k.setNumThreads(n);
      const m = interleavedRounds({ constant: sides.constant.run, generic: sides.generic.run }, ROUNDS, 15, 2);
      const ratio = m.generic!.median / m.constant!.median;
      json[name]![`${n} thread(s)`] = ratio;
      rows.push([name, String(n), fmtNumber(m.constant!.median), fmtNumber(m.generic!.median), ratio.toFixed(3)]);
    }
    k.setNumThreads(threads);
  }
  console.log(formatTable(['workload', 'threads', 'constant ms', 'generic ms', 'generic / constant'], rows));
  saveJson(resultsPath('wasm-sizes'), json);
}

await main();
