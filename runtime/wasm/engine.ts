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

/** The CPU engine of this process. */
export function cpuEngine(): CpuEngine {
  if (engine !== undefined) return engine;
  const asked = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.KILN_CPU;
  const simd = wasmFeatures().simd;
  switch (asked) {
    case undefined:
    case '':
      return (engine = simd ? 'wasm' : 'js');
    case 'js':
      return (engine = 'js');
    case 'wasm':
      if (!simd) throw new DeviceError('KILN_CPU=wasm: this runtime has no WebAssembly SIMD; unset KILN_CPU or set it to js');
      return (engine = 'wasm');
    default:
      throw new ValueError(`KILN_CPU: expected 'wasm' or 'js' (got '${asked}')`);
  }
}
