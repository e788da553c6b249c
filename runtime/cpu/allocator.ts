import { ARRAY_OF, type DType, type TypedArrayOf } from '../dtype.js';

/**
 * Where CPU tensors keep their elements. Ops never allocate typed arrays themselves, so
 * storage can later move into a shared WebAssembly.Memory without touching any op.
 */
export interface CpuAllocator {
  /** A zero-filled array of `size` elements of `dtype`. */
  alloc<D extends DType>(dtype: D, size: number): TypedArrayOf[D];
}

/** The default allocator: ordinary garbage-collected typed arrays. */
export const heapAllocator: CpuAllocator = {
  alloc<D extends DType>(dtype: D, size: number): TypedArrayOf[D] {
    return new ARRAY_OF[dtype](size) as TypedArrayOf[D];
  },
};

let current: CpuAllocator = heapAllocator;

/** The allocator CPU storage comes from. */
export function cpuAllocator(): CpuAllocator {
  return current;
}

/** Replaces the allocator used for new CPU storage; returns the previous one. */
export function setCpuAllocator(allocator: CpuAllocator): CpuAllocator {
  const previous = current;
  current = allocator;
  return previous;
}
