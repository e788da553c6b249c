/// <reference types="@webgpu/types" />
/**
 * The WebGPU backend. Launches are recorded into an open command batch and submitted at the
 * next sync point (a readback), or once MAX_PENDING launches wait. Recording is synchronous
 * (pipelines are created with createComputePipeline on a miss), so eager ops need no `await`.
 *
 * Ordering: every write into a buffer goes through the queue in recording order. Host
 * uploads while launches are pending are recorded as copies from a mapped staging buffer
 * into the same batch, so a buffer freed and reused by a later tensor never sees a write
 * before the launches recorded earlier have read it.
 *
 * Gathers and scatters report an out-of-range index in a status buffer bound to their
 * launch; the statuses are read back with the next readback, which throws the error the
 * CPU kernel would have thrown.
 */
import type { Backend, Launch } from '../backend.js';
import type { DType, TypedArray } from '../dtype.js';
import { DeviceError, InternalError } from '../errors.js';
import { BufferPool, BufferUsage } from './buffers.js';
import type { GpuContext } from './device.js';
import { argRange, bindAll, bindingTypes, type GpuBinding } from './bindings.js';
import { PipelineCache } from './pipelines.js';
import { CommandBatch, fromGpuBytes, readBuffers, toGpuArray, type BufferRange, type ReadRequest } from './submit.js';

/** A pooled device buffer of `length` elements (4 bytes each: bool is one u32 per element). */
export interface WebGpuBuffer {
  readonly raw: GPUBuffer;
  readonly length: number;
}

/** One launch of a shader: workgroup counts and the uniform words (offsets, then scalars). */
export interface GpuDispatch {
  workgroups: readonly [number, number, number];
  uniforms: Uint32Array;
}

/** A rendered shader: its text, its bindings, and the launch for given offsets and scalars. */
export interface GpuProgram {
  code: string;
  bindings: readonly GpuBinding[];
  dispatch(offsets: readonly number[], scalars: readonly number[]): GpuDispatch;
}

/** How specs become shaders on this device, and what a status buffer means. */
export interface GpuRenderer<Spec> {
  /** The shader for `spec`; `alignedOffsets` when every arg offset is a multiple of 4 (vector loads). */
  render(spec: Spec, alignedOffsets: boolean): GpuProgram;
  /** Size of one launch's status buffer. */
  statusBytes: number;
  /** Throws the error a status buffer's words record; returns when they record none. */
  throwStatus(words: Uint32Array): void;
}

interface Compiled {
  program: GpuProgram;
  pipeline: GPUComputePipeline;
}

/** A spec compiled for this device: one shader for aligned offsets, one for any, each built on first use. */
export class WebGpuKernel<Spec> {
  /** @internal [any offsets, aligned offsets] */
  readonly variants: [Compiled | undefined, Compiled | undefined] = [undefined, undefined];
  constructor(readonly spec: Spec) {}
}

/** Launches recorded before the batch is submitted without waiting for a readback. */
const MAX_PENDING = 128;

/** Buffers, pipelines and one open command batch of a device. */
export class WebGpuBackend<Spec> implements Backend<WebGpuBuffer, WebGpuKernel<Spec>, Spec> {
  readonly device = 'webgpu';
  /** Storage buffers of kernel args. */
  readonly storage: BufferPool;
  readonly uniforms: BufferPool;
  readonly staging: BufferPool;
  readonly pipelines: PipelineCache;
  /** Launches recorded since the device was acquired. */
  launches = 0;
  /** Readbacks (sync points) since the device was acquired. */
  readbacks = 0;
  /** The device reads back asynchronously only. */
  readonly readSync = undefined;
  private batch: CommandBatch;
  /** Staging buffers of uploads recorded into the open batch, destroyed once it is submitted. */
  private staged: GPUBuffer[] = [];
  /** Status buffers of gathers and scatters not yet checked. */
  private statuses: WebGpuBuffer[] = [];
  private readonly kernels = new Map<string, WebGpuKernel<Spec>>();
  private destroyed = false;

  constructor(readonly gpu: GpuContext, readonly renderer: GpuRenderer<Spec>) {
    const device = gpu.device;
    const storage = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;
    this.storage = new BufferPool(device, storage, 'kiln storage');
    this.uniforms = new BufferPool(device, BufferUsage.UNIFORM | BufferUsage.COPY_DST, 'kiln uniforms');
    this.staging = new BufferPool(device, BufferUsage.MAP_READ | BufferUsage.COPY_DST, 'kiln readback');
    this.pipelines = new PipelineCache(device);
    this.batch = new CommandBatch(device, this.uniforms);
  }

  /** True after `destroy`. */
  get isDestroyed(): boolean {
    return this.destroyed;
  }

  /** Every element takes 4 bytes on the device, whatever `dtype` (bool, uint8 and float16 widen to 32 bits). */
  alloc(_dtype: DType, elements: number): WebGpuBuffer {
    return { raw: this.storage.acquire(Math.max(elements, 1) * 4), length: elements };
  }

  /** Back to the pool (nothing once the device is destroyed). */
  free(buffer: WebGpuBuffer): void {
    if (!this.destroyed) this.storage.release(buffer.raw);
  }

