/**
 * The helpers of the JavaScript kernels the Wasm engine runs (specs its renderer has no
 * code for, and the float32 matmul's epilogue), with the float32 math functions replaced by
 * the Wasm kernels' own. Eager ops and compiled graphs run the same kernel per spec, but one
 * op may land in different kinds of kernel (an activation alone in an eager map, fused into
 * a matmul's epilogue under jit), and where the Wasm math library rounds differently from
 * the JavaScript engine's functions (exp, sigmoid, erf, erfc, tan, pow, large sin and cos,
 * each within two float32 steps) such an op would otherwise give jit other bits than eager.
 *
 * The functions come from one module of scalar exports built from math.ts (the scalar form
 * of a function is bit for bit a lane of its vector form), instantiated once on its own
 * one-page memory (the functions touch no memory).
 */
import { wasmApi } from '../../../runtime/wasm/api.js';
import { InternalError } from '../../../runtime/errors.js';
import { jsHelpers } from '../js-helpers.js';
import { ModuleBuilder } from './encoder.js';
import { WasmMath, wasmMathBinaryFns, wasmMathFns, type WasmMathBinaryFn, type WasmMathFn } from './math.js';

type Unary = (x: number) => number;
type Binary = (a: number, b: number) => number;

/** One export per math function: (f32) -> f32, and (f32, f32) -> f32 for pow. */
function mathModule(): { unary: Record<WasmMathFn, Unary>; binary: Record<WasmMathBinaryFn, Binary> } {
  if (wasmApi === undefined) throw new InternalError('wasm math helpers: this runtime has no WebAssembly');
  const module = new ModuleBuilder({ initial: 1, shared: false });
  const math = new WasmMath(module);
  for (const fn of wasmMathFns) {
    const index = math.scalar(fn);
    module.func(fn, ['f32'], ['f32'], (c) => void c.get(0).indexed('call', index));
  }
  for (const fn of wasmMathBinaryFns) {
    const index = math.scalarBinary(fn);
    module.func(fn, ['f32', 'f32'], ['f32'], (c) => void c.get(0).get(1).indexed('call', index));
  }
  const memory = new wasmApi.Memory({ initial: 1 });
  const exports = new wasmApi.Instance(new wasmApi.Module(module.encode()), { env: { memory } }).exports;
  return {
    unary: Object.fromEntries(wasmMathFns.map((fn) => [fn, exports[fn] as Unary])) as Record<WasmMathFn, Unary>,
    binary: Object.fromEntries(wasmMathBinaryFns.map((fn) => [fn, exports[fn] as Binary])) as Record<WasmMathBinaryFn, Binary>,
  };
}

let helpers: typeof jsHelpers | undefined;

/** {@link jsHelpers} with every float32 math function the Wasm kernels' own (built on first use). */
export function wasmJsHelpers(): typeof jsHelpers {
  if (helpers !== undefined) return helpers;
  const { unary, binary } = mathModule();
  helpers = { ...jsHelpers, ...unary, ...binary };
  return helpers;
}
