/// <reference types="@webgpu/types" />
/**
 * Runs single kernel specs on host arrays on a WebGPU device, with every rendering option
 * (workgroup size, offset alignment, adapter kind) open: the harness of the WGSL codegen's
 * tests and benchmarks, below the level of tensors. Tensors and compiled graphs run through
 * the device's backend (runtime/webgpu/backend.ts) instead; both bind launches through
 * runtime/webgpu/bindings.ts.
 */
import { BufferPool, BufferUsage } from '../runtime/webgpu/buffers.js';
import type { GpuContext } from '../runtime/webgpu/device.js';
import { argRange, bindAll, bindingTypes } from '../runtime/webgpu/bindings.js';
import { PipelineCache } from '../runtime/webgpu/pipelines.js';
import { CommandBatch, fromGpuBytes, readBuffers, toGpuArray, upload, type BufferRange, type KernelLaunch } from '../runtime/webgpu/submit.js';
import type { TypedArray } from '../runtime/dtype.js';
import { InternalError } from '../runtime/errors.js';
import { renderWgsl, STATUS_BYTES, throwStatus, type WgslKernel, type WgslOptions } from './codegen/wgsl.js';
import { specKey, type KernelSpec } from './kernel.js';

/** A device buffer holding one kernel arg's elements (bool as u32 words). */
export interface GpuArg {
  buffer: GPUBuffer;
  /** Elements in the buffer the kernel may address. */
  length: number;
}

/** A launch ready to record into a batch, with the status buffer to check afterwards, if any. */
export interface PreparedLaunch {
  launch: KernelLaunch;
  status?: GPUBuffer;
}

/** Kernels, pipelines and buffer pools of one device. */
export class WebGpuRunner {
  /** Storage buffers of kernel args. */
  readonly storage: BufferPool;
  readonly uniforms: BufferPool;
  readonly staging: BufferPool;
  readonly pipelines: PipelineCache;
  private readonly kernels = new Map<string, WgslKernel>();

  /**
   * `fallbackAdapter`: whether the device is a CPU implementation (lavapipe), which kernels
   * are rendered for (WgslOptions.fallbackAdapter); by default what the device reports.
   */
  constructor(readonly gpu: GpuContext, readonly fallbackAdapter = gpu.device.adapterInfo?.isFallbackAdapter === true) {
    const device = gpu.device;
    this.storage = new BufferPool(device, BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST, 'kiln storage');
    this.uniforms = new BufferPool(device, BufferUsage.UNIFORM | BufferUsage.COPY_DST, 'kiln uniforms');
    this.staging = new BufferPool(device, BufferUsage.MAP_READ | BufferUsage.COPY_DST, 'kiln readback');
    this.pipelines = new PipelineCache(device);
  }

  /** The rendered kernel for `spec`, rendered once per spec and options (fallbackAdapter is the runner's). */
  kernel(spec: KernelSpec, options: WgslOptions = {}): WgslKernel {
    const key = specKey([spec, options.alignedOffsets === true, options.workgroupSize ?? 0]);
    let k = this.kernels.get(key);
    if (k === undefined) {
      k = renderWgsl(spec, this.gpu.limits, { ...options, fallbackAdapter: this.fallbackAdapter });
      this.kernels.set(key, k);
    }
    return k;
  }

  /** Binds args, offsets and scalars for one launch of `spec` (waiting for its pipeline on first use). */
  async prepare(spec: KernelSpec, args: readonly GpuArg[], offsets: readonly number[], scalars: readonly number[] = [], options: WgslOptions = {}): Promise<PreparedLaunch> {
    const aligned = options.alignedOffsets ?? offsets.every((o) => o % 4 === 0);
    const kernel = this.kernel(spec, { ...options, alignedOffsets: aligned });
    const pipeline = this.pipelines.peek(kernel.code) ?? await this.pipelines.get(kernel.code, bindingTypes(kernel.bindings));
    const { workgroups, uniforms } = kernel.dispatch(offsets, scalars);
    let status: GPUBuffer | undefined;
    const resources = bindAll<BufferRange | Uint32Array>(kernel.bindings, {
      uniform: () => uniforms,
      status: () => {
        status = upload(this.gpu.device, this.storage, new Uint32Array(STATUS_BYTES / 4));
        return { buffer: status, size: STATUS_BYTES };
      },
      storage: (a) => {
        const arg = args[a];
        if (arg === undefined) throw new InternalError(`webgpu: arg ${a} is missing`);
        return argRange(arg.buffer, arg.length, 4);
      },
    });
    return { launch: { pipeline, resources, workgroups }, ...(status ? { status } : {}) };
  }

  /** A new batch recording into this device's queue. */
  batch(): CommandBatch {
    return new CommandBatch(this.gpu.device, this.uniforms);
  }

  /** Reads a prepared launch's status back, releases its buffer, and throws the CPU's error for an out-of-range index. */
  async checkStatus(prepared: PreparedLaunch): Promise<void> {
    if (prepared.status === undefined) return;
    const [bytes] = await readBuffers(this.gpu.device, this.staging, [{ buffer: prepared.status, bytes: STATUS_BYTES }]);
    this.storage.release(prepared.status);
    throwStatus(new Uint32Array(bytes!));
  }

  /**
   * Runs `spec` on host arrays: uploads every arg, launches, reads back the args the kernel
   * writes (in arg order, as host arrays of their dtype) and releases the buffers.
   */
  async run(spec: KernelSpec, host: readonly TypedArray[], offsets?: readonly number[], scalars: readonly number[] = [], options: WgslOptions = {}): Promise<TypedArray[]> {
    const device = this.gpu.device;
    const probe = this.kernel(spec, { ...options, alignedOffsets: false });
    const dtypes = probe.bindings.flatMap((b) => (b.kind === 'storage' ? [b] : []));
    const args = dtypes.map((b) => {
      const data = toGpuArray(host[b.arg]!, b.dtype);
      return { buffer: upload(device, this.storage, data), length: data.length };
    });
    try {
      const prepared = await this.prepare(spec, args, offsets ?? host.map(() => 0), scalars, options);
      this.batch().dispatch(prepared.launch).submit();
      const written = dtypes.filter((b) => b.writable);
      const bytes = await readBuffers(device, this.staging, written.map((b) => ({ buffer: args[b.arg]!.buffer, bytes: args[b.arg]!.length * 4 })));
      await this.checkStatus(prepared);
      return written.map((b, i) => fromGpuBytes(bytes[i]!, b.dtype, args[b.arg]!.length));
    } finally {
      for (const a of args) this.storage.release(a.buffer);
    }
  }

  /** Destroys every pooled buffer (the device itself belongs to the caller). */
  destroy(): void {
    this.storage.destroy();
    this.uniforms.destroy();
    this.staging.destroy();
  }
}
