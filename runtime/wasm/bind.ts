/**
 * Launches, copies and element reads of the Wasm backend prepared for repeated calls (a
 * lifted loop's iterations): offsets and scalars are fixed, buffers' addresses are read at
 * every call (a buffer may have moved since). A module's export is called directly with its
 * arity where it has up to four buffers and no scalars (most fused steps); see
 * ../fixed-call.ts for what a direct call saves.
 */
import type { KernelArg } from '../backend.js';
import { itemSize, type DType, type TypedArray } from '../dtype.js';
import type { WasmBuffer } from './backend.js';
import type { WasmHeap } from './memory.js';

/** Calls `fn` with every arg's address (read by `address` at the call), every offset, then the scalars. */
export function bindModule(
  fn: (...args: number[]) => void, args: readonly KernelArg<WasmBuffer>[], scalars: readonly number[],
  address: (buffer: WasmBuffer) => number,
): () => void {
  const n = args.length;
  const [b0, b1, b2, b3] = args.map((a) => a.data);
  const [o0, o1, o2, o3] = args.map((a) => a.offset);
  if (scalars.length === 0) {
    switch (n) {
      case 1: return () => fn(address(b0!), o0!);
      case 2: return () => fn(address(b0!), address(b1!), o0!, o1!);
      case 3: return () => fn(address(b0!), address(b1!), address(b2!), o0!, o1!, o2!);
      case 4: return () => fn(address(b0!), address(b1!), address(b2!), address(b3!), o0!, o1!, o2!, o3!);
    }
  }
  const buffers = args.map((a) => a.data);
  const argv: number[] = [...buffers.map(address), ...args.map((a) => a.offset), ...scalars];
  return () => {
    for (let i = 0; i < n; i++) argv[i] = address(buffers[i]!);
    fn.apply(undefined, argv);
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

/** Copies `length` elements of `dtype` (checked by the caller) at each call, from the buffers' addresses then. */
export function bindElementCopy(
  heap: WasmHeap, dtype: DType, src: WasmBuffer, srcOffset: number, dst: WasmBuffer, dstOffset: number,
  length: number, address: (buffer: WasmBuffer) => number,
): () => void {
  const size = itemSize(dtype), view = new ElementView(heap, dtype);
  if (length === 1) {
    return () => {
      const from = address(src) / size + srcOffset, to = address(dst) / size + dstOffset;
      const v = view.over(Math.max(from, to));
      v[to] = v[from]!;
    };
  }
  return () => {
    const from = address(src) / size + srcOffset, to = address(dst) / size + dstOffset;
    view.over(Math.max(from, to) + length - 1).copyWithin(to, from, from + length);
  };
}

/** Reads element `offset` of `buffer` as `dtype` (checked by the caller) at each call. */
export function bindElementRead(
  heap: WasmHeap, dtype: DType, buffer: WasmBuffer, offset: number, address: (buffer: WasmBuffer) => number,
): () => number {
  const size = itemSize(dtype), view = new ElementView(heap, dtype);
  return () => {
    const at = address(buffer) / size + offset;
    return view.over(at)[at]!;
  };
}
