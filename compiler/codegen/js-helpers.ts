/**
 * The helpers object `M` that generated JavaScript kernels receive. float32 math goes
 * through one set of functions here, so eager and jit kernels produce the same bits.
 */
import { IndexRangeError, JitError } from '../../runtime/errors.js';
import { floatToHalf, halfToFloat, roundToHalf } from '../../runtime/half.js';
import { fillUniform } from '../random/philox.js';
import { f32Math } from '../scalar/f32-math.js';
import { erf64, erfc64, mod, powC, powInt32, roundHalfEven, sigmoid64 } from '../scalar/f64-math.js';

function indexRangeError(op: string, i: number, size: number): IndexRangeError {
  return new IndexRangeError(op, i, size);
}

/** Thrown from generated gather loops: names the bad index and the valid range. */
function indexError(i: number, size: number): never {
  throw indexRangeError('gather', i, size);
}

/** Thrown from generated scatter stores, so the error names the op the user called. */
function scatterIndexError(i: number, size: number): never {
  throw indexRangeError('scatterAdd', i, size);
}

/** Thrown when a loop kernel reaches its iteration cap (CPU and WebGPU say the same). */
function loopCapError(cap: number): never {
  throw new JitError(`jit loop: a lifted loop ran ${cap} iterations in one kernel without its condition turning false, `
    + 'and was stopped there rather than hang the device; check that the loop ends');
}

/** Helpers visible to generated JS as `M`. */
export const jsHelpers = {
  ...f32Math,
  tan: (x: number) => Math.fround(Math.tan(x)),
  // The float64 erfc is within 2e-14 relative, so rounding it is the float32 erfc but for
  // the rare double-rounding tie; it sums up to 300 fraction terms, so no table kernel pays.
  erfc: (x: number) => Math.fround(erfc64(x)),
  exp64: Math.exp,
  log64: Math.log,
  log1p64: Math.log1p,
  expm164: Math.expm1,
  sin64: Math.sin,
  cos64: Math.cos,
  tan64: Math.tan,
  tanh64: Math.tanh,
  erf64,
  erfc64,
  sigmoid64,
  roundHalfEven,
  mod,
  powC,
  // pow of float32 (and float16) operands: kiln's float64 pow, rounded by the kernel; the Wasm
  // engine's JavaScript kernels put its float32 pow here (codegen/wasm/js-math.ts).
  pow: powC,
  powInt32,
  halfToFloat,
  floatToHalf,
  roundToHalf,
  indexError,
  scatterIndexError,
  loopCapError,
  fillUniform,
} as const;

/** The name of a helper of {@link jsHelpers}. */
export type JsHelper = keyof typeof jsHelpers;

/**
 * Each helper as generated code calls it (`M.erf`), keyed by its name: renderers write
 * `${M.erf}(x)`, so a helper that does not exist fails to compile instead of failing when a
 * kernel first runs.
 */
export const M = Object.fromEntries(Object.keys(jsHelpers).map((k) => [k, `M.${k}`])) as {
  readonly [K in JsHelper]: `M.${K}`;
};
