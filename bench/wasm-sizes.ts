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
import { wasm } from '../compiler/backends.js';
import { argDtypes, renderWasm } from '../compiler/codegen/wasm/render.js';
import type { KernelSpec } from '../compiler/kernel.js';
import type { Backend } from '../runtime/backend.js';
import { ARRAY_OF } from '../runtime/dtype.js';
import { WasmBackend } from '../runtime/wasm/backend.js';
import { cpuEngine } from '../runtime/wasm/engine.js';
import * as k from '../src/index.js';
import { fmtNumber, formatTable, interleavedRounds, resultsPath, saveJson } from './harness.js';

const ROUNDS = Number(process.env.ROUNDS ?? 7);

/** Elements each arg of a (map, reduce or row) spec spans; strides are non-negative here. */
function extents(spec: KernelSpec): number[] {
  const reach = (shape: readonly number[], strides: readonly number[]) =>
    1 + shape.reduce((s, n, d) => s + (n - 1) * Math.abs(strides[d]!), 0);
  switch (spec.kind) {
    case 'map': return spec.strides.map((s) => reach(spec.shape, s));
    case 'reduce': case 'row': {
      const dims = [...spec.outer, ...spec.inner];
      return spec.dtypes.map((_, a) => reach(dims, [...spec.outerStrides[a]!, ...spec.innerStrides[a]!]));
    }
    case 'multi': {
      const out = new Array<number>(spec.args).fill(1);
      for (const p of spec.parts) extents(p.spec).forEach((e, a) => (out[p.args[a]!] = Math.max(out[p.args[a]!]!, e)));
      return out;
    }
    case 'matmul': case 'random': case 'loop': throw new Error(`wasm-sizes bench: no ${spec.kind} kernels expected`);
  }
}

/** The specs of the kernels a jit replay of `fn` launches, in order. */
function specsOf(fn: (...xs: k.Tensor[]) => k.Tensor, inputs: k.Tensor[]): KernelSpec[] {
  const specOf = new Map<unknown, KernelSpec>();
  const compile = wasm.compile.bind(wasm);
  wasm.compile = (key, spec) => {
    let built: KernelSpec | undefined;
    const kernel = compile(key, () => (built = spec()));
    if (built !== undefined) specOf.set(kernel, built);
    return kernel;
  };
  const f = k.jit(fn);
  f(...inputs);
  f(...inputs);
  const specs: KernelSpec[] = [];
  const run = wasm.run.bind(wasm);
  wasm.run = (launches) => {
    for (const l of launches) specs.push(specOf.get(l.kernel)!);
    run(launches);
  };
  try {
    f(...inputs);
  } finally {
    wasm.run = run;
    wasm.compile = compile;
  }
  return specs;
}

/** Runs `specs` in order on `backend` over buffers of values in [-2, 2); a call, and a readout of every output. */
function prepare(
  backend: Backend<any, any, KernelSpec>, specs: readonly KernelSpec[],
): { run: () => void; out: () => number[] } {
  const launches = specs.map((spec, s) => {
    const dtypes = argDtypes(spec);
    const args = extents(spec).map((n, a) => {
      const data = backend.alloc(dtypes[a]!, n);
      const host = new ARRAY_OF[dtypes[a]!](n);
      for (let i = 0; i < n; i++) host[i] = Math.sin(i * 0.37 + a + s) * 2;
      backend.write(data, dtypes[a]!, host);
      return { data, offset: 0 };
    });
    return { kernel: backend.compile(`bench|${s}|${JSON.stringify(spec)}`, () => spec), args, scalars: [] as number[] };
  });
  return {
    run: () => backend.run(launches),
    out: () => launches.flatMap((l, s) => {
      const output = backend.readSync!(l.args[0]!.data, argDtypes(specs[s]!)[0]!, 0, extents(specs[s]!)[0]!);
      return Array.from(output);
    }),
  };
}

function sameBits(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]) || (Number.isNaN(v) && Number.isNaN(b[i])));
}

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