  write(buffer: WebGpuBuffer, dtype: DType, data: TypedArray, offset = 0): void {
    const words = toGpuArray(data, dtype);
    if (words.byteLength === 0) return;
    if (this.batch.length === 0) {
      this.gpu.device.queue.writeBuffer(buffer.raw, offset * 4, words.buffer, words.byteOffset, words.byteLength);
      return;
    }
    const size = words.byteLength;
    const staging = this.gpu.device.createBuffer({ size, usage: BufferUsage.COPY_SRC, mappedAtCreation: true });
    new Uint8Array(staging.getMappedRange()).set(new Uint8Array(words.buffer, words.byteOffset, words.byteLength));
    staging.unmap();
    this.staged.push(staging);
    this.batch.copy(staging, 0, buffer.raw, offset * 4, size);
  }

  copy(src: WebGpuBuffer, srcOffset: number, dst: WebGpuBuffer, dstOffset: number, length: number): void {
    if (length > 0) this.batch.copy(src.raw, srcOffset * 4, dst.raw, dstOffset * 4, length * 4);
  }

  /**
   * A sync point: submits pending work, then reports an out-of-range index of a gather or
   * scatter recorded since the last one, or a device error, before returning the values.
   */
  async read(buffer: WebGpuBuffer, dtype: DType, offset: number, length: number): Promise<TypedArray> {
    const [bytes] = await this.readChecked([{ buffer: buffer.raw, offset: offset * 4, bytes: length * 4 }]);
    return fromGpuBytes(bytes!, dtype, length);
  }

  async sync(): Promise<void> {
    await this.readChecked([]);
  }

  /** Reads `reads` after everything recorded, together with the pending statuses, and throws what they report. */
  private async readChecked(reads: readonly ReadRequest[]): Promise<ArrayBuffer[]> {
    this.readbacks++;
    this.flush();
    const statuses = this.statuses;
    this.statuses = [];
    const bytes = this.renderer.statusBytes;
    let got: ArrayBuffer[];
    try {
      const all = [...reads, ...statuses.map((s) => ({ buffer: s.raw, bytes }))];
      got = await readBuffers(this.gpu.device, this.staging, all);
    } finally {
      for (const s of statuses) this.free(s);
    }
    const errors = this.gpu.takeErrors();
    if (errors.length > 0) throw new DeviceError(`webgpu: the device reported: ${errors.join('; ')}`);
    for (let i = reads.length; i < got.length; i++) this.renderer.throwStatus(new Uint32Array(got[i]!));
    return got.slice(0, reads.length);
  }

  compile(key: string, spec: () => Spec): WebGpuKernel<Spec> {
    let k = this.kernels.get(key);
    if (k === undefined) this.kernels.set(key, (k = new WebGpuKernel(spec())));
    return k;
  }

  /** The shader `kernel` runs for offsets that are (or are not all) multiples of 4, built on first use. */
  private compiled(kernel: WebGpuKernel<Spec>, aligned: boolean): Compiled {
    const slot = aligned ? 1 : 0;
    let c = kernel.variants[slot];
    if (c === undefined) {
      const program = this.renderer.render(kernel.spec, aligned);
      const pipeline = this.pipelines.getNow(program.code, bindingTypes(program.bindings));
      c = kernel.variants[slot] = { program, pipeline };
    }
    return c;
  }

  run(launches: readonly Launch<WebGpuBuffer, WebGpuKernel<Spec>>[]): void {
    for (const l of launches) this.record(l);
  }

  private record({ kernel, args, scalars }: Launch<WebGpuBuffer, WebGpuKernel<Spec>>): void {
    const offsets = args.map((a) => a.offset);
    const { program, pipeline } = this.compiled(kernel, offsets.every((o) => o % 4 === 0));
    const { workgroups, uniforms } = program.dispatch(offsets, scalars);
    const resources = bindAll<BufferRange | Uint32Array>(program.bindings, {
      uniform: () => uniforms,
      status: () => {
        const words = this.renderer.statusBytes / 4;
        const status = this.alloc('int32', words);
        this.write(status, 'int32', new Int32Array(words));
        this.statuses.push(status);
        return { buffer: status.raw, size: this.renderer.statusBytes };
      },
      storage: (a) => {
        const arg = args[a];
        if (arg === undefined) throw new InternalError(`webgpu: arg ${a} is missing`);
        return argRange(arg.data.raw, arg.data.length);
      },
    });
    this.batch.dispatch({ pipeline, resources, workgroups });
    this.launches++;
    if (this.batch.length >= MAX_PENDING) this.flush();
  }

  flush(): void {
    if (this.batch.length > 0) this.batch.submit();
    // Destroying after submit is safe: work already submitted keeps its buffers alive.
    for (const b of this.staged) b.destroy();
    this.staged = [];
  }

  /** Submits pending work and destroys every pooled buffer (the device itself belongs to the caller). */
  destroy(): void {
    if (this.destroyed) return;
    this.flush();
    for (const s of this.statuses) this.free(s);
    this.statuses = [];
    this.destroyed = true;
    this.kernels.clear();
    this.storage.destroy();
    this.uniforms.destroy();
    this.staging.destroy();
  }
}
