/**
 * The backends every backend-generic suite runs on: the op table (tensors on each device,
 * compared with the CPU) and the backend contract (runtime buffers and kernels). The CPU is
 * the reference the others are compared with; adding a backend to the matrix is one entry here.
 */
import { tensorCpu } from '../compiler/backends.js';
import type { KernelSpec } from '../compiler/kernel.js';
import type { Backend } from '../runtime/backend.js';
import { cpuEngine } from '../runtime/wasm/engine.js';
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
  /** The dtypes its tensors can hold (rows that make others run on the CPU only). */
  dtypes: readonly DType[];
}

/**
 * The CPU on this process's engine (the Wasm memory by default, typed arrays under
 * KILN_CPU=js or without WebAssembly SIMD): the reference of the cross-backend rows.
 */
export const cpu: TestBackend = {
  name: `cpu (${cpuEngine()})`, device: 'cpu', tol: 0,
  dtypes: ['float16', 'float32', 'float64', 'int32', 'uint8', 'bool'],
  acquire: () => Promise.resolve(true),
  release: () => Promise.resolve(),
  runtime: () => Promise.resolve(tensorCpu),
};

export const backends: readonly TestBackend[] = [
  cpu,
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
