/**
 * Compiled kernel modules, cached by their spec's key and instantiated once against the
 * heap's memory. Each gets an id, so that worker threads can instantiate the same module
 * against the same (shared) memory and be told which one to run.
 */
import { InternalError } from '../errors.js';
import { wasmApi, type WasmModule } from './api.js';
import { wasmHeap } from './memory.js';

/** A compiled module, its instance's exports on this thread, and its id for the worker pool. */
export interface WasmKernel {
  id: number;
  module: WasmModule;
  /** The export workers call. */
  entry: string;
  exports: Record<string, (...args: number[]) => void>;
}

const byKey = new Map<string, WasmKernel>();
const byId: WasmKernel[] = [];

/** The kernel for `key`, compiling `build()`'s bytes on first use. */
export function wasmKernel(key: string, entry: string, build: () => Uint8Array): WasmKernel {
  let k = byKey.get(key);
  if (k === undefined) {
    if (wasmApi === undefined) throw new InternalError('wasm kernels: this runtime has no WebAssembly');
    const module = new wasmApi.Module(build());
    const instance = new wasmApi.Instance(module, { env: { memory: wasmHeap().memory } });
    k = { id: byId.length, module, entry, exports: instance.exports as WasmKernel['exports'] };
    byKey.set(key, k);
    byId.push(k);
  }
  return k;
}

/**
 * A cache key that is a module's bytes themselves, for modules rendered per spec: members
 * of a size family with equal bytes share one compiled module (its sizes are parameters).
 */
export function moduleKey(bytes: Uint8Array): string {
  let key = 'bytes|';
  for (let i = 0; i < bytes.length; i += 4096) key += String.fromCharCode(...bytes.subarray(i, i + 4096));
  return key;
}

/** Modules compiled so far in this process. */
export function wasmModuleCount(): number {
  return byId.length;
}

/** The kernel with pool id `id`. */
export function wasmKernelById(id: number): WasmKernel | undefined {
  return byId[id];
}
