/**
 * The one WebAssembly.Memory kiln's Wasm kernels work in (shared when threads can use it),
 * and an allocator over it: blocks come in size classes (powers of two, split in quarters
 * above 4 KiB so a large block wastes at most a fifth), freed blocks are kept per class and
 * reused, and the memory grows when no free block fits. Nothing is ever returned to the
 * system: a WebAssembly.Memory cannot shrink.
 */
import { ARRAY_OF, type DType, type TypedArray } from '../dtype.js';
import { DeviceError, InternalError } from '../errors.js';
import { wasmApi, type WasmMemory } from './api.js';
import { wasmFeatures } from './features.js';

const PAGE = 65536;
/** Every block starts on a cache line, so SIMD loads are aligned and threads share no line. */
const ALIGN = 64;
/** A 32-bit memory holds at most 65536 pages (4 GiB). */
export const MAX_PAGES = 65536;
const INITIAL_PAGES = 64;

/** The smallest size class holding `bytes`. */
export function sizeClass(bytes: number): number {
  if (bytes <= ALIGN) return ALIGN;
  const pow = 2 ** Math.ceil(Math.log2(bytes));
  if (pow <= 4096) return pow;
  const quarter = pow / 8;
  return Math.ceil(bytes / quarter) * quarter;
}

/** A WebAssembly.Memory with a size-class allocator. */
export class WasmHeap {
  readonly memory: WasmMemory;
  /** Bytes below this have been handed out at least once. */
  private top = ALIGN;
  private readonly freeLists = new Map<number, number[]>();
  private readonly sizes = new Map<number, number>();
  private liveBytes = 0;
  private view: Float32Array;
  /** Views of the memory by element type, re-taken when the memory has grown (its buffer is then new). */
  private readonly views = new Map<DType, TypedArray>();

  constructor(readonly shared: boolean) {
    if (wasmApi === undefined) throw new InternalError('wasm heap: this runtime has no WebAssembly');
    this.memory = new wasmApi.Memory({ initial: INITIAL_PAGES, maximum: MAX_PAGES, shared });
    this.view = new Float32Array(this.memory.buffer);
  }

  /** The address of a new block of at least `bytes` bytes (64-byte aligned; contents undefined). */
  alloc(bytes: number): number {
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw new InternalError(`wasm heap: cannot allocate ${bytes} bytes`);
    const size = sizeClass(bytes);
    let ptr = this.freeLists.get(size)?.pop();
    if (ptr === undefined) {
      ptr = this.top;
      const end = ptr + size;
      if (end > MAX_PAGES * PAGE) {
        const live = `${this.liveBytes} bytes live`;
        throw new DeviceError(`cpu: ${bytes} bytes do not fit in the 4 GiB WebAssembly memory (${live})`);
      }
      const pages = this.memory.buffer.byteLength / PAGE;
      // Grow at least by doubling, so a run of growing allocations grows the memory a few times only.
      if (end > pages * PAGE) {
        this.memory.grow(Math.max(Math.ceil(end / PAGE) - pages, Math.min(pages, MAX_PAGES - pages)));
      }
      this.top = end;
    }
    this.sizes.set(ptr, size);
    this.liveBytes += size;
    return ptr;
  }

  /** Returns a block to its size class's free list. */
  free(ptr: number): void {
    const size = this.sizes.get(ptr);
    if (size === undefined) throw new InternalError(`wasm heap: ${ptr} is not an allocated block`);
    this.sizes.delete(ptr);
    this.liveBytes -= size;
    let list = this.freeLists.get(size);
    if (list === undefined) this.freeLists.set(size, (list = []));
    list.push(ptr);
  }

  /** The memory as float32, refreshed after growth (a grown memory has a new buffer). */
  f32(): Float32Array {
    if (this.view.buffer !== this.memory.buffer) this.view = new Float32Array(this.memory.buffer);
    return this.view;
  }

  /** The memory as elements of `dtype`; take it again after any allocation, which may grow the memory. */
  elements(dtype: DType): TypedArray {
    const buffer = this.memory.buffer;
    let v = this.views.get(dtype);
    if (v === undefined || v.buffer !== buffer) {
      v = new ARRAY_OF[dtype](buffer, 0, buffer.byteLength / ARRAY_OF[dtype].BYTES_PER_ELEMENT);
      this.views.set(dtype, v);
    }
    return v;
  }

  /** Bytes in blocks handed out and not yet freed, and the memory's size. */
  stats(): { liveBytes: number; memoryBytes: number } {
    return { liveBytes: this.liveBytes, memoryBytes: this.memory.buffer.byteLength };
  }
}

let heap: WasmHeap | undefined;

/** The process's heap, made on first use; shared when this runtime can share memory with workers. */
export function wasmHeap(): WasmHeap {
  heap ??= new WasmHeap(wasmFeatures().sharedMemory);
  return heap;
}
