/**
 * The backends with their renderers: where compiler/codegen meets runtime/. A backend is
 * constructed with a function that turns a kernel spec into what its device runs, so
 * runtime/ never imports the compiler.
 */
import type { Backend } from '../runtime/backend.js';
import { CpuBackend, type CpuProgram } from '../runtime/cpu/backend.js';
import type { CpuKernel } from '../runtime/cpu/compile.js';
import type { DType, TypedArray } from '../runtime/dtype.js';
import type { GpuContext } from '../runtime/webgpu/device.js';
import { WasmBackend, type WasmBackendKernel, type WasmBuffer } from '../runtime/wasm/backend.js';
import { cpuEngine } from '../runtime/wasm/engine.js';
import { WebGpuBackend } from '../runtime/webgpu/backend.js';
import { jsProgram } from './codegen/js-program.js';
import { renderWasm } from './codegen/wasm/render.js';
import { renderWgsl, STATUS_BYTES, throwStatus } from './codegen/wgsl.js';
import type { KernelSpec } from './kernel.js';
import { SizeFamilies } from './sizes.js';
import { wasmMatmul } from './wasm-matmul.js';

/**
 * The CPU backend of the WebAssembly engine: buffers in one WebAssembly.Memory, kernels
 * emitted as Wasm (JavaScript over views of the memory where the renderer has no code).
 * Nothing is allocated until its first buffer or kernel.
 */
export const wasm = new WasmBackend<KernelSpec>(renderWasm);

/**
 * A spec as the JavaScript engine's backend runs it: as JavaScript, but float32 matmuls on the
 * Wasm SIMD gemm in a process whose tensors live on the Wasm engine (where this backend runs
 * kernels over typed arrays: cpuKernel).
 */
function renderCpu(spec: KernelSpec): CpuProgram {
  const gemm = spec.kind === 'matmul' ? wasmMatmul(spec) : undefined;
  return gemm !== undefined ? { kernel: gemm } : jsProgram(spec);
}

/**
 * The CPU backend of the JavaScript engine (typed arrays, generated JS loops): the engine of
 * CPU tensors under KILN_CPU=js and where WebAssembly SIMD is missing, and the runner of
 * kernels over typed arrays (cpuKernel).
 */
export const cpu: CpuBackend<KernelSpec> = new CpuBackend(renderCpu);

/** A buffer of the CPU engine: a typed array (JavaScript engine) or a range of the Wasm memory. */
export type CpuBuffer = TypedArray | WasmBuffer;

/** A compiled kernel of the CPU engine. */
export type CpuEngineKernel = CpuKernel | WasmBackendKernel;

/** The backend of CPU tensors, whichever engine it is. */
export type CpuEngineBackend = Backend<CpuBuffer, CpuEngineKernel, KernelSpec> & {
  /** Both engines read synchronously. */
  readonly readSync: (buffer: CpuBuffer, dtype: DType, offset: number, length: number) => TypedArray;
  /** Called with what every kernel compiled from now on is (for KILN_LOG=kernels). */
  onCompile: ((source: string) => void) | undefined;
};

/**
 * The backend CPU tensors live on, eager and jit alike: the engine cpuEngine() chose for
 * this process (Wasm by default, JavaScript under KILN_CPU=js or without SIMD), so one compiled
 * kernel per spec serves both and jit stays bitwise equal to eager. The engine never
 * changes within a process, so every buffer handed to it came from it: the cast only widens
 * the buffer type each engine declares, and call sites stay monomorphic.
 */
export const tensorCpu: CpuEngineBackend = (cpuEngine() === 'wasm' ? wasm : cpu) as unknown as CpuEngineBackend;

/** A backend over the device `gpu`, rendering WGSL for its limits and adapter kind. */
export function webGpuBackend(gpu: GpuContext): WebGpuBackend<KernelSpec> {
  const fallbackAdapter = gpu.device.adapterInfo?.isFallbackAdapter === true;
  // Kernels of one family share a shader (and so a pipeline) once their sizes are uniforms.
  const families = new SizeFamilies();
  return new WebGpuBackend<KernelSpec>(gpu, {
    render: (spec, alignedOffsets) =>
      renderWgsl(spec, gpu.limits, { alignedOffsets, fallbackAdapter, sizes: families.sizesOf(spec) }),
    statusBytes: STATUS_BYTES,
    throwStatus,
  });
}
