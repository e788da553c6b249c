/**
 * Launches, copies and element reads of the Wasm backend prepared for repeated calls (a
 * lifted loop's iterations, a replay's steps): offsets and scalars are fixed, and buffers'
 * addresses are read again only when the residency's epoch changed since the last call (a
 * buffer was allocated, spilled, restored or freed since: see ./residency.ts), not at every
 * call: a lifted loop's iterations allocate nothing, so they read each address once.
 *
 * A module's export is called directly with its arity where it has up to four buffers and no
 * scalars (most fused steps); see ../fixed-call.ts for what a direct call saves.
 */
import type { KernelArg } from '../backend.js';
import type { CpuKernel } from '../cpu/compile.js';
import { liveCall } from '../fixed-call.js';
import { itemSize, type DType, type TypedArray } from '../dtype.js';
import type { WasmBuffer } from './backend.js';
import type { WasmHeap } from './memory.js';

/** Where bound calls get buffers' addresses: `address` (restoring a spilled buffer) is right while `epoch` stays. */
export interface Addresses {
  readonly epoch: number;
  address(buffer: WasmBuffer): number;
}

/** Calls `fn` with every arg's address, every offset, then the scalars. */
export function bindModule(
  fn: (...args: number[]) => void, args: readonly KernelArg<WasmBuffer>[], scalars: readonly number[], at: Addresses,
): () => void {
  const n = args.length;
  const buffers = args.map((a) => a.data);
  if (scalars.length === 0 && n >= 1 && n <= 4) {
    const [b0, b1, b2, b3] = buffers;
    const [o0, o1, o2, o3] = args.map((a) => a.offset);
    let epoch = -1, p0 = 0, p1 = 0, p2 = 0, p3 = 0;
    // Every address is read before the epoch is kept: a restore in between ends the epoch but moves no other buffer.
    const refresh = (): void => {
      p0 = at.address(b0!);
      if (n > 1) p1 = at.address(b1!);
      if (n > 2) p2 = at.address(b2!);
      if (n > 3) p3 = at.address(b3!);
      epoch = at.epoch;
    };
    switch (n) {
      case 1: return () => {
        if (epoch !== at.epoch) refresh();
        fn(p0, o0!);
      };
      case 2: return () => {
        if (epoch !== at.epoch) refresh();
        fn(p0, p1, o0!, o1!);
      };
      case 3: return () => {
        if (epoch !== at.epoch) refresh();
        fn(p0, p1, p2, o0!, o1!, o2!);
      };
      default: return () => {
        if (epoch !== at.epoch) refresh();
        fn(p0, p1, p2, p3, o0!, o1!, o2!, o3!);
      };
    }
  }
  const argv: number[] = [...buffers.map(() => 0), ...args.map((a) => a.offset), ...scalars];
  const call = liveCall(fn, argv);
  let epoch = -1;
  return () => {
    if (epoch !== at.epoch) {
      for (let i = 0; i < n; i++) argv[i] = at.address(buffers[i]!);
      epoch = at.epoch;
    }
    call();
  };
}

/**
 * Calls a JavaScript kernel over views of the whole memory with every arg's element offset
 * counted from the memory's start, then the scalars. The views are taken again with the
 * offsets, and when the memory grew: growing detaches an unshared memory's views (length
 * 0), while a shared memory's old views still hold every range handed out before.
 */
