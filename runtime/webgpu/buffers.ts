/// <reference types="@webgpu/types" />
/**
 * A size-bucketed pool of GPU buffers. Creating a buffer costs a driver allocation and
 * zero-fill, so freed buffers go back to a free list keyed by power-of-two size and the
 * next request of that bucket reuses one. The queue runs operations in submission order,
 * so a buffer released right after its last use is safe to hand to a later submission.
 */
import { DeviceError, InternalError } from '../errors.js';

/** GPUBufferUsage flags, as numbers so that the module needs no WebGPU globals. */
export const BufferUsage = {
  MAP_READ: 0x0001,
  MAP_WRITE: 0x0002,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
} as const;

/** Counters of a pool: buffers handed out and not yet released, and buffers waiting for reuse. */
export interface PoolStats {
  liveBuffers: number;
  liveBytes: number;
  pooledBuffers: number;
  pooledBytes: number;
  /** Buffers created since the pool was made (reuse keeps this low). */
  created: number;
}

/** The bucket a request of `bytes` falls into: the next power of two, at least `min`. */
export function bucketSize(bytes: number, min = 256): number {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new InternalError(`buffer pool: bad size ${bytes}`);
  let b = min;
  while (b < bytes) b *= 2;
  return b;
}

/** Buffers of one usage, reused by size bucket. */
export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private readonly live = new Set<GPUBuffer>();
  private counts = { liveBytes: 0, pooledBuffers: 0, pooledBytes: 0, created: 0 };

  constructor(
    private readonly device: GPUDevice,
    readonly usage: number,
    private readonly label = 'kiln',
    private readonly minBucket = 256,
  ) {}

  /** A buffer of at least `bytes` bytes (its `size` is the bucket's); contents are unspecified. */
  acquire(bytes: number): GPUBuffer {
    let size = bucketSize(bytes, this.minBucket);
    const max = this.device.limits.maxBufferSize;
    if (size > max) {
      // The last bucket would pass the device's limit: allocate the request itself.
      size = Math.ceil(bytes / 16) * 16;
      if (size > max) throw new DeviceError(`webgpu: a buffer of ${bytes} bytes exceeds the device's maxBufferSize (${max})`);
    }
    const list = this.free.get(size);
    let buffer = list?.pop();
    if (buffer !== undefined) {
      this.counts.pooledBuffers--;
      this.counts.pooledBytes -= size;
    } else {
      buffer = this.device.createBuffer({ size, usage: this.usage, label: this.label });
      this.counts.created++;
    }
    this.live.add(buffer);
    this.counts.liveBytes += size;
    return buffer;
  }

  /** Returns a buffer from `acquire` for reuse. */
  release(buffer: GPUBuffer): void {
    if (!this.live.delete(buffer)) throw new InternalError('buffer pool: released a buffer that is not live in this pool');
    const size = buffer.size;
    this.counts.liveBytes -= size;
    let list = this.free.get(size);
    if (list === undefined) this.free.set(size, (list = []));
    list.push(buffer);
    this.counts.pooledBuffers++;
    this.counts.pooledBytes += size;
  }

  /** Current counters. */
  stats(): PoolStats {
    return { liveBuffers: this.live.size, ...this.counts };
  }

  /** Destroys the buffers waiting for reuse (live ones are untouched). */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.counts.pooledBuffers = 0;
    this.counts.pooledBytes = 0;
  }

  /** Destroys every buffer of the pool, live ones included. */
  destroy(): void {
    this.trim();
    for (const b of this.live) b.destroy();
    this.live.clear();
    this.counts.liveBytes = 0;
  }
}
