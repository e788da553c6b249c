/**
 * Which engine holds CPU tensors and runs their kernels, chosen once per process so eager
 * ops and compiled graphs always run the same kernels:
 *
 * - 'wasm' (the default where WebAssembly SIMD exists): tensors live in one WebAssembly
 *   memory and every kernel kiln can emit as Wasm runs there (SIMD128, split over worker
 *   threads). dispose() and tidy() give a buffer back at once; a tensor dropped without them
 *   is spilled to the JavaScript heap when the memory fills (./residency.ts), so the
 *   collector frees it as a synchronous loop runs (an eager MLP training loop that never
 *   disposes kept the memory at 128 MiB over 2,000 steps, bench/eager-reclaim.ts).
 * - 'js' (KILN_CPU=js, and the fallback where SIMD is missing): tensors are typed arrays and
 *   kernels generated JavaScript loops, the reference, with no Wasm kernel at all.
 *
 * The default flipped to 'wasm' once training ran faster there (an MNIST CNN epoch, the MLP
 * step in 0.21× the JavaScript engine's time) while small eager ops still cost a little
 * more (add [16] + dispose 1.14×, bench/cpu-engines.ts).
 */
import { DeviceError, ValueError } from '../errors.js';
import { wasmFeatures } from './features.js';

export type CpuEngine = 'wasm' | 'js';

/** The engine of CPU tensors, whether Wasm SIMD kernels (and the worker pool) run, and why. */
export interface CpuChoice {
  engine: CpuEngine;
  wasmKernels: boolean;
  /** Why this engine runs, in words a person can act on. */
  reason: string;
}

let choice: CpuChoice | undefined;

/** What KILN_CPU's value `asked` selects, given whether WebAssembly SIMD exists. */
export function chooseCpuEngine(asked: string | undefined, simd: boolean): CpuChoice {
  switch (asked) {
    case undefined:
    case '':
      return simd
        ? { engine: 'wasm', wasmKernels: true, reason: 'the default: this runtime has WebAssembly SIMD' }
        : {
          engine: 'js', wasmKernels: false,
          reason: 'the fallback: this runtime has no WebAssembly SIMD, so kernels run as JavaScript loops',
        };
    case 'js':
      return { engine: 'js', wasmKernels: false, reason: 'KILN_CPU=js: the reference engine, JavaScript loops only' };
    case 'wasm':
      if (!simd) {
        throw new DeviceError('KILN_CPU=wasm: this runtime has no WebAssembly SIMD; unset KILN_CPU or set it to js');
      }
      return { engine: 'wasm', wasmKernels: true, reason: 'KILN_CPU=wasm' };
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

/** Whether this process runs Wasm SIMD kernels (every CPU kernel on the 'wasm' engine, none on 'js'). */
export function wasmKernels(): boolean {
  return cpuChoice().wasmKernels;
}

/** Which engine runs CPU tensors in this process, and why (KILN_CPU, or whether WebAssembly SIMD exists). */
export function cpuEngineInfo(): Readonly<CpuChoice> {
  return { ...cpuChoice() };
}
