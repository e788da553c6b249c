/**
 * The worker pool's check, run alike in a page (built by Vite, or imported as plain ESM from
 * tsc's output) and in Node: a 512×512 float32 matmul on one thread and on two, with the
 * result bits as base64. Imports are relative and nothing here needs the DOM, so one module
 * serves every way of loading it.
 */
import { cpuEngineInfo, getNumThreads, setNumThreads, tensor, type Tensor } from '../../../../src/index.js';
import { wasmFeatures } from '../../../../runtime/wasm/features.js';
import { availableThreads, threadsReady } from '../../../../runtime/wasm/threads.js';

/** What one run saw. */
export interface ThreadsReport {
  /** The engine CPU tensors ran on: the default, Wasm, in a page and in Node alike. */
  engine: string;
  isolated: boolean;
  sharedMemory: boolean;
  /** Relaxed SIMD picks the fused multiply-add gemm, so it must match for bits to match. */
  relaxedSimd: boolean;
  /** What threadsReady() resolved to with two threads asked for, and the threads a kernel could then use. */
  threads: number;
  available: number;
  asked: number;
  /** The product's float32 bits, base64, on one thread and on two. */
  one: string;
  two: string;
}

export const SIZE = 512;

/** Values exact in float32 (multiples of 1/1024) whose products still round when summed. */
function operand(seed: number): Tensor {
  const values = Float32Array.from({ length: SIZE * SIZE }, (_, i) => (((i * 7919 + seed) % 2003) - 1001) / 1024);
  return tensor(values, { shape: [SIZE, SIZE] });
}

function base64(values: Float32Array): string {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

/** The product on one thread, then on two (as many as the runtime gives). */
export async function runThreads(): Promise<ThreadsReport> {
  const a = operand(13), b = operand(101);
  setNumThreads(1);
  const one = base64(a.matmul(b).data() as Float32Array);
  setNumThreads(2);
  const threads = await threadsReady();
  const available = availableThreads();
  const two = base64(a.matmul(b).data() as Float32Array);
  return {
    engine: cpuEngineInfo().engine,
    isolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true,
    sharedMemory: wasmFeatures().sharedMemory,
    relaxedSimd: wasmFeatures().relaxedSimd,
    threads, available, asked: getNumThreads(), one, two,
  };
}
