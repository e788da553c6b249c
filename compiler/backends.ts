/**
 * The backends with their renderers: where compiler/codegen meets runtime/. A backend is
 * constructed with a function that turns a kernel spec into what its device runs, so
 * runtime/ never imports the compiler.
 */
import { CpuBackend, type CpuProgram } from '../runtime/cpu/backend.js';
import type { GpuContext } from '../runtime/webgpu/device.js';
import { WebGpuBackend } from '../runtime/webgpu/backend.js';
import { jsProgram } from './codegen/js-program.js';
import { renderWgsl, STATUS_BYTES, throwStatus } from './codegen/wgsl.js';
import type { KernelSpec } from './kernel.js';
import { SizeFamilies } from './sizes.js';
import { wasmMatmul } from './wasm-matmul.js';

/** A spec as the CPU runs it: float32 matmuls on the Wasm engine's SIMD gemm (eager and jit alike), the rest as JS. */
function renderCpu(spec: KernelSpec): CpuProgram {
  const wasm = spec.kind === 'matmul' ? wasmMatmul(spec) : undefined;
  return wasm !== undefined ? { kernel: wasm } : jsProgram(spec);
}

/** The CPU backend (JavaScript engine) of every CPU tensor and CPU kernel. */
export const cpu = new CpuBackend<KernelSpec>(renderCpu);

/** A backend over the device `gpu`, rendering WGSL for its limits and adapter kind. */
export function webGpuBackend(gpu: GpuContext): WebGpuBackend<KernelSpec> {
  const fallbackAdapter = gpu.device.adapterInfo?.isFallbackAdapter === true;
  // Map kernels of one family share a shader (and so a pipeline) once their sizes are uniforms.
  const families = new SizeFamilies();
  return new WebGpuBackend<KernelSpec>(gpu, {
    render: (spec, alignedOffsets) => {
      const sizes = spec.kind === 'map' ? families.sizesOf(spec) : undefined;
      const options = { alignedOffsets, fallbackAdapter, ...(sizes === undefined ? {} : { sizes }) };
      return renderWgsl(spec, gpu.limits, options);
    },
    statusBytes: STATUS_BYTES,
    throwStatus,
  });
}
