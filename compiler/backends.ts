/**
 * The backends with their renderers: where compiler/codegen meets runtime/. A backend is
 * constructed with a function that turns a kernel spec into what its device runs, so
 * runtime/ never imports the compiler.
 */
import { CpuBackend, type CpuProgram } from '../runtime/cpu/backend.js';
import type { CpuKernel } from '../runtime/cpu/compile.js';
import type { GpuContext } from '../runtime/webgpu/device.js';
import { WasmBackend } from '../runtime/wasm/backend.js';
import { WebGpuBackend } from '../runtime/webgpu/backend.js';
import { jsProgram } from './codegen/js-program.js';
import { renderWasm } from './codegen/wasm/render.js';
import { renderWgsl, STATUS_BYTES, throwStatus } from './codegen/wgsl.js';
import { specKey, type KernelSpec } from './kernel.js';
import { SizeFamilies } from './sizes.js';
import { stagedKernel } from './wasm-staged.js';
import { wasmMatmul } from './wasm-matmul.js';

/**
 * The CPU backend of the WebAssembly engine: buffers in one WebAssembly.Memory, kernels
 * emitted as Wasm (JavaScript over views of the memory where the renderer has no code).
 * Nothing is allocated until its first buffer or kernel.
 */
export const wasm = new WasmBackend<KernelSpec>(renderWasm);

/** Whether CPU tensors' kernels compiled now run on the Wasm backend (see onWasmKernels). */
let staged = false;

/**
 * Runs `fn` with the kernels of CPU tensors, eager and jit alike, compiled from then on for
 * the Wasm backend and staged through its memory (compiler/wasm-staged.ts): how the op table
 * runs on the Wasm engine while tensor storage is still typed arrays.
 */
export function onWasmKernels<T>(fn: () => T): T {
  const before = staged;
  staged = true;
  try {
    return fn();
  } finally {
    staged = before;
  }
}

/** A spec as the CPU runs it: float32 matmuls on the Wasm engine's SIMD gemm (eager and jit alike), the rest as JS. */
function renderCpu(spec: KernelSpec): CpuProgram {
  if (staged) return { kernel: stagedKernel(wasm, specKey(spec), spec) };
  const gemm = spec.kind === 'matmul' ? wasmMatmul(spec) : undefined;
  return gemm !== undefined ? { kernel: gemm } : jsProgram(spec);
}

/** The CPU backend of CPU tensors; kernels compiled under onWasmKernels are cached apart from the JavaScript ones. */
class TensorCpuBackend extends CpuBackend<KernelSpec> {
  override compile(key: string, spec: () => KernelSpec): CpuKernel {
    return super.compile(staged ? `wasm|${key}` : key, spec);
  }
}

/** The CPU backend (JavaScript engine) of every CPU tensor and CPU kernel. */
export const cpu: CpuBackend<KernelSpec> = new TensorCpuBackend(renderCpu);

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
