/**
 * The seam every device sits behind. A backend owns buffers (opaque handles: a typed array
 * on the CPU, a pooled GPUBuffer on WebGPU, a range of one WebAssembly.Memory for a Wasm
 * backend) and runnable kernels compiled from kernel specs. Code above `runtime/` reaches
 * elements and kernels only through this interface.
 *
 * runtime/ does not know what a kernel spec is (specs belong to the compiler): a backend is
 * constructed with a renderer that turns a spec into the program its device runs, and
 * `compile` caches the result under the spec's key.
 */
import type { DType, TypedArray } from './dtype.js';

/** A kernel argument: a buffer and the element offset at which the kernel's view of it starts. */
export interface KernelArg<Buffer> {
  data: Buffer;
  offset: number;
}

/**
 * One kernel launch: the kernel calling convention, written down once. A kernel receives
 * every arg's buffer, then every arg's element offset, then the scalar arguments (random
 * seeds, fill values), so slices of one tensor and different constants share one kernel.
 */
export interface Launch<Buffer, Kernel> {
  kernel: Kernel;
  args: readonly KernelArg<Buffer>[];
  scalars: readonly number[];
}

/** A device: buffers, kernels compiled from specs of type `Spec`, and launches in order. */
export interface Backend<Buffer, Kernel, Spec> {
  /** The device's name ('cpu', 'webgpu'). */
  readonly device: string;
  /**
   * A buffer for `elements` elements of `dtype`; zero-filled where the device does it for free,
   * and on the CPU unless `uninitialised` (the caller's kernel writes every element first).
   */
  alloc(dtype: DType, elements: number, uninitialised?: boolean): Buffer;
  /** Gives a buffer back; launches recorded before still see its old contents. */
  free(buffer: Buffer): void;
  /** Writes `data` (host elements of `dtype`) at element `offset`, ordered after every launch recorded before. */
  write(buffer: Buffer, dtype: DType, data: TypedArray, offset?: number): void;
  /** `length` elements of `dtype` from element `offset`, after every launch recorded before. */
  read(buffer: Buffer, dtype: DType, offset: number, length: number): Promise<TypedArray>;
  /** The same, synchronously; undefined on devices that can only read back asynchronously. */
  readonly readSync: ((buffer: Buffer, dtype: DType, offset: number, length: number) => TypedArray) | undefined;
  /** Copies `length` elements between buffers (element offsets), in launch order. */
  copy(src: Buffer, srcOffset: number, dst: Buffer, dstOffset: number, length: number): void;
  /** The kernel for a spec, cached under `key`; `spec` is built only on a miss. */
  compile(key: string, spec: () => Spec): Kernel;
  /** Runs (or records, in order) a batch of launches. */
  run(launches: readonly Launch<Buffer, Kernel>[]): void;
  /**
   * The launches prepared for running again and again over the same buffers: the call runs
   * them as `run` would, with what does not change between calls (argument vectors, views)
   * worked out once. Each call sees the buffers' contents as they are then.
   */
  bind(launches: readonly Launch<Buffer, Kernel>[]): () => void;
  /** `copy` prepared the same way: each call copies the elements as they are then. */
  bindCopy(src: Buffer, srcOffset: number, dst: Buffer, dstOffset: number, length: number): () => void;
  /**
   * A read of the element of `dtype` at element `offset`, prepared the same way (a lifted
   * loop's condition); undefined on devices that can only read back asynchronously.
   */
  readonly bindRead: ((buffer: Buffer, dtype: DType, offset: number) => () => number) | undefined;
  /** Starts the work recorded so far without waiting for it. */
  flush(): void;
  /** Resolves once every launch recorded so far has finished; reports the errors they raised. */
  sync(): Promise<void>;
  /** Releases every buffer and cached kernel; the backend is unusable afterwards. */
  destroy(): void;
}
