/// <reference types="@webgpu/types" />
/**
 * Eager execution on WebGPU: the GPU counterpart of execute.ts's `executePrim`. One
 * primitive is lowered by the same lower.ts functions the CPU uses, rendered by the WGSL
 * codegen and recorded into an open command batch; the batch is submitted at the next sync
 * point (a readback) or when it grows long. Recording is synchronous (pipelines are created
 * with createComputePipeline on a miss), so eager ops need no `await`.
 *
 * Ordering: every write into a GPU buffer goes through the queue in recording order. Host
 * uploads while launches are pending are recorded as copies from a mapped staging buffer
 * into the same batch, so a buffer released and reused by a later tensor never sees a
 * write before the launches recorded earlier have read it.
 */
import type { DType, TypedArray } from '../runtime/dtype.js';
import { DeviceError, InternalError } from '../runtime/errors.js';
import { BufferUsage } from '../runtime/webgpu/buffers.js';
import type { GpuContext } from '../runtime/webgpu/device.js';
import type { BindingType } from '../runtime/webgpu/pipelines.js';
import { fromGpuBytes, readBuffers, toGpuArray, type BufferRange, type CommandBatch } from '../runtime/webgpu/submit.js';
import { STATUS_BYTES, throwStatus, type WgslKernel } from './codegen/wgsl.js';
import { WebGpuRunner } from './execute-webgpu.js';
import type { KernelSpec } from './kernel.js';
import { isElementwise, primitiveRules, type BinaryPrim, type Params, type Prim, type ReducePrim, type UnaryPrim } from './ir/primitives.js';
import { contiguousStrides, isContiguous, sizeOf } from './ir/shape.js';
import {
  lowerElementwise, lowerFill, lowerGather, lowerIota, lowerMatmul, lowerRandom, lowerReduce, lowerScatterAdd,
  type Layout, type Lowered,
} from './lower.js';

/** A kernel argument on the GPU: a buffer of `length` elements and how a value sits in it. */
export interface GpuOperand extends Layout {
  buffer: GPUBuffer;
  length: number;
}

/** The GPU side of a tensor storage: a pooled buffer of `length` elements and the executor owning it. */
export interface GpuStorage {
  readonly buffer: GPUBuffer;
  readonly length: number;
  readonly owner: EagerGpu;
}

interface CachedKernel {
  kernel: WgslKernel;
  pipeline: GPUComputePipeline;
}

/** Launches recorded before the batch is submitted without waiting for a readback. */
const MAX_PENDING = 128;
/** Operand kinds whose kernels write their output row-major. */
const ROW_MAJOR_OUT = new Set<string>(['reduce', 'matmul', 'random', 'iota']);

/** Runs eager primitives on one device, batching launches between sync points. */
export class EagerGpu {
  readonly runner: WebGpuRunner;
  private batch: CommandBatch;
  /** Staging buffers of uploads recorded into the open batch, destroyed once it is submitted. */
  private staged: GPUBuffer[] = [];
  /** Status buffers of gathers and scatters not yet checked. */
  private statuses: GPUBuffer[] = [];
  private readonly kernels = new Map<string, CachedKernel>();
  /** Launches recorded since the device was acquired. */
  launches = 0;
  private destroyed = false;

  constructor(readonly gpu: GpuContext) {
    this.runner = new WebGpuRunner(gpu);
    this.batch = this.runner.batch();
  }

  /** A pooled buffer for `length` elements (4 bytes each: bool is one u32 per element). */
  alloc(length: number): GPUBuffer {
    return this.runner.storage.acquire(Math.max(length, 1) * 4);
  }

  /** Returns a buffer from `alloc` or `upload` to the pool (launches recorded before still see its old contents). */
  release(buffer: GPUBuffer): void {
    this.runner.storage.release(buffer);
  }

  /** Storage of `length` elements, uninitialised. */
  allocStorage(length: number): GpuStorage {
    return { buffer: this.alloc(length), length, owner: this };
  }

  /** Storage holding `data`. */
  uploadStorage(data: TypedArray, dtype: DType): GpuStorage {
    return { buffer: this.upload(data, dtype), length: data.length, owner: this };
  }

  /** Gives a storage's buffer back to the pool (nothing once the device is destroyed). */
  releaseStorage(s: GpuStorage): void {
    if (!this.destroyed) this.release(s.buffer);
  }

  /** True after `destroy`. */
  get isDestroyed(): boolean {
    return this.destroyed;
  }

