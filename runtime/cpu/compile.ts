/** A compiled CPU kernel: buffers first, then their element offsets, then scalar arguments. */
export type CpuKernel = (...args: any[]) => void;

const cache = new Map<string, CpuKernel>();
let compilations = 0;

/**
 * Compiles generated kernel source once per distinct text. The source is a function body
 * that returns the kernel; `helpers` (math functions, error builders) are its only free
 * variable, bound as `M`. Callers build the text from validated numbers and a fixed
 * vocabulary only: nothing a user typed ever reaches here. Size-generic kernels are texts
 * like any other (compiler/sizes.ts decides which sizes are parameters), so members of a
 * family that render the same text share one compiled function.
 */
export function compileCpuKernel(source: string, helpers: object): CpuKernel {
  let kernel = cache.get(source);
  if (kernel === undefined) {
    compilations++;
    kernel = new Function('M', source)(helpers) as CpuKernel;
    cache.set(source, kernel);
  }
  return kernel;
}

/** How many kernels have been compiled from source (for tests and logging). */
export function cpuKernelCount(): number {
  return compilations;
}
