/**
 * The kernels a jit replay launches on the Wasm backend, captured as specs and run again on
 * any backend over buffers of their own: how bench/wasm-kernels.ts and bench/wasm-sizes.ts
 * time one kernel against the same kernel compiled another way.
 */
import { wasm } from '../compiler/backends.js';
import { argDtypes } from '../compiler/codegen/wasm/render.js';
import type { KernelSpec } from '../compiler/kernel.js';
import type { Backend } from '../runtime/backend.js';
import { ARRAY_OF } from '../runtime/dtype.js';
import * as k from '../src/index.js';

/** Elements a loop nest over `shape` with `strides` reaches (strides are non-negative in these workloads). */
function reach(shape: readonly number[], strides: readonly number[]): number {
  return 1 + shape.reduce((s, n, d) => s + (n - 1) * Math.abs(strides[d]!), 0);
}

/** Elements each arg of a spec spans. */
export function extents(spec: KernelSpec): number[] {
  switch (spec.kind) {
    case 'map': return spec.strides.map((s) => reach(spec.shape, s));
    case 'reduce': case 'row': {
      const dims = [...spec.outer, ...spec.inner];
      return spec.dtypes.map((_, a) => reach(dims, [...spec.outerStrides[a]!, ...spec.innerStrides[a]!]));
    }
    // A loop kernel's args are one-element values.
    case 'loop': return spec.dtypes.map(() => 1);
    case 'multi': {
      const out = new Array<number>(spec.args).fill(1);
      for (const p of spec.parts) extents(p.spec).forEach((e, a) => (out[p.args[a]!] = Math.max(out[p.args[a]!]!, e)));
      return out;
    }
    case 'matmul': case 'random': throw new Error(`kernel replay bench: no ${spec.kind} kernels expected`);
  }
}

/** The spec of every kernel the Wasm backend compiled since the first specsOf (a kernel compiles once per key). */
const specOf = new Map<unknown, KernelSpec>();
let recording = false;

function recordSpecs(): void {
  if (recording) return;
  recording = true;
  const compile = wasm.compile.bind(wasm);
  wasm.compile = (key, spec) => {
    let built: KernelSpec | undefined;
    const kernel = compile(key, () => (built = spec()));
    if (built !== undefined) specOf.set(kernel, built);
    return kernel;
  };
}

/** The kernel specs a jit replay of `fn` at `inputs` launches, in order (the third call replays). */
export function specsOf(fn: (...xs: k.Tensor[]) => k.Tensor, inputs: k.Tensor[]): KernelSpec[] {
  recordSpecs();
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
  }
  if (f.stats.replays !== 1) throw new Error(`kernel replay bench: expected one replay, got ${f.stats.replays}`);
  return specs;
}

/** A prepared run of captured specs: launches only, launches then a readback of the last output, every output. */
export interface PreparedSpecs {
  run: () => void;
  runAndRead: () => unknown;
  out: () => number[];
}

/** Runs `specs` in order on `backend`, each over its own buffers filled with values in [-2, 2). */
export function prepare(backend: Backend<any, any, KernelSpec>, specs: readonly KernelSpec[]): PreparedSpecs {
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
  const output = (s: number) =>
    backend.readSync!(launches[s]!.args[0]!.data, argDtypes(specs[s]!)[0]!, 0, extents(specs[s]!)[0]!);
  return {
    run: () => backend.run(launches),
    runAndRead: () => {
      backend.run(launches);
      return output(specs.length - 1);
    },
    out: () => launches.flatMap((_, s) => Array.from(output(s))),
  };
}

/** Whether two readouts hold the same numbers, bit for bit (any NaN matching any NaN). */
export function sameBits(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]) || (Number.isNaN(v) && Number.isNaN(b[i])));
}