  /** A pooled buffer holding `data` (elements of `dtype`, converted to their GPU form). */
  upload(data: TypedArray, dtype: DType): GPUBuffer {
    const words = toGpuArray(data, dtype);
    const buffer = this.alloc(words.length);
    this.write(buffer, words);
    return buffer;
  }

  private write(buffer: GPUBuffer, words: ArrayBufferView): void {
    if (words.byteLength === 0) return;
    if (this.batch.length === 0) {
      this.gpu.device.queue.writeBuffer(buffer, 0, words.buffer, words.byteOffset, words.byteLength);
      return;
    }
    const size = Math.ceil(words.byteLength / 4) * 4;
    const staging = this.gpu.device.createBuffer({ size, usage: BufferUsage.COPY_SRC, mappedAtCreation: true });
    new Uint8Array(staging.getMappedRange()).set(new Uint8Array(words.buffer, words.byteOffset, words.byteLength));
    staging.unmap();
    this.staged.push(staging);
    this.batch.copy(staging, 0, buffer, 0, size);
  }

  /** Records a copy of `length` elements between buffers (element offsets). */
  copyBuffer(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, length: number): void {
    if (length === 0) return;
    this.batch.copy(src, srcOffset * 4, dst, dstOffset * 4, length * 4);
  }

  /** Submits the launches recorded so far. */
  flush(): void {
    if (this.batch.length > 0) this.batch.submit();
    // Destroying after submit is safe: work already submitted keeps its buffers alive.
    for (const b of this.staged) b.destroy();
    this.staged = [];
  }

  /**
   * Reads `length` elements of `buffer` from element `offset` back as host elements of
   * `dtype`. A sync point: submits pending work, then reports an out-of-range index of a
   * gather or scatter recorded since the last one, or a device error, before the values.
   */
  async read(buffer: GPUBuffer, offset: number, length: number, dtype: DType): Promise<TypedArray> {
    this.flush();
    const statuses = this.statuses;
    this.statuses = [];
    const reads = [{ buffer, offset: offset * 4, bytes: length * 4 }, ...statuses.map((s) => ({ buffer: s, bytes: STATUS_BYTES }))];
    let bytes: ArrayBuffer[];
    try {
      bytes = await readBuffers(this.gpu.device, this.runner.staging, reads);
    } finally {
      for (const s of statuses) this.release(s);
    }
    const errors = this.gpu.takeErrors();
    if (errors.length > 0) throw new DeviceError(`webgpu: the device reported: ${errors.join('; ')}`);
    for (let i = 1; i < bytes.length; i++) throwStatus(new Uint32Array(bytes[i]!));
    return fromGpuBytes(bytes[0]!, dtype, length);
  }

  /** The rendered kernel and pipeline of a lowered spec, built on first use. */
  private cached(lowered: Lowered, aligned: boolean): CachedKernel {
    const key = aligned ? lowered.key + '|a' : lowered.key;
    let c = this.kernels.get(key);
    if (c === undefined) {
      const kernel = this.runner.kernel(lowered.build(), { alignedOffsets: aligned });
      const types: BindingType[] = kernel.bindings.map((b) => (b.kind === 'uniform' ? 'uniform' : b.kind === 'status' || b.writable ? 'storage' : 'read-only-storage'));
      c = { kernel, pipeline: this.runner.pipelines.getNow(kernel.code, types) };
      this.kernels.set(key, c);
    }
    return c;
  }

  /** Records one launch of `lowered` with every arg's buffer, its offset, and the scalars. */
  private run(lowered: Lowered, args: readonly GpuOperand[], scalars: readonly number[] = []): void {
    const offsets = args.map((a) => a.offset);
    const { kernel, pipeline } = this.cached(lowered, offsets.every((o) => o % 4 === 0));
    const { workgroups, uniforms } = kernel.dispatch(offsets, scalars);
    const resources = kernel.bindings.map((b): BufferRange | Uint32Array => {
      switch (b.kind) {
        case 'uniform': return uniforms;
        case 'status': {
          const status = this.alloc(STATUS_BYTES / 4);
          this.write(status, new Uint32Array(STATUS_BYTES / 4));
          this.statuses.push(status);
          return { buffer: status, size: STATUS_BYTES };
        }
        case 'storage': {
          const arg = args[b.arg];
          if (arg === undefined) throw new InternalError(`webgpu: arg ${b.arg} is missing`);
          // Whole 16-byte units (vec4 arrays need them), never less than one.
          return { buffer: arg.buffer, size: Math.min(arg.buffer.size, Math.max(16, Math.ceil((arg.length * 4) / 16) * 16)) };
        }
      }
    });
    this.batch.dispatch({ pipeline, resources, workgroups });
    this.launches++;
    if (this.batch.length >= MAX_PENDING) this.flush();
  }

