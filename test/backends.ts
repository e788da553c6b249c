/**
 * The backends every op-table row runs on. The CPU is the reference the others are compared
 * with; adding a backend to the matrix is one entry here.
 */
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
  /** Relative and absolute tolerance of its float32 results against the CPU's. */
  tol: number;
  /** The dtypes its tensors can hold (rows that make others run on the CPU only). */
  dtypes: readonly DType[];
}

/** The CPU (JavaScript kernels, Wasm SIMD matmul): the reference of the cross-backend rows. */
export const cpu: TestBackend = {
  name: 'cpu', device: 'cpu', tol: 0, dtypes: ['float32', 'float64', 'int32', 'bool'],
  acquire: () => Promise.resolve(true),
  release: () => Promise.resolve(),
};

export const backends: readonly TestBackend[] = [
  cpu,
  {
    name: 'webgpu', device: 'webgpu', tol: 1e-4,
    // WGSL has no 64-bit float.
    dtypes: ['float32', 'int32', 'bool'],
    acquire: (suite) => initEagerForTests(suite),
    release: async () => (await import('../src/webgpu.js')).destroy(),
  },
];