export function bindJavascript(
  heap: WasmHeap, fn: CpuKernel, dtypes: readonly DType[], args: readonly KernelArg<WasmBuffer>[],
  scalars: readonly number[], at: Addresses,
): () => void {
  const n = args.length;
  const types = args.map((a, i) => dtypes[i] ?? a.data.dtype);
  const start = (i: number): number => at.address(args[i]!.data) / itemSize(types[i]!) + args[i]!.offset;
  // A kept view serves while it reaches past its buffer (read after every address: a restore may grow the memory);
  // a replay that allocates between steps ends the epoch at every call, and taking the heap's views cost more.
  const reach = (view: TypedArray, i: number): TypedArray => {
    const b = args[i]!.data;
    return view.byteLength >= b.ptr + b.bytes ? view : heap.elements(types[i]!);
  };
  if (scalars.length === 0 && n >= 1 && n <= 4) {
    // Views and offsets in the closure's own variables, called directly (one call less than liveCall).
    const [t0, t1, t2, t3] = types;
    let epoch = -1, o0 = 0, o1 = 0, o2 = 0, o3 = 0;
    let v0 = heap.elements(t0!), v1 = heap.elements(t1 ?? t0!);
    let v2 = heap.elements(t2 ?? t0!), v3 = heap.elements(t3 ?? t0!);
    const refresh = (): void => {
      o0 = start(0);
      if (n > 1) o1 = start(1);
      if (n > 2) o2 = start(2);
      if (n > 3) o3 = start(3);
      v0 = reach(v0, 0);
      if (n > 1) v1 = reach(v1, 1);
      if (n > 2) v2 = reach(v2, 2);
      if (n > 3) v3 = reach(v3, 3);
      epoch = at.epoch;
    };
    switch (n) {
      case 1: return () => {
        if (epoch !== at.epoch || v0.length === 0) refresh();
        fn(v0, o0);
      };
      case 2: return () => {
        if (epoch !== at.epoch || v0.length === 0) refresh();
        fn(v0, v1, o0, o1);
      };
      case 3: return () => {
        if (epoch !== at.epoch || v0.length === 0) refresh();
        fn(v0, v1, v2, o0, o1, o2);
      };
      default: return () => {
        if (epoch !== at.epoch || v0.length === 0) refresh();
        fn(v0, v1, v2, v3, o0, o1, o2, o3);
      };
    }
  }
  const argv: unknown[] = [...args.map(() => undefined), ...args.map(() => 0), ...scalars];
  const call = liveCall(fn, argv);
  if (n === 0) return call;
  let epoch = -1;
  return () => {
    if (epoch !== at.epoch || (argv[0] as TypedArray).length === 0) {
      for (let i = 0; i < n; i++) argv[n + i] = start(i);
      for (let i = 0; i < n; i++) argv[i] = heap.elements(types[i]!);
      epoch = at.epoch;
    }
    call();
  };
}

/**
 * The memory as elements of one dtype, for bound copies and reads: the view is kept and
 * re-taken only when an index falls outside it. A memory that grew detaches its old buffer
 * (length 0) unless shared, and an old view of a shared memory still sees the same bytes
 * over its old length, so the bounds check is the whole freshness test; taking the memory's
 * buffer at every call (what WasmHeap.elements does) was most of a lifted loop's time.
 */
class ElementView {
  #view: TypedArray;

  constructor(private readonly heap: WasmHeap, private readonly dtype: DType) {
    this.#view = heap.elements(dtype);
  }

  /** The view, holding element `index`. */
  over(index: number): TypedArray {
    if (index >= this.#view.length) this.#view = this.heap.elements(this.dtype);
    return this.#view;
  }
}

/** The integer dtype with elements of `size` bytes (float64 for 8): copied through it, an element keeps its bits. */
function bitsOf(size: number): DType {
  return size === 4 ? 'int32' : size === 1 ? 'uint8' : size === 2 ? 'float16' : 'float64';
}

/** Copies `length` elements of `dtype` (checked by the caller) at each call, between the buffers' addresses then. */
export function bindElementCopy(
  heap: WasmHeap, dtype: DType, src: WasmBuffer, srcOffset: number, dst: WasmBuffer, dstOffset: number,
  length: number, at: Addresses,
): () => void {
  const size = itemSize(dtype);
  if (length === 1) {
    // One element (a lifted loop's variable): through a view of whole words, not of floats,
    // which would quiet a signalling NaN; the view is kept while the epoch lasts and the
    // memory has not grown (see bindJavascript).
    const bits = bitsOf(size);
    let epoch = -1, from = 0, to = 0, v = heap.elements(bits);
    const refresh = (): void => {
      from = at.address(src) / size + srcOffset;
      to = at.address(dst) / size + dstOffset;
      v = heap.elements(bits);
      epoch = at.epoch;
    };
    return () => {
      if (epoch !== at.epoch || v.length === 0) refresh();
      v[to] = v[from]!;
    };
  }
  const view = new ElementView(heap, dtype);
  let epoch = -1, from = 0, to = 0;
  return () => {
    if (epoch !== at.epoch) {
      from = at.address(src) / size + srcOffset;
      to = at.address(dst) / size + dstOffset;
      epoch = at.epoch;
    }
    view.over(Math.max(from, to) + length - 1).copyWithin(to, from, from + length);
  };
}

/** Reads element `offset` of `buffer` as `dtype` (checked by the caller) at each call. */
export function bindElementRead(
  heap: WasmHeap, dtype: DType, buffer: WasmBuffer, offset: number, at: Addresses,
): () => number {
  const size = itemSize(dtype), view = new ElementView(heap, dtype);
  let epoch = -1, index = 0;
  return () => {
    if (epoch !== at.epoch) {
      index = at.address(buffer) / size + offset;
      epoch = at.epoch;
    }
    return view.over(index)[index]!;
  };
}
