/**
 * The two CPU renderers side by side for tests that compare their bits: the JavaScript
 * engine's backend, and a Wasm backend that records the kind of program each spec renders
 * as (so a test can check a kernel really ran as a Wasm module).
 */
import { renderJs } from '../../../../compiler/codegen/js.js';
import { jsHelpers } from '../../../../compiler/codegen/js-helpers.js';
import { renderWasm } from '../../../../compiler/codegen/wasm/render.js';
import type { KernelSpec } from '../../../../compiler/kernel.js';
import { CpuBackend } from '../../../../runtime/cpu/backend.js';
import { WasmBackend, type WasmProgram } from '../../../../runtime/wasm/backend.js';

export function rendererPair(): {
  js: CpuBackend<KernelSpec>; wasm: WasmBackend<KernelSpec>; kinds: WasmProgram['kind'][];
} {
  const js = new CpuBackend<KernelSpec>((spec) => ({ source: renderJs(spec), helpers: jsHelpers, sizes: [] }));
  const kinds: WasmProgram['kind'][] = [];
  const wasm = new WasmBackend<KernelSpec>((spec, target) => {
    const program = renderWasm(spec, target);
    kinds.push(program.kind);
    return program;
  });
  return { js, wasm, kinds };
}
