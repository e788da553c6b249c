/**
 * Which engine runs CPU kernels: WebAssembly (SIMD128 kernels kiln emits) where the
 * runtime has SIMD, else the JavaScript engine (generated JS loops), which is also the
 * reference. KILN_CPU=js or KILN_CPU=wasm chooses; the choice is made once per process, so
 * eager ops and compiled graphs always run the same kernels.
 */
import { DeviceError, ValueError } from '../errors.js';
import { wasmFeatures } from './features.js';

export type CpuEngine = 'wasm' | 'js';

let engine: CpuEngine | undefined;

/** The engine that KILN_CPU's value `asked` selects, given whether WebAssembly SIMD exists. */
export function chooseCpuEngine(asked: string | undefined, simd: boolean): CpuEngine {
  switch (asked) {
    case undefined:
    case '':
      return simd ? 'wasm' : 'js';
    case 'js':
      return 'js';
    case 'wasm':
      if (!simd) {
        throw new DeviceError('KILN_CPU=wasm: this runtime has no WebAssembly SIMD; unset KILN_CPU or set it to js');
      }
      return 'wasm';
    default:
      throw new ValueError(`KILN_CPU: expected 'wasm' or 'js' (got '${asked}')`);
  }
}

/** The CPU engine of this process, chosen once. */
export function cpuEngine(): CpuEngine {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  engine ??= chooseCpuEngine(env?.KILN_CPU, wasmFeatures().simd);
  return engine;
}
