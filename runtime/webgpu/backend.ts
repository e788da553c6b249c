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
 * Element sizes: float16 takes 2 bytes (the device has shader-f16, kernels bind array<f16>);
 * every other dtype 4 (bool and uint8 widen to 32 bits: WGSL storage has no 8-bit type).
 * Copies and writes of halves that start or end inside a 4-byte word go through a copy
 * shader (./half-copy.ts), since the queue moves whole words.
 *
 * Gathers and scatters report an out-of-range index in a status buffer bound to their
 * launch; the statuses are read back with the next readback, which throws the error the
 * CPU kernel would have thrown.
 */
import type { Backend, Launch } from '../backend.js';
import type { DType, TypedArray } from '../dtype.js';
import { DTypeError, DeviceError, InternalError } from '../errors.js';
import { BufferPool, BufferUsage } from './buffers.js';
import type { GpuContext } from './device.js';
import { argRange, bindAll, bindingTypes, type GpuBinding } from './bindings.js';
import { PipelineCache } from './pipelines.js';
import {
  CommandBatch, elementBytes, fromGpuBytes, readBuffers, toGpuArray, type BufferRange, type ReadRequest,
} from './submit.js';
import { HALF_COPY_WGSL, halfCopyLaunch, wordAligned } from './half-copy.js';

/** A pooled device buffer of `length` elements of `bytes` bytes each (2 for float16, else 4). */
export interface WebGpuBuffer {
  readonly raw: GPUBuffer;
  readonly length: number;
  readonly bytes: 2 | 4;
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

  /**
   * float16 takes 2 bytes per element, every other dtype 4 (bool and uint8 widen to 32 bits).
   * A device without shader-f16 refuses float16 rather than holding halves in 4 bytes: a
   * float16 tensor is asked for to halve memory, and silently doubling it would defeat that.
   */
  alloc(dtype: DType, elements: number): WebGpuBuffer {
    if (dtype === 'float16' && !this.gpu.shaderF16) {
      throw new DTypeError(`webgpu: float16 tensors need the adapter's shader-f16 feature, which ${this.gpu.adapter} lacks ` +
        "(got float16); cast to float32 first (x.to('float32')), or keep float16 tensors on the cpu");
    }
    const bytes = elementBytes(dtype);
    return { raw: this.storage.acquire(Math.max(elements, 1) * bytes), length: elements, bytes };
  }

  /** Back to the pool (nothing once the device is destroyed). */
  free(buffer: WebGpuBuffer): void {
    if (!this.destroyed) this.storage.release(buffer.raw);
  }

  write(buffer: WebGpuBuffer, dtype: DType, data: TypedArray, offset = 0): void {
    const words = toGpuArray(data, dtype);
    if (words.byteLength === 0) return;
    if (buffer.bytes === 2 && !wordAligned(0, offset, data.length)) {
      this.writeHalves(buffer, words, offset);
      return;
    }
    if (this.batch.length === 0) {
      this.gpu.device.queue.writeBuffer(buffer.raw, offset * buffer.bytes, words.buffer, words.byteOffset, words.byteLength);
      return;
    }
    const size = words.byteLength;
    const staging = this.gpu.device.createBuffer({ size, usage: BufferUsage.COPY_SRC, mappedAtCreation: true });
    new Uint8Array(staging.getMappedRange()).set(new Uint8Array(words.buffer, words.byteOffset, words.byteLength));
    staging.unmap();
    this.staged.push(staging);
    this.batch.copy(staging, 0, buffer.raw, offset * buffer.bytes, size);
  }

  /** Halves written at an odd element offset or of odd count: uploaded whole into a new buffer, copied by a shader. */
  private writeHalves(buffer: WebGpuBuffer, halves: ArrayBufferView, offset: number): void {
    const length = halves.byteLength / 2;
    const upload = this.gpu.device.createBuffer({
      size: Math.ceil(halves.byteLength / 4) * 4, usage: BufferUsage.STORAGE, mappedAtCreation: true,
    });
    new Uint8Array(upload.getMappedRange()).set(new Uint8Array(halves.buffer, halves.byteOffset, halves.byteLength));
    upload.unmap();
    this.staged.push(upload);
    this.copyHalves({ raw: upload, length, bytes: 2 }, 0, buffer, offset, length);
  }

  copy(src: WebGpuBuffer, srcOffset: number, dst: WebGpuBuffer, dstOffset: number, length: number): void {
    if (length === 0) return;
    if (src.bytes === 2 && !wordAligned(srcOffset, dstOffset, length)) {
      this.copyHalves(src, srcOffset, dst, dstOffset, length);
      return;
    }
    this.batch.copy(src.raw, srcOffset * src.bytes, dst.raw, dstOffset * dst.bytes, length * src.bytes);
  }

  /** Records the copy shader's launch over `length` halves. */
  private copyHalves(src: WebGpuBuffer, srcOffset: number, dst: WebGpuBuffer, dstOffset: number, length: number): void {
    const pipeline = this.pipelines.getNow(HALF_COPY_WGSL, ['read-only-storage', 'storage', 'uniform']);
    const limit = this.gpu.limits.maxComputeWorkgroupsPerDimension;
    const from = argRange(src.raw, src.length, 2), to = argRange(dst.raw, dst.length, 2);
    this.batch.dispatch(halfCopyLaunch(pipeline, from, srcOffset, to, dstOffset, length, limit));
    this.launches++;
    if (this.batch.length >= MAX_PENDING) this.flush();
  }

  /**
   * A sync point: submits pending work, then reports an out-of-range index of a gather or
   * scatter recorded since the last one, or a device error, before returning the values.
   */
  async read(buffer: WebGpuBuffer, dtype: DType, offset: number, length: number): Promise<TypedArray> {
    // Readback copies start at a 4-byte boundary: a half at an odd element comes with the one before it.
    const start = offset * buffer.bytes, from = start - (start % 4);
    const request = { buffer: buffer.raw, offset: from, bytes: start - from + length * buffer.bytes };
    const [bytes] = await this.readChecked([request]);
    return fromGpuBytes(start === from ? bytes! : bytes!.slice(start - from), dtype, length);
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

  /** Each call records the launches anew: the bind groups and uniforms of a launch belong to its batch. */
  bind(launches: readonly Launch<WebGpuBuffer, WebGpuKernel<Spec>>[]): () => void {
    const kept = launches.slice();
    return () => this.run(kept);
  }

  bindCopy(src: WebGpuBuffer, srcOffset: number, dst: WebGpuBuffer, dstOffset: number, length: number): () => void {
    return () => this.copy(src, srcOffset, dst, dstOffset, length);
  }

  /** Elements are read back asynchronously only. */
  readonly bindRead = undefined;

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
        return argRange(arg.data.raw, arg.data.length, arg.data.bytes);
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
