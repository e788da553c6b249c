/**
 * The one WebAssembly.Memory kiln's Wasm kernels work in (shared when threads can use it),
 * and an allocator over it: blocks come in size classes (powers of two, split in quarters
 * above 4 KiB so a large block wastes at most a fifth), freed blocks are kept per class and
 * reused, and the memory grows when no free block fits. Nothing is ever returned to the
 * system: a WebAssembly.Memory cannot shrink (the backend keeps it small by spilling buffers
 * nobody used lately to the JavaScript heap, see ./backend.ts).
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
/** What freed blocks hold in the test mode `junkFreed`: a float32 NaN whose payload no kernel computes. */
export const JUNK = 0x7fa5a5a5;

/** Size classes up to 4 KiB: 64, 128, …, 4096 bytes (indices 0 to 6); above, four classes per power of two. */
const SMALL_CLASSES = 7;
/** Classes in all: the small ones, then four per power of two from 8 KiB to 4 GiB. */
const CLASSES = SMALL_CLASSES + 4 * 20;

/** The index of the smallest size class holding `bytes` (0 < bytes ≤ 4 GiB; 0 bytes take the smallest class). */
export function classIndex(bytes: number): number {
  if (bytes <= ALIGN) return 0;
  // Bits of bytes - 1: the exponent of the smallest power of two ≥ bytes (bytes ≤ 2^32, so it fits a uint32).
  const exp = 32 - Math.clz32(bytes - 1);
  if (exp <= 12) return exp - 6;
  // Above 4 KiB a power of two 2^exp splits in eighths, of which bytes > 2^(exp-1) takes 5 to 8.
  const eighths = Math.ceil(bytes / 2 ** (exp - 3));
  return SMALL_CLASSES + 4 * (exp - 13) + eighths - 5;
}

/** The bytes of size class `index`. */
export function classBytes(index: number): number {
  if (index < SMALL_CLASSES) return ALIGN << index;
  const octave = (index - SMALL_CLASSES) >> 2;
  return (5 + ((index - SMALL_CLASSES) & 3)) * 2 ** (octave + 10);
}

/** The smallest size class holding `bytes`. */
export function sizeClass(bytes: number): number {
  return classBytes(classIndex(bytes));
}

/**
 * A WebAssembly.Memory with a size-class allocator. Free blocks are kept in one array per
 * class, and each block's class in a byte per 64-byte line of the memory (1/64 of its size),
 * so alloc and free look nothing up in a Map (Maps of sizes and free lists were part of what
 * made eager add [16] 3× slower on this engine than on the JavaScript one).
 */
export class WasmHeap {
  readonly memory: WasmMemory;
  /** Bytes below this have been handed out at least once; the memory above it is still zero. */
  private top = ALIGN;
  private readonly freeLists: number[][] = Array.from({ length: CLASSES }, () => []);
  /** The class index + 1 of the block at each 64-byte line (0: no block starts there, or it is free). */
  private classes: Uint8Array;
  private liveBytes = 0;
  /** Whether the block the last alloc returned had been handed out before (its bytes are its last owner's). */
  reused = false;
  /**
   * Test mode: freed blocks are filled with junk (a NaN pattern), so a kernel that reads an
   * output allocated uninitialised before writing it gives wrong bits instead of zeros.
   */
  junkFreed = false;
  private view: Float32Array;
  /** Views of the memory by element type, re-taken when the memory has grown (its buffer is then new). */
  private readonly views = new Map<DType, TypedArray>();

  constructor(readonly shared: boolean) {
    if (wasmApi === undefined) throw new InternalError('wasm heap: this runtime has no WebAssembly');
    this.memory = new wasmApi.Memory({ initial: INITIAL_PAGES, maximum: MAX_PAGES, shared });
    this.view = new Float32Array(this.memory.buffer);
    this.classes = new Uint8Array(this.memory.buffer.byteLength / ALIGN);
  }

  /** The address of a new block of at least `bytes` bytes (64-byte aligned; contents undefined unless !reused). */
  alloc(bytes: number): number {
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw new InternalError(`wasm heap: cannot allocate ${bytes} bytes`);
    // Most blocks are of the smallest class (scalars, a guarded loop's values, [16] tensors).
    const index = bytes <= ALIGN ? 0 : classIndex(bytes);
    const size = index === 0 ? ALIGN : classBytes(index);
    let ptr = this.freeLists[index]!.pop();
    this.reused = ptr !== undefined;
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
        this.views.clear();
        const classes = new Uint8Array(this.memory.buffer.byteLength / ALIGN);
        classes.set(this.classes);
        this.classes = classes;
      }
      this.top = end;
    }
    this.classes[ptr / ALIGN] = index + 1;
    this.liveBytes += size;
    return ptr;
  }

  /** Returns a block to its size class's free list. */
  free(ptr: number): void {
    const line = ptr / ALIGN;
    const index = (this.classes[line] ?? 0) - 1;
    if (index < 0 || !Number.isInteger(line)) throw new InternalError(`wasm heap: ${ptr} is not an allocated block`);
    this.classes[line] = 0;
    const size = index === 0 ? ALIGN : classBytes(index);
    this.liveBytes -= size;
    if (this.junkFreed) this.elements('int32').fill(JUNK, ptr / 4, (ptr + size) / 4);
    this.freeLists[index]!.push(ptr);
  }

  /** The memory as float32, refreshed after growth (a grown memory has a new buffer). */
  f32(): Float32Array {
    if (this.view.buffer !== this.memory.buffer) this.view = new Float32Array(this.memory.buffer);
    return this.view;
  }

  /**
   * The memory as elements of `dtype`; take it again after any allocation, which may grow the
   * memory. Views are dropped when this heap grows the memory (nothing else grows it), so
   * taking one reads no `memory.buffer`, a getter that measured ~5% of an eager add [16].
   */
  elements(dtype: DType): TypedArray {
    let v = this.views.get(dtype);
    if (v === undefined) {
      const buffer = this.memory.buffer;
      v = new ARRAY_OF[dtype](buffer, 0, buffer.byteLength / ARRAY_OF[dtype].BYTES_PER_ELEMENT);
      this.views.set(dtype, v);
    }
    return v;
  }

  /**
   * Zeroes the block at `ptr` up to its first `bytes` bytes, as float64 words (blocks are
   * 64-byte aligned and sized): filling a shared memory byte by byte measured 7.6× slower in
   * Node 20 (800 KiB: 2.7 ms against 0.35 ms), and a few words go faster by hand than by fill.
   */
  zero(ptr: number, bytes: number): void {
    const words = this.elements('float64') as Float64Array, from = ptr / 8, to = Math.ceil((ptr + bytes) / 8);
    if (to - from <= 16) for (let i = from; i < to; i++) words[i] = 0;
    else words.fill(0, from, to);
  }

  /** Bytes in blocks handed out and not yet freed (whole size classes). */
  bytesInUse(): number {
    return this.liveBytes;
  }

  /** Bytes in blocks handed out and not yet freed (whole size classes), and the memory's size. */
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
