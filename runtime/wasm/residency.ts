/**
 * Where the Wasm engine's buffers live: in the WebAssembly memory, or spilled to the
 * JavaScript heap.
 *
 * A JavaScript job cannot learn that an object died while it runs (a WeakRef made in the
 * job keeps its target to the job's end; finalizers run between tasks), so a synchronous
 * loop that drops its tensors without dispose() would fill the memory with blocks nobody
 * can give back. The collector does free unreachable typed arrays as the loop runs, though.
 * So when an allocation would take the bytes in use past a threshold, the buffers used least
 * recently are spilled: their bytes copied into a fresh Int32Array (their "home") and their
 * blocks freed. Dropped buffers are never used again, so they are the ones that go, and the
 * collector frees their homes with them; a spilled buffer used again is restored (a new
 * block, its bytes copied back) when its address is next read. A buffer object keeps its
 * identity through both, so everything holding it (storages, bound launches) stays valid.
 *
 * Spills happen only in alloc, never while an address is read: no launch ever has a buffer
 * taken away between reading its address and running. Restores never spill (they may take
 * the memory past the threshold until the next alloc). Pinned buffers (a compiled program's
 * own) never spill.
 */
import type { DType } from '../dtype.js';
import { InternalError } from '../errors.js';
import { classBytes, classIndex, type WasmHeap } from './memory.js';

/** A buffer: `bytes` bytes holding elements of `dtype`, at byte address `ptr` of the memory while resident. */
export interface WasmBuffer {
  /** The byte address of its block; SPILLED while its bytes are in `home`, FREED once given back. */
  ptr: number;
  readonly bytes: number;
  readonly dtype: DType;
  /** Elements of `dtype` it was allocated for. */
  readonly length: number;
  /** The residency clock when its address was last read (a launch, read, write or copy used it). */
  used: number;
  /**
   * Its bytes while spilled (whole 32-bit words: blocks are 64-byte aligned and sized), from
   * word `homeAt` on: a small buffer's home is a range of an array shared with others.
   */
  home: Int32Array | undefined;
  homeAt: number;
  /** Its index among the resident buffers that may spill; -1 when spilled, freed or pinned. */
  slot: number;
}

/** `ptr` of a buffer whose bytes are in its home. */
export const SPILLED = -1;
/** `ptr` of a buffer given back. */
export const FREED = -2;

/**
 * The bytes in use at which the first spill happens. 64 MiB: an eager MLP 784-256-256-10
 * training step on a batch of 128 that never disposes leaves ~2 MB of dropped tensors, so a
 * spill pass every ~17 steps; over 2,000 steps the memory stayed at 128 MiB
 * (bench/eager-reclaim.ts).
 */
const INITIAL_THRESHOLD = 64 * 2 ** 20;
/**
 * The spillable buffers at which the first spill happens, whatever their bytes. Counted too,
 * because many small buffers cost more than their bytes: with only the 64 MiB threshold, a
 * loop of dropped eager adds on [16] kept a million buffer objects, which the collector then
 * had to walk (a spill pass over them took ~4 s, ~20 µs per add). Every buffer waiting for a
 * pass survives the collector's scavenges, which copy it, so fewer wait: with 1,024, dropped
 * adds on [16] cost 0.77–0.97× the JavaScript engine's, with 4,096 1.29–1.62× (bench/
 * cpu-engines.ts, a loaded 2-core machine). Passes come four times as often but spill a
 * quarter as many buffers each. A pass that kept many buffers, or spilled many soon used
 * again, doubles the limit, so a working set of more small tensors than 512 raises it.
 */
const INITIAL_COUNT_LIMIT = 1024;
/** Age buckets of the approximate LRU order a spill uses (linear time, where a sort would be n log n). */
const BUCKETS = 64;
/** Homes up to this many words are copied by a loop: a subarray and set cost more for a few words. */
const LOOP_WORDS = 16;
/**
 * Buffers of up to LOOP_WORDS words spill into ranges of one shared array of this many words
 * (4 KiB) rather than an array each: a dropped eager add [16] spent ~8% of its time in
 * spill passes, most of it making a 64-byte array per buffer (and collecting it). A chunk
 * lives while any buffer homed in it does, so a small tensor kept spilled forever holds at
 * most 4 KiB of the JavaScript heap.
 */
const CHUNK_WORDS = 1024;

