/**
 * The backends every backend-generic suite runs on: the op table (tensors on each device,
 * compared with the CPU) and the backend contract (runtime buffers and kernels). The CPU is
 * the reference the others are compared with; adding a backend to the matrix is one entry here.
 */
import { cpu as cpuRuntime, onWasmKernels, wasm } from '../compiler/backends.js';
import type { KernelSpec } from '../compiler/kernel.js';
import type { Backend } from '../runtime/backend.js';
import { wasmFeatures } from '../runtime/wasm/features.js';
import type { Device, DType } from '../src/index.js';
import { initEagerForTests } from './webgpu.js';

export interface TestBackend {
  name: string;
  device: Device;
  /**
   * Acquires the backend for `suite`: true when ready; false (after one line saying why) when
   * it is missing, unless the environment demands it (KILN_REQUIRE_WEBGPU=1), then it throws.
   */
  acquire(suite: string): Promise<boolean>;
  /** Releases what acquire took. */
  release(): Promise<void>;
  /** The runtime backend tensors on `device` run on (after acquire). Buffers and kernels are opaque here. */
  runtime(): Promise<Backend<any, any, KernelSpec>>;
  /** Relative and absolute tolerance of its float32 results against the CPU's. */
  tol: number;
  /** A row's tolerance where it differs from `tol`, by the row's name. */
  tolFor?: (row: string) => number | undefined;
  /** The dtypes its tensors can hold (rows that make others run on the CPU only). */
  dtypes: readonly DType[];
  /**
   * Runs tensor work on this backend where its tensors share a device with the reference (the
   * Wasm engine's tensors are CPU tensors); absent where the device alone selects the backend.
   */
  scope?: <T>(fn: () => T) => T;
}

/** The CPU (JavaScript kernels, Wasm SIMD matmul): the reference of the cross-backend rows. */
export const cpu: TestBackend = {
  name: 'cpu', device: 'cpu', tol: 0, dtypes: ['float16', 'float32', 'float64', 'int32', 'uint8', 'bool'],
  acquire: () => Promise.resolve(true),
  release: () => Promise.resolve(),
  runtime: () => Promise.resolve(cpuRuntime),
};

/** One float32 step relative to the value (the largest spacing of float32 numbers around it). */
const ULP = 2 ** -23;

/**
 * The rows that call a function where the Wasm math library documents a difference from the
 * JavaScript engine (exp, erf, erfc, tan, pow, and sin and cos from 2^20 on, each within one
 * float32 step), with the steps each may drift: one where the function is the row, a few where
 * the ops around it in the row carry the step on.
 */
const WASM_UNEQUAL_ROWS: readonly [RegExp, number][] = [
  [/^(exp|erfc?|tan|sin|cos|pow)( on| over|$)|^pow by/, 1],
  [/^erf, gelu|^gelu (on|over)|^log1p, expm1, rsqrt, cos, tan|^norms and closeness/, 4],
  [/^softmax and logSoftmax|^in-place math|^activations: leakyRelu|^losses: l1|^scaledDotProductAttention/, 4],
  [/^var and std with corrections, logsumexp/, 4],
];

export const backends: readonly TestBackend[] = [
  cpu,
  {
    // The WebAssembly engine: its kernels give the JavaScript engine's bits (reductions fold in
    // the same order), so it is held to the CPU's results exactly, but for the math library's
    // documented steps.
    name: 'wasm', device: 'cpu', tol: 0, dtypes: ['float32', 'float64', 'int32', 'uint8', 'bool'],
    tolFor: (row) => {
      const steps = WASM_UNEQUAL_ROWS.find(([rows]) => rows.test(row))?.[1];
      return steps === undefined ? undefined : steps * ULP;
    },
    acquire: (suite) => {
      const simd = wasmFeatures().simd;
      if (!simd) console.log(`${suite}: skipped on wasm: this runtime has no WebAssembly SIMD`);
      return Promise.resolve(simd);
    },
    release: () => Promise.resolve(),
    runtime: () => Promise.resolve(wasm),
    scope: onWasmKernels,
  },
  {
    name: 'webgpu', device: 'webgpu', tol: 1e-4,
    // WGSL has no 64-bit float; uint8 is held as one i32 per element, float16 as f16 (shader-f16).
    dtypes: ['float16', 'float32', 'int32', 'uint8', 'bool'],
    acquire: (suite) => initEagerForTests(suite),
    release: async () => (await import('../src/webgpu.js')).destroy(),
    runtime: async () => (await import('../src/webgpu.js')).eagerGpu(),
  },
];

/** The backends available here for `suite` (acquired), each with its runtime backend. */
export async function acquireBackends(suite: string): Promise<(TestBackend & { backend: Backend<any, any, KernelSpec> })[]> {
  const out = [];
  for (const b of backends) if (await b.acquire(suite)) out.push({ ...b, backend: await b.runtime() });
  return out;
}
