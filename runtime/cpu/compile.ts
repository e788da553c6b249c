/** A compiled CPU kernel: buffers first, then their element offsets, then scalar arguments. */
export type CpuKernel = (...args: any[]) => void;

const cache = new Map<string, CpuKernel>();

/**
 * Compiles generated kernel source once per distinct text. The source is a function body
 * that returns the kernel; `helpers` (math functions, error builders) are its only free
 * variable, bound as `M`. Callers build the text from validated numbers and a fixed
 * vocabulary only: nothing a user typed ever reaches here.
 */
export function compileCpuKernel(source: string, helpers: object): CpuKernel {
  let kernel = cache.get(source);
  if (kernel === undefined) {
    kernel = new Function('M', source)(helpers) as CpuKernel;
    cache.set(source, kernel);
  }
  return kernel;
}

/** How many distinct kernels have been compiled (for tests and logging). */
export function cpuKernelCount(): number {
  return cache.size;
}
