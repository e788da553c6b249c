/**
 * The backends every backend-generic suite runs against. A new backend is one more entry in
 * `testBackends` (a backend that needs a device skips, or fails under its REQUIRE switch,
 * when the device is missing, as WebGPU does through gpuForTests).
 */
import { cpu, webGpuBackend } from '../compiler/backends.js';
import type { KernelSpec } from '../compiler/kernel.js';
import type { Backend } from '../runtime/backend.js';
import type { DType } from '../runtime/dtype.js';
import { gpuForTests } from './webgpu.js';

/** A backend under test, with the dtypes its buffers hold and how to let it go. */
export interface TestBackend {
  name: string;
  // Buffers and kernels are opaque here: only the backend that made them takes them back.
  backend: Backend<any, any, KernelSpec>;
  dtypes: readonly DType[];
  release(): void;
}

/** Every backend available here, CPU first. */
export async function testBackends(suite: string): Promise<TestBackend[]> {
  const all: DType[] = ['bool', 'uint8', 'int32', 'float32', 'float64'];
  const list: TestBackend[] = [{ name: 'cpu', backend: cpu, dtypes: all, release: () => {} }];
  const gpu = await gpuForTests(suite);
  if (gpu !== undefined) {
    const backend = webGpuBackend(gpu);
    list.push({
      name: 'webgpu',
      backend,
      dtypes: ['bool', 'uint8', 'int32', 'float32'],
      release: () => {
        backend.destroy();
        gpu.destroy();
      },
    });
  }
  return list;
}
