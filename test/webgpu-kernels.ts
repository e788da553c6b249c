/**
 * Single kernel specs on host arrays, run through the WebGPU backend (alloc, write, compile,
 * run, read) with every rendering option open (workgroup size, offset alignment, adapter
 * kind, device limits): what the WGSL codegen's tests and the runtime's tests launch, below
 * the level of tensors.
 */
import { STATUS_BYTES, renderWgsl, throwStatus, type WgslKernel, type WgslOptions } from '../compiler/codegen/wgsl.js';
import { specKey, type KernelSpec } from '../compiler/kernel.js';
import type { TypedArray } from '../runtime/dtype.js';
import { WebGpuBackend, type WebGpuBuffer, type WebGpuKernel } from '../runtime/webgpu/backend.js';
import type { GpuContext } from '../runtime/webgpu/device.js';

/** A spec with the options it renders with; alignedOffsets, when left out, follows the launch's offsets. */
export interface OptionedSpec {
  spec: KernelSpec;
  options: WgslOptions;
}

/** A WebGPU backend whose kernels are rendered with per-spec options, and host-array runs over it. */
export class GpuKernels {
  readonly backend: WebGpuBackend<OptionedSpec>;

  /**
   * `gpu.limits` are the limits kernels are rendered for (a test may lower them);
   * `fallbackAdapter` the kind of device they are laid out for, by default what the device reports.
   */
  constructor(readonly gpu: GpuContext, readonly fallbackAdapter = gpu.device.adapterInfo?.isFallbackAdapter === true) {
    this.backend = new WebGpuBackend<OptionedSpec>(gpu, {
      render: ({ spec, options }, aligned) => this.kernel(spec, { alignedOffsets: aligned, ...options }),
      statusBytes: STATUS_BYTES,
      throwStatus,
    });
  }

  /** The rendered kernel for `spec` (fallbackAdapter and limits are this object's). */
  kernel(spec: KernelSpec, options: WgslOptions = {}): WgslKernel {
    return renderWgsl(spec, this.gpu.limits, { ...options, fallbackAdapter: this.fallbackAdapter });
  }

  /** The backend's compiled kernel for `spec` with `options`. */
  compile(spec: KernelSpec, options: WgslOptions = {}): WebGpuKernel<OptionedSpec> {
    const key = specKey([spec, options.alignedOffsets ?? null, options.workgroupSize ?? 0]);
    return this.backend.compile(key, () => ({ spec, options }));
  }

  /** Records one launch of `spec` over `buffers` (in arg order). */
  launch(
    spec: KernelSpec, buffers: readonly WebGpuBuffer[], offsets: readonly number[], scalars: readonly number[] = [],
    options: WgslOptions = {},
  ): void {
    const kernel = this.compile(spec, options);
    this.backend.run([{ kernel, args: buffers.map((data, a) => ({ data, offset: offsets[a]! })), scalars }]);
  }

  /**
   * Runs `spec` on host arrays: writes every arg to a new buffer, launches, reads back the
   * args the kernel writes (in arg order, as host arrays of their dtype) and frees the buffers.
   */
  async run(
    spec: KernelSpec, host: readonly TypedArray[], offsets?: readonly number[], scalars: readonly number[] = [],
    options: WgslOptions = {},
  ): Promise<TypedArray[]> {
    const bindings = this.kernel(spec, { ...options, alignedOffsets: false }).bindings;
    const args = bindings.flatMap((b) => (b.kind === 'storage' ? [b] : []));
    const buffers = args.map((b) => {
      const buffer = this.backend.alloc(b.dtype, host[b.arg]!.length);
      this.backend.write(buffer, b.dtype, host[b.arg]!);
      return buffer;
    });
    try {
      this.launch(spec, buffers, offsets ?? host.map(() => 0), scalars, options);
      const written = args.filter((b) => b.writable);
      return await Promise.all(written.map((b) => this.backend.read(buffers[b.arg]!, b.dtype, 0, host[b.arg]!.length)));
    } finally {
      for (const b of buffers) this.backend.free(b);
    }
  }

  /** Destroys every buffer and kernel of the backend (the device itself belongs to the caller). */
  destroy(): void {
    this.backend.destroy();
  }
}