/** What spilling did so far, and the threshold now. */
export interface SpillStats {
  /** Spill passes (each spills many buffers). */
  passes: number;
  spilled: number;
  spilledBytes: number;
  restored: number;
  restoredBytes: number;
  /** Bytes in use past which an allocation spills. */
  threshold: number;
}

/** The residency of one backend's buffers in a heap. */
export class Residency {
  private clock = 0;
  /** Resident buffers that may spill, each at its `slot`. */
  private readonly spillable: WasmBuffer[] = [];
  /** Resident buffers that never spill. */
  private readonly pinned = new Set<WasmBuffer>();
  /** Bytes and buffers restored since the last spill pass: many means the pass spilled buffers still in use. */
  private restoredSincePass = 0;
  private restoresSincePass = 0;
  private readonly counts = { passes: 0, spilled: 0, spilledBytes: 0, restored: 0, restoredBytes: 0 };
  private threshold = INITIAL_THRESHOLD;
  private countLimit = INITIAL_COUNT_LIMIT;
  /** Bytes of the buffers handed out and not freed, resident or spilled. */
  liveBytes = 0;
  /**
   * Changes at every alloc, free, restore and spill pass: addresses read while it stays the
   * same are still right, so bound launches (./bind.ts) read them again only when it changed.
   * Allocs end it too, though they move nothing: reading an address stamps its buffer as
   * used, and a replay whose outputs are allocated between calls keeps stamping its
   * parameters at every call, as it did when every call read every address, so a spill pass
   * never mistakes them for old ones. A lifted loop's iterations allocate nothing.
   */
  epoch = 0;
  /** The shared array small buffers spill into, and its words taken so far. */
  private chunk = new Int32Array(0);
  private chunkUsed = 0;

  constructor(private readonly heap: () => WasmHeap) {}

  /** A new resident buffer that may spill; zero-filled when `zero`. */
  alloc(dtype: DType, length: number, bytes: number, zero = true): WasmBuffer {
    const heap = this.heap();
    const full = heap.bytesInUse() + bytes > this.threshold || this.spillable.length >= this.countLimit;
    if (full && this.spillable.length > 0) this.spillLeastRecent(bytes);
    const ptr = heap.alloc(bytes);
    // A reused block holds its last owner's bytes; memory above the heap's top is still zero.
    if (heap.reused && zero) heap.zero(ptr, bytes);
    const buffer: WasmBuffer = { ptr, bytes, dtype, length, used: ++this.clock, home: undefined, homeAt: 0, slot: -1 };
    this.track(buffer);
    this.liveBytes += bytes;
    this.epoch++;
    return buffer;
  }

  /** The byte address of `b`, restored first if spilled; marks it used now. */
  address(b: WasmBuffer): number {
    b.used = ++this.clock;
    return b.ptr >= 0 ? b.ptr : this.restore(b);
  }

  /** Keeps `b` resident from now on (restored first if spilled). */
  pin(b: WasmBuffer): void {
    this.address(b);
    this.untrack(b);
    this.pinned.add(b);
  }

  free(b: WasmBuffer): void {
    if (b.ptr === FREED) throw new InternalError(`cpu: a buffer of ${b.bytes} bytes was freed twice`);
    if (b.ptr >= 0) {
      if (b.slot >= 0) this.untrack(b);
      else this.pinned.delete(b);
      this.heap().free(b.ptr);
    }
    b.home = undefined;
    b.ptr = FREED;
    this.liveBytes -= b.bytes;
    this.epoch++;
  }

  /** Frees every resident buffer (spilled ones hold only their homes, which the collector takes). */
  freeAll(): void {
    for (const b of [...this.spillable, ...this.pinned]) this.free(b);
  }

  /** Sets the bytes in use past which an allocation spills (it still grows when the buffers in use need more). */
  setThreshold(bytes: number): void {
    if (!Number.isSafeInteger(bytes) || bytes <= 0) {
      throw new InternalError(`cpu: a spill threshold must be a positive number of bytes (got ${bytes})`);
    }
    this.threshold = bytes;
  }

  stats(): SpillStats {
    return { ...this.counts, threshold: this.threshold };
  }

  private track(b: WasmBuffer): void {
    b.slot = this.spillable.length;
    this.spillable.push(b);
  }

  private untrack(b: WasmBuffer): void {
    if (b.slot < 0) return;
    const last = this.spillable.pop()!;
    if (last !== b) {
      this.spillable[b.slot] = last;
      last.slot = b.slot;
    }
    b.slot = -1;
  }