  /**
   * Records one launch of a kernel spec built elsewhere (a compiled graph's fused kernel),
   * rendered and cached under `key` like the kernels of single primitives. `args` are the
   * spec's args in order, each with its offset; fused kernels take no scalars.
   */
  launch(key: string, spec: KernelSpec, args: readonly GpuOperand[]): void {
    this.run({ key, build: () => spec }, args);
  }

  /**
   * Computes primitive `prim` of `inputs` into `out` (a fresh contiguous buffer, or a view
   * for in-place ops): the same cases as the CPU's executePrim, recorded instead of run.
   */
  execute<P extends Prim>(prim: P, params: Params<P>, inputs: readonly GpuOperand[], out: GpuOperand): void {
    if (sizeOf(out.shape) === 0) return;
    const rule = primitiveRules[prim];
    if (ROW_MAJOR_OUT.has(rule.kind) && !isContiguous(out.shape, out.strides)) {
      const n = sizeOf(out.shape);
      const dense: GpuOperand = { buffer: this.alloc(n), length: n, dtype: out.dtype, shape: out.shape, strides: contiguousStrides(out.shape), offset: 0 };
      this.execute(prim, params, inputs, dense);
      this.run(lowerElementwise('copy', [dense], out), [out, dense]);
      // Launches run in recording order, so the buffer may be reused by anything recorded later.
      this.release(dense.buffer);
      return;
    }
    if (isElementwise(rule) || rule.kind === 'cast') {
      this.run(lowerElementwise(prim as UnaryPrim | BinaryPrim | 'where' | 'cast', inputs, out), [out, ...inputs]);
      return;
    }
    switch (rule.kind) {
      case 'reduce': {
        const axes = prim === 'argmax' || prim === 'argmin' ? [(params as Params<'argmax'>).axis] : (params as Params<'sum'>).axes;
        this.run(lowerReduce(prim as ReducePrim, inputs[0]!, axes, out), [out, inputs[0]!]);
        return;
      }
      case 'matmul':
        this.run(lowerMatmul(inputs[0]!, inputs[1]!, out), [out, inputs[0]!, inputs[1]!]);
        return;
      case 'gather':
        this.run(lowerGather(inputs[0]!, inputs[1]!, (params as Params<'gather'>).axis, out), [out, inputs[1]!, inputs[0]!]);
        return;
      case 'scatterAdd': {
        const [base, index, src] = inputs as [GpuOperand, GpuOperand, GpuOperand];
        this.run(lowerElementwise('copy', [base], out), [out, base]);
        if (sizeOf(index.shape) > 0) this.run(lowerScatterAdd(out, index, src, (params as Params<'scatterAdd'>).axis), [out, index, src]);
        return;
      }
      case 'pad': {
        const { before, value } = params as Params<'pad'>;
        this.run(lowerFill(out), [out], [value]);
        const x = inputs[0]!;
        if (sizeOf(x.shape) > 0) {
          const inner = region(out, x.shape, before);
          this.run(lowerElementwise('copy', [x], inner), [inner, x]);
        }
        return;
      }
      case 'concat': {
        const { axis } = params as Params<'concat'>;
        let at = 0;
        for (const x of inputs) {
          if (sizeOf(x.shape) > 0) {
            const inner = region(out, x.shape, x.shape.map((_, d) => (d === axis ? at : 0)));
            this.run(lowerElementwise('copy', [x], inner), [inner, x]);
          }
          at += x.shape[axis]!;
        }
        return;
      }
      case 'random': {
        const { seed, offset } = params as Params<'random'>;
        this.run(lowerRandom(out), [out], [seed, offset]);
        return;
      }
      case 'iota':
        this.run(lowerIota(out), [out]);
        return;
    }
    throw new InternalError(`webgpu: ${prim} moves no data`);
  }

  /** Submits pending work and destroys every pooled buffer (the device belongs to the caller). */
  destroy(): void {
    if (this.destroyed) return;
    this.flush();
    this.destroyed = true;
    for (const s of this.statuses) this.release(s);
    this.statuses = [];
    this.runner.destroy();
  }
}

/** Where `out` sits inside a larger region starting `starts` elements in along each dim. */
function region(out: GpuOperand, shape: readonly number[], starts: readonly number[]): GpuOperand {
  let offset = out.offset;
  starts.forEach((s, d) => (offset += s * out.strides[d]!));
  return { ...out, shape, offset };
}
