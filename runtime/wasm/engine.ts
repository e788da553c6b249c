/**
 * Which engine holds CPU tensors and runs their kernels, chosen once per process so eager
 * ops and compiled graphs always run the same kernels:
 *
 * - 'js' (the default): tensors are typed arrays and kernels generated JavaScript loops (the
 *   reference), with float32 matmuls on the WebAssembly SIMD gemm where SIMD exists.
 * - 'wasm' (KILN_CPU=wasm): tensors live in one WebAssembly memory and every kernel kiln can
 *   emit as Wasm runs there (SIMD128, split over worker threads). dispose() and tidy() give a
 *   buffer back at once; a tensor dropped without them is spilled to the JavaScript heap when
 *   the memory fills (./residency.ts), so the collector frees it as a synchronous loop runs
 *   (an eager MLP training loop that never disposes kept the memory at 128 MiB over 2,000
 *   steps, bench/eager-reclaim.ts). Not the default yet: small eager ops are slower than on
 *   the JavaScript engine (add [16] + dispose 1.29×, a chain of 10 ops on [16] 1.48×, in
 *   bench/cpu-engines.ts).
 *
 * KILN_CPU=js also turns the Wasm gemm off (pure JavaScript, the reference).
 */
import { DeviceError, ValueError } from '../errors.js';
import { wasmFeatures } from './features.js';

export type CpuEngine = 'wasm' | 'js';

/** The engine of CPU tensors, and whether their float32 matmuls (and the worker pool) use Wasm SIMD kernels. */
export interface CpuChoice {
  engine: CpuEngine;
  wasmKernels: boolean;
}

let choice: CpuChoice | undefined;

/** What KILN_CPU's value `asked` selects, given whether WebAssembly SIMD exists. */
export function chooseCpuEngine(asked: string | undefined, simd: boolean): CpuChoice {
  switch (asked) {
    case undefined:
    case '':
      return { engine: 'js', wasmKernels: simd };
    case 'js':
      return { engine: 'js', wasmKernels: false };
    case 'wasm':
      if (!simd) {
        throw new DeviceError('KILN_CPU=wasm: this runtime has no WebAssembly SIMD; unset KILN_CPU or set it to js');
      }
      return { engine: 'wasm', wasmKernels: true };
    default:
      throw new ValueError(`KILN_CPU: expected 'wasm' or 'js' (got '${asked}')`);
  }
}

function cpuChoice(): CpuChoice {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  choice ??= chooseCpuEngine(env?.KILN_CPU, wasmFeatures().simd);
  return choice;
}

/** The engine CPU tensors live on in this process. */
export function cpuEngine(): CpuEngine {
  return cpuChoice().engine;
}

/** Whether this process runs Wasm SIMD kernels (the float32 gemm on either engine, every kernel on 'wasm'). */
export function wasmKernels(): boolean {
  return cpuChoice().wasmKernels;
}
