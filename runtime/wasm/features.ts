/**
 * What this runtime's WebAssembly can do, found by validating tiny modules (written out
 * byte by byte here, since the runtime does not depend on the compiler's encoder).
 */
import { wasmApi } from './api.js';

const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

/** () -> v128 { v128.const 0 }: validates where SIMD128 exists. */
const SIMD_PROBE = [
  ...HEADER,
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b,
  0x03, 0x02, 0x01, 0x00,
  0x0a, 0x16, 0x01, 0x14, 0x00, 0xfd, 0x0c, ...new Array<number>(16).fill(0), 0x0b,
];

/** (v128, v128, v128) -> v128 { f32x4.relaxed_madd }: validates where relaxed SIMD exists. */
const RELAXED_PROBE = [
  ...HEADER,
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b,
  0x03, 0x02, 0x01, 0x00,
  0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b,
];

function validates(bytes: readonly number[]): boolean {
  try {
    return wasmApi !== undefined && wasmApi.validate(new Uint8Array(bytes));
  } catch {
    return false;
  }
}

/**
 * Whether a shared WebAssembly.Memory can be made (and given to workers): it needs
 * SharedArrayBuffer and, in a page, cross-origin isolation.
 */
function sharedMemory(): boolean {
  if (typeof SharedArrayBuffer === 'undefined' || wasmApi === undefined) return false;
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
  if (isolated === false) return false;
  try {
    return new wasmApi.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

/** The WebAssembly features kiln's CPU kernels can use here. */
export interface WasmFeatures {
  simd: boolean;
  relaxedSimd: boolean;
  sharedMemory: boolean;
}

let detected: WasmFeatures | undefined;

/** This runtime's features, probed once. */
export function wasmFeatures(): WasmFeatures {
  detected ??= { simd: validates(SIMD_PROBE), relaxedSimd: validates(RELAXED_PROBE), sharedMemory: sharedMemory() };
  return detected;
}