  private restore(b: WasmBuffer): number {
    const home = b.home;
    if (b.ptr === FREED || home === undefined) {
      throw new InternalError(`cpu: a buffer of ${b.bytes} bytes was used after it was freed`);
    }
    const heap = this.heap();
    const ptr = heap.alloc(b.bytes);
    const words = heap.elements('int32') as Int32Array, at = ptr / 4, from = b.homeAt, n = Math.ceil(b.bytes / 4);
    if (n <= LOOP_WORDS) for (let i = 0; i < n; i++) words[at + i] = home[from + i]!;
    else words.set(home, at);
    b.ptr = ptr;
    b.home = undefined;
    b.homeAt = 0;
    this.epoch++;
    this.track(b);
    this.counts.restored++;
    this.counts.restoredBytes += b.bytes;
    this.restoredSincePass += b.bytes;
    this.restoresSincePass++;
    return ptr;
  }

  private spill(heap: WasmHeap, b: WasmBuffer, words: Int32Array): void {
    const at = b.ptr / 4, n = Math.ceil(b.bytes / 4);
    if (n <= LOOP_WORDS) {
      if (this.chunkUsed + n > this.chunk.length) {
        this.chunk = new Int32Array(CHUNK_WORDS);
        this.chunkUsed = 0;
      }
      const home = this.chunk, from = this.chunkUsed;
      for (let i = 0; i < n; i++) home[from + i] = words[at + i]!;
      b.home = home;
      b.homeAt = from;
      this.chunkUsed += n;
    } else {
      const home = new Int32Array(n);
      home.set(words.subarray(at, at + n));
      b.home = home;
      b.homeAt = 0;
    }
    heap.free(b.ptr);
    b.ptr = SPILLED;
    b.slot = -1;
    this.counts.spilled++;
    this.counts.spilledBytes += b.bytes;
  }

  /**
   * Spills the buffers used least recently until the bytes in use, with `need` more, are at
   * most half the threshold and the spillable buffers at most half their limit, in
   * approximate LRU order: the buffers' last uses fall into BUCKETS age ranges, and whole
   * ranges go from the oldest. If the buffers in use still need more than half, or the last
   * pass spilled buffers that were soon used again, the threshold and limit grow.
   */
  private spillLeastRecent(need: number): void {
    const heap = this.heap(), list = this.spillable;
    const excessBytes = heap.bytesInUse() + need - this.threshold / 2;
    const excessCount = list.length - this.countLimit / 2;
    let oldest = this.clock;
    for (let i = 0; i < list.length; i++) {
      const used = list[i]!.used;
      if (used < oldest) oldest = used;
    }
    const scale = BUCKETS / (this.clock + 1 - oldest);
    const bytes = new Float64Array(BUCKETS), counts = new Uint32Array(BUCKETS);
    // A pass the count of buffers started (many small dropped ones) needs no bytes per bucket.
    const byBytes = excessBytes > 0;
    for (let i = 0; i < list.length; i++) {
      const b = list[i]!, bucket = Math.floor((b.used - oldest) * scale);
      if (byBytes) bytes[bucket]! += classBytes(classIndex(b.bytes));
      counts[bucket]!++;
    }
    let cut = 0;
    for (let freed = 0, n = 0; cut < BUCKETS && (freed < excessBytes || n < excessCount); cut++) {
      freed += bytes[cut]!;
      n += counts[cut]!;
    }
    const words = heap.elements('int32') as Int32Array;
    let kept = 0;
    for (let i = 0; i < list.length; i++) {
      const b = list[i]!;
      if (Math.floor((b.used - oldest) * scale) < cut) {
        this.spill(heap, b, words);
      } else {
        list[kept] = b;
        b.slot = kept++;
      }
    }
    list.length = kept;
    this.counts.passes++;
    this.epoch++;
    const inUse = heap.bytesInUse() + need;
    if (inUse > this.threshold / 2 || this.restoredSincePass > this.threshold / 4) {
      this.threshold = Math.min(Math.max(2 * this.threshold, 2 * inUse), 2 ** 32);
      this.countLimit = Math.max(2 * this.countLimit, 2 * kept);
    } else if (kept > this.countLimit / 2 || this.restoresSincePass > this.countLimit / 4) {
      this.countLimit = Math.max(2 * this.countLimit, 2 * kept);
    }
    this.restoredSincePass = 0;
    this.restoresSincePass = 0;
  }
}
