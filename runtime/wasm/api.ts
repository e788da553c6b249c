/**
 * The parts of the WebAssembly JavaScript API kiln uses, typed here because TypeScript
 * declares WebAssembly only in its DOM library, which kiln's Node-and-browser build omits.
 */

/** A linear memory; its buffer is replaced (and, unless shared, the old one detached) when it grows. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(pages: number): number;
}

/** A compiled module: opaque, cloneable to workers. */
export interface WasmModule {
  readonly kind?: 'WebAssembly.Module';
}

interface Api {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { readonly exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
}

/** The runtime's WebAssembly object, or undefined where there is none. */
export const wasmApi: Api | undefined = (globalThis as { WebAssembly?: Api }).WebAssembly;
