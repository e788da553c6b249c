/**
 * Which kernels of the Wasm engine get a JavaScript twin that bound launches (a lifted loop's
 * iterations, a replay's steps) call instead of the module: an elementwise map (or a merged
 * kernel of such maps) over at most SMALL_JS_ELEMENTS elements whose every node the
 * JavaScript renderer computes with the Wasm kernel's bits. Calling into Wasm costs more
 * than a JavaScript loop over a few elements, and a bound JavaScript kernel can be inlined
 * into the loop that calls it: the seed loop (one-element int32 kernels) took ~60 ns an
 * iteration with Wasm kernels, ~40 ns on the JavaScript engine. An eager launch still calls
 * the module: there the JavaScript kernel's views cost more than it saves.
 *
 * Only operations whose JavaScript form gives the Wasm instruction's bits qualify (int32
 * arithmetic wraps as i32 does, comparisons give 0 or 1, integer and bool selects move
 * whole values), checked on both sides of the size bound by
 * test/compiler/wasm-small.test.ts; so one program gives the same bits at every size, and
 * jit equals eager whichever form each of their kernels takes.
 */
import type { DType } from '../../../runtime/dtype.js';
import { unreachable } from '../../../runtime/unreachable.js';
import type { ElementwisePrim } from '../../ir/primitives.js';
import type { Expr, KernelSpec, MapSpec } from '../../kernel.js';

/**
 * Maps up to this many elements get a twin. An add of [16] ran its Wasm kernel in ~6 ns and
 * its JavaScript kernel over the memory in ~12 ns (Node 20), so only the smallest switch.
 */
export const SMALL_JS_ELEMENTS = 4;

const INT: readonly DType[] = ['int32'];
const BOOL: readonly DType[] = ['bool'];
const NONE: readonly DType[] = [];

/**
 * Per primitive, the operand dtypes whose JavaScript rendering gives the Wasm kernel's bits.
 * No float arithmetic: JavaScript computes float32 through float64, and NaN bits then part
 * from Wasm's (measured in Node 20: a signalling NaN comes back quiet from a copy, neg, abs or
 * select; add and mul of two NaNs returned the second one's payload, Wasm the first's;
 * Math.max of two NaNs a negative NaN). Float comparisons give only 0 or 1.
 */
export const smallJsPrims: { [P in ElementwisePrim]: readonly DType[] } = {
  copy: ['int32', 'uint8', 'bool'],
  neg: INT, add: INT, sub: INT, mul: INT, maximum: INT, minimum: INT,
  lt: ['float32', 'int32'], le: ['float32', 'int32'], eq: ['float32', 'int32'], ne: ['float32', 'int32'],
  where: ['int32', 'bool'],
  not: BOOL, and: BOOL, or: BOOL,
  abs: NONE, div: NONE, sqrt: NONE, sign: NONE, recip: NONE, exp: NONE, log: NONE, log1p: NONE, expm1: NONE,
  rsqrt: NONE, sin: NONE, cos: NONE, tan: NONE, tanh: NONE, erf: NONE, erfc: NONE, sigmoid: NONE, floor: NONE,
  ceil: NONE, round: NONE, isnan: NONE, pow: NONE, mod: NONE,
};

/** The dtypes a small kernel's args may have. */
const ARG_DTYPES: readonly DType[] = ['float32', 'int32', 'uint8', 'bool'];

function exactNode(e: Expr): boolean {
  switch (e.op) {
    case 'load': return true;
    case 'literal': return ARG_DTYPES.includes(e.dtype);
    case 'prim': return (smallJsPrims[e.prim as ElementwisePrim] ?? NONE).includes(e.dtype);
    case 'scalar': case 'gatherLoad': case 'position': case 'row': case 'acc': case 'scratch': case 'cast':
      return false;
    default: return unreachable(e, 'small kernels: node');
  }
}

function smallExactMap(spec: MapSpec): boolean {
  let elements = 1;
  for (const d of spec.shape) elements *= d;
  return elements <= SMALL_JS_ELEMENTS && spec.dtypes.every((d) => ARG_DTYPES.includes(d)) &&
    spec.stores.every((s) => s.scatter === undefined) && spec.body.every(exactNode);
}

/** Whether `spec` is tiny and its JavaScript kernel computes the Wasm kernel's bits. */
export function smallExact(spec: KernelSpec): boolean {
  switch (spec.kind) {
    case 'map': return smallExactMap(spec);
    case 'multi': return spec.parts.every((p) => p.spec.kind === 'map' && smallExactMap(p.spec));
    case 'reduce': case 'row': case 'matmul': case 'random': case 'loop': return false;
    default: return unreachable(spec, 'small kernels: spec');
  }
}
