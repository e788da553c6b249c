/// <reference types="@webgpu/types" />
/**
 * Getting work and data to and from the GPU: several kernel launches (and copies) encoded
 * into one command buffer with one uniform upload, host data uploaded into pooled buffers,
 * and asynchronous readback through mapped staging buffers.
 *
 * Element representation on the GPU: float32 and int32 as themselves, bool as one u32 per
 * element (WGSL storage has no 8-bit type), float16 as its half bits (2 bytes, moved to and
 * from the host as they are); float64 has no WGSL type and is refused.
 */
import { DTypeError, InternalError } from '../errors.js';
import type { DType, TypedArray } from '../dtype.js';
import type { BufferPool } from './buffers.js';

/** A buffer range bound to one binding. */
export interface BufferRange {
  buffer: GPUBuffer;
  offset?: number;
  size?: number;
}

/** One kernel launch: resources in binding order (uniform words are packed into the batch's uniform buffer). */
export interface KernelLaunch {
  pipeline: GPUComputePipeline;
  resources: readonly (BufferRange | Uint32Array)[];
  workgroups: readonly [number, number, number];
}

type Command =
  | { kind: 'dispatch'; launch: KernelLaunch }
  | { kind: 'copy'; src: GPUBuffer; srcOffset: number; dst: GPUBuffer; dstOffset: number; size: number };

/** Launches and copies recorded in order, submitted as one command buffer. */
export class CommandBatch {
  private readonly commands: Command[] = [];

  constructor(private readonly device: GPUDevice, private readonly uniformPool: BufferPool) {}

  /** Records a kernel launch (skipped at submit when it has no workgroups). */
  dispatch(launch: KernelLaunch): this {
    this.commands.push({ kind: 'dispatch', launch });
    return this;
  }

  /** Records a buffer-to-buffer copy (offsets and size multiples of 4). */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, size: number): this {
    if (size % 4 !== 0 || srcOffset % 4 !== 0 || dstOffset % 4 !== 0) throw new InternalError(`webgpu: copy of ${size} bytes at ${srcOffset} -> ${dstOffset} is not 4-byte aligned`);
    this.commands.push({ kind: 'copy', src, srcOffset, dst, dstOffset, size });
    return this;
  }

  /** Number of commands recorded. */
  get length(): number {
    return this.commands.length;
  }

  /**
   * Encodes everything into one command buffer and submits it. Consecutive launches share a
   * compute pass (WebGPU orders their storage accesses); every launch's uniform words go
   * into one buffer, written once, at offsets aligned for binding.
   */
  submit(): void {
    const device = this.device;
    const align = device.limits.minUniformBufferOffsetAlignment;
    let uniformBytes = 0;
    for (const c of this.commands) {
      if (c.kind !== 'dispatch') continue;
      for (const r of c.launch.resources) if (r instanceof Uint32Array) uniformBytes += Math.ceil(r.byteLength / align) * align;
    }
    const uniformBuffer = uniformBytes > 0 ? this.uniformPool.acquire(uniformBytes) : undefined;
    const staging = new Uint8Array(uniformBytes);
    let at = 0;
    const encoder = device.createCommandEncoder();
    let pass: GPUComputePassEncoder | undefined;
    for (const c of this.commands) {
      if (c.kind === 'copy') {
        pass?.end();
        pass = undefined;
        encoder.copyBufferToBuffer(c.src, c.srcOffset, c.dst, c.dstOffset, c.size);
        continue;
      }
      const { pipeline, resources, workgroups } = c.launch;
      const entries: GPUBindGroupEntry[] = resources.map((r, binding) => {
        if (!(r instanceof Uint32Array)) return { binding, resource: r };
        staging.set(new Uint8Array(r.buffer, r.byteOffset, r.byteLength), at);
        const entry = { binding, resource: { buffer: uniformBuffer!, offset: at, size: r.byteLength } };
        at += Math.ceil(r.byteLength / align) * align;
        return entry;
      });
      if (workgroups[0] === 0 || workgroups[1] === 0 || workgroups[2] === 0) continue;
      pass ??= encoder.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries }));
      pass.dispatchWorkgroups(workgroups[0], workgroups[1], workgroups[2]);
    }
    pass?.end();
    if (uniformBuffer !== undefined) device.queue.writeBuffer(uniformBuffer, 0, staging);
    device.queue.submit([encoder.finish()]);
    // The queue runs in order: a later writeBuffer to this buffer lands after this submission ran.
    if (uniformBuffer !== undefined) this.uniformPool.release(uniformBuffer);
    this.commands.length = 0;
  }
}

