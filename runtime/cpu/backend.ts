/**
 * The CPU backend of the JavaScript engine: buffers are typed arrays from the CPU allocator,
 * kernels are JavaScript functions (generated source compiled by ./compile.ts, or a ready
 * function such as the Wasm SIMD matmul), and a launch runs at once.
 */
import type { Backend, KernelArg, Launch } from '../backend.js';
import type { DType, TypedArray } from '../dtype.js';
import { fixedCall, sequence } from '../fixed-call.js';
import { cpuAllocator } from './allocator.js';
import { compileCpuKernel, cpuKernelCount, type CpuKernel } from './compile.js';

/**
 * What a renderer gives the CPU backend for a spec: generated source, its helpers and the
 * values of its size parameters (leading parameters of a size-generic kernel), or a ready kernel.
 */
export type CpuProgram = { source: string; helpers: object; sizes: readonly number[] } | { kernel: CpuKernel };

/**
 * A size-generic kernel with its size parameters bound, so that it takes the calling
 * convention of every kernel (buffers, offsets, scalars); a concrete kernel as it is.
 */
export function withSizes(kernel: CpuKernel, sizes: readonly number[]): CpuKernel {
  return sizes.length === 0 ? kernel : kernel.bind(undefined, ...sizes);
}

/** Typed arrays and JavaScript kernels; `render` turns a spec into a program (see CpuProgram). */
export class CpuBackend<Spec> implements Backend<TypedArray, CpuKernel, Spec> {
  readonly device = 'cpu';
  /** Called with the source of every kernel compiled from now on (for logging and explain). */
  onCompile: ((source: string) => void) | undefined;
  private readonly kernels = new Map<string, CpuKernel>();

  constructor(private readonly render: (spec: Spec) => CpuProgram) {}

  alloc(dtype: DType, elements: number): TypedArray {
    return cpuAllocator().alloc(dtype, elements);
  }

  /** Typed arrays are garbage-collected: nothing to give back. */
  free(): void {}

  write(buffer: TypedArray, _dtype: DType, data: TypedArray, offset = 0): void {
    buffer.set(data, offset);
  }

  readonly readSync = (buffer: TypedArray, _dtype: DType, offset: number, length: number): TypedArray =>
    buffer.slice(offset, offset + length);

  read(buffer: TypedArray, dtype: DType, offset: number, length: number): Promise<TypedArray> {
    return Promise.resolve(this.readSync(buffer, dtype, offset, length));
  }

  copy(src: TypedArray, srcOffset: number, dst: TypedArray, dstOffset: number, length: number): void {
    // A few elements (a loop variable, a scalar) by hand: subarray makes an object per copy.
    if (length <= 16) for (let i = 0; i < length; i++) dst[dstOffset + i] = src[srcOffset + i]!;
    else dst.set(src.subarray(srcOffset, srcOffset + length), dstOffset);
  }

  compile(key: string, spec: () => Spec): CpuKernel {
    let k = this.kernels.get(key);
    if (k === undefined) {
      const program = this.render(spec());
      if ('kernel' in program) {
        k = program.kernel;
      } else {
        const compiled = cpuKernelCount();
        k = withSizes(compileCpuKernel(program.source, program.helpers), program.sizes);
        // Two specs can render the same text, which ./compile.ts compiles only once.
        if (cpuKernelCount() > compiled) this.onCompile?.(program.source);
      }
      this.kernels.set(key, k);
    }
    return k;
  }

  run(launches: readonly Launch<TypedArray, CpuKernel>[]): void {
    for (let l = 0; l < launches.length; l++) {
      const { kernel, args, scalars } = launches[l]!;
      if (scalars.length > 0 || !callDirect(kernel, args)) kernel.apply(undefined, cpuArgs(args, scalars));
    }
  }

  /** Typed arrays never move: each launch's argument vector is built once, and its kernel called directly. */
  bind(launches: readonly Launch<TypedArray, CpuKernel>[]): () => void {
    return sequence(launches.map(({ kernel, args, scalars }) => fixedCall(kernel, cpuArgs(args, scalars))));
  }

  bindCopy(src: TypedArray, srcOffset: number, dst: TypedArray, dstOffset: number, length: number): () => void {
    if (length === 1) return () => { dst[dstOffset] = src[srcOffset]!; };
    return () => this.copy(src, srcOffset, dst, dstOffset, length);
  }

  readonly bindRead = (buffer: TypedArray, _dtype: DType, offset: number): (() => number) => () => buffer[offset]!;

  /** Launches have run by the time `run` returns. */
  flush(): void {}

  sync(): Promise<void> {
    return Promise.resolve();
  }

  destroy(): void {
    this.kernels.clear();
  }
}

/**
 * Calls `kernel` with up to six buffers and no scalars (most launches) without building an
 * argument array, which measured 39 ns a call against 5 ns (see ../fixed-call.ts); false
 * when it has more.
 */
function callDirect(kernel: CpuKernel, args: readonly KernelArg<TypedArray>[]): boolean {
  switch (args.length) {
    case 1: kernel(args[0]!.data, args[0]!.offset); return true;
    case 2: kernel(args[0]!.data, args[1]!.data, args[0]!.offset, args[1]!.offset); return true;
    case 3: {
      const a = args[0]!, b = args[1]!, c = args[2]!;
      kernel(a.data, b.data, c.data, a.offset, b.offset, c.offset);
      return true;
    }
    case 4: {
      const a = args[0]!, b = args[1]!, c = args[2]!, d = args[3]!;
      kernel(a.data, b.data, c.data, d.data, a.offset, b.offset, c.offset, d.offset);
      return true;
    }
    case 5: {
      const a = args[0]!, b = args[1]!, c = args[2]!, d = args[3]!, e = args[4]!;
      kernel(a.data, b.data, c.data, d.data, e.data, a.offset, b.offset, c.offset, d.offset, e.offset);
      return true;
    }
    case 6: {
      const a = args[0]!, b = args[1]!, c = args[2]!, d = args[3]!, e = args[4]!, f = args[5]!;
      kernel(a.data, b.data, c.data, d.data, e.data, f.data,
        a.offset, b.offset, c.offset, d.offset, e.offset, f.offset);
      return true;
    }
    default: return false;
  }
}

/** A CPU kernel's arguments: every buffer, then every offset, then the scalars (see Launch). */
function cpuArgs(args: readonly KernelArg<TypedArray>[], scalars: readonly number[]): (TypedArray | number)[] {
  const n = args.length;
  const argv = new Array<TypedArray | number>(2 * n + scalars.length);
  for (let i = 0; i < n; i++) {
    argv[i] = args[i]!.data;
    argv[n + i] = args[i]!.offset;
  }
  for (let i = 0; i < scalars.length; i++) argv[2 * n + i] = scalars[i]!;
  return argv;
}