/** Bytes per element of `dtype` on the GPU: 2 for float16, 4 for the rest (bool and uint8 widen to 32 bits). */
export function elementBytes(dtype: DType): 2 | 4 {
  return dtype === 'float16' ? 2 : 4;
}

/** Host elements as the GPU stores them: bool widened to one u32, uint8 to one i32, halves as their bits; float64 refused. */
export function toGpuArray(data: TypedArray, dtype: DType): Float32Array | Int32Array | Uint32Array | Uint16Array {
  switch (dtype) {
    case 'float32': return data as Float32Array;
    case 'int32': return data as Int32Array;
    case 'bool': return Uint32Array.from(data as Uint8Array);
    case 'uint8': return Int32Array.from(data as Uint8Array);
    case 'float64': throw new DTypeError('webgpu: float64 tensors cannot live on the GPU: WGSL has no 64-bit float (got float64); cast to float32 first');
    case 'float16': return data as Uint16Array;
  }
}

/** GPU bytes back as host elements of `dtype` (bool and uint8 narrowed from 32-bit words). */
export function fromGpuBytes(bytes: ArrayBuffer, dtype: DType, length: number): TypedArray {
  switch (dtype) {
    case 'float32': return new Float32Array(bytes, 0, length);
    case 'int32': return new Int32Array(bytes, 0, length);
    case 'bool': return Uint8Array.from(new Uint32Array(bytes, 0, length));
    case 'uint8': return Uint8Array.from(new Int32Array(bytes, 0, length));
    case 'float64': throw new DTypeError('webgpu: float64 tensors cannot live on the GPU: WGSL has no 64-bit float (got float64)');
    case 'float16': return new Uint16Array(bytes, 0, length);
  }
}

/** Copies host data into a new pooled buffer (its byte length must be a multiple of 4). */
export function upload(device: GPUDevice, pool: BufferPool, data: ArrayBufferView): GPUBuffer {
  const buffer = pool.acquire(data.byteLength);
  if (data.byteLength > 0) device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  return buffer;
}

/** One range to read back. */
export interface ReadRequest {
  buffer: GPUBuffer;
  offset?: number;
  bytes: number;
}

/**
 * Reads ranges of GPU buffers back to the host: one command buffer of copies into pooled
 * staging buffers (MAP_READ | COPY_DST), then all maps awaited together. Work submitted
 * earlier is finished before the copies run.
 */
export async function readBuffers(device: GPUDevice, staging: BufferPool, reads: readonly ReadRequest[]): Promise<ArrayBuffer[]> {
  const encoder = device.createCommandEncoder();
  const bufs = reads.map((r) => {
    const size = Math.ceil(r.bytes / 4) * 4;
    const s = staging.acquire(Math.max(size, 4));
    if (size > 0) encoder.copyBufferToBuffer(r.buffer, r.offset ?? 0, s, 0, size);
    return s;
  });
  device.queue.submit([encoder.finish()]);
  try {
    // Map the used range only: mapping is what the event wait is for.
    // allSettled: no staging buffer goes back to the pool while its map is still pending.
    const maps = await Promise.allSettled(bufs.map((s, i) => s.mapAsync(0x0001, 0, Math.max(4, Math.ceil(reads[i]!.bytes / 4) * 4))));
    for (const m of maps) if (m.status === 'rejected') throw m.reason;
    return bufs.map((s, i) => {
      const bytes = reads[i]!.bytes;
      const out = bytes > 0 ? s.getMappedRange(0, Math.ceil(bytes / 4) * 4).slice(0, bytes) : new ArrayBuffer(0);
      s.unmap();
      return out;
    });
  } finally {
    for (const s of bufs) {
      if (s.mapState === 'mapped') s.unmap();
      staging.release(s);
    }
  }
}
