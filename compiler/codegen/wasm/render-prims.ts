/**
 * Wasm renderings of the elementwise primitives, one entry per primitive, typed over all of
 * them: an entry lists the operand dtypes it has scalar code for and those it has f32x4 /
 * i32x4 code for; `null` means no Wasm code yet, and a kernel that needs it is run as
 * JavaScript (the same for eager and jit, so their results stay bitwise equal). The float32
 * math functions (exp, log, tanh, erf, sigmoid, sin, cos, pow …) come from math.ts through
 * the kernel's WasmMath (inline, or calls of functions it declares once per module); the scalar
 * form is bit for bit a lane of the vector one, so where a loop's tail starts changes nothing.
 *
 * Each rendering gives the JavaScript engine's bits. JavaScript computes a float32 op in
 * float64 and rounds the result; for + - * / and sqrt of float32 operands that double
 * rounding equals the correctly rounded float32 op (float64 carries more than 2·24 + 2
 * bits), so the native f32 instructions agree. f32.min/max propagate NaN and order -0
 * below +0, as Math.min/max do. rsqrt rounds twice in JavaScript (1 / Math.sqrt(x), then
 * Math.fround), so it is computed in float64 here too.
 */
import type { DType } from '../../../runtime/dtype.js';
import type { ElementwisePrim } from '../../ir/primitives.js';
import type { Code } from './encoder.js';
import type { WasmMath, WasmMathFn } from './math.js';
import type { PlainOp, SimdOp } from './opcodes.js';
import { emitFloat32Mod } from './render-mod.js';

/** Dtypes whose values a v128 holds as four 32-bit lanes (bool as 0 or 1 per lane). */
export type LaneDType = 'float32' | 'int32' | 'bool';

/**
 * Emits a primitive over operand locals `x` of dtype `dtype`, leaving its result on the stack;
 * `math` declares the module functions a rendering calls.
 */
export interface WasmPrimCode {
  /** Operand dtypes with scalar code. */
  scalar: readonly DType[];
  /** Operand dtypes with four-lane code. */
  vector: readonly LaneDType[];
  emit(c: Code, x: readonly number[], dtype: DType, vector: boolean, math: WasmMath): void;
}

const FLOATS: readonly DType[] = ['float32', 'float64'];
const NUMBERS: readonly DType[] = ['float32', 'float64', 'int32', 'uint8'];
const ALL: readonly DType[] = ['float32', 'float64', 'int32', 'uint8', 'bool'];

/** The scalar instruction prefix of a dtype's register type. */
function t(dtype: DType): 'f32' | 'f64' | 'i32' {
  return dtype === 'float32' ? 'f32' : dtype === 'float64' ? 'f64' : 'i32';
}

/** The scalar instruction prefix of a float dtype. */
function ft(dtype: DType): 'f32' | 'f64' {
  return dtype === 'float64' ? 'f64' : 'f32';
}

/** Pushes a 32-bit lane splat of the integer `n`. */
function splatI32(c: Code, n: number): void {
  c.i32(n).simd('i32x4.splat');
}

/** Pushes the operands, then scalar instruction `scalar` or, with `isVector`, vector instruction `vector`. */
function apply(c: Code, x: readonly number[], scalar: PlainOp, vector: SimdOp, isVector: boolean): void {
  if (isVector) lanewise(c, x, vector);
  else scalarwise(c, x, scalar);
}

function scalarwise(c: Code, x: readonly number[], op: PlainOp): void {
  for (const l of x) c.get(l);
  c.op(op);
}

function lanewise(c: Code, x: readonly number[], op: SimdOp): void {
  for (const l of x) c.get(l);
  c.simd(op);
}

/** Keeps the low 8 bits: uint8 arithmetic wraps modulo 256. */
function wrapUint8(c: Code, dtype: DType): void {
  if (dtype === 'uint8') c.i32(255).op('i32.and');
}

/** add, sub, mul: native for floats and int32, wrapped for uint8. */
function arithmetic(op: 'add' | 'sub' | 'mul'): WasmPrimCode {
  return {
    scalar: NUMBERS,
    vector: ['float32', 'int32'],
    emit(c, x, dtype, vector) {
      const lanes = dtype === 'float32' ? 'f32x4' : 'i32x4';
      apply(c, x, `${t(dtype)}.${op}`, `${lanes}.${op}`, vector);
      wrapUint8(c, dtype);
    },
  };
}

/** A comparison: bool 0 or 1 (a vector comparison gives all-ones lanes, masked to 1). */
function compare(op: 'lt' | 'le' | 'eq' | 'ne'): WasmPrimCode {
  return {
    scalar: ALL,
    vector: ['float32', 'int32', 'bool'],
    emit(c, x, dtype, vector) {
      const signed = op === 'lt' || op === 'le' ? `${op}_s` as const : op;
      if (vector) {
        lanewise(c, x, dtype === 'float32' ? `f32x4.${op}` : `i32x4.${signed}`);
        splatI32(c, 1);
        c.simd('v128.and');
      } else {
        scalarwise(c, x, dtype === 'float32' || dtype === 'float64' ? `${ft(dtype)}.${op}` : `i32.${signed}`);
      }
    },
  };
}

/** maximum / minimum: f32.max/min for floats (as Math.max/min), a select for integers. */
function extremum(op: 'max' | 'min'): WasmPrimCode {
  return {
    scalar: NUMBERS,
    vector: ['float32', 'int32'],
    emit(c, x, dtype, vector) {
      if (vector) return lanewise(c, x, dtype === 'float32' ? `f32x4.${op}` : `i32x4.${op}_s`);
      if (dtype === 'float32' || dtype === 'float64') return scalarwise(c, x, `${ft(dtype)}.${op}`);
      c.get(x[0]!).get(x[1]!).get(x[0]!).get(x[1]!).op(op === 'max' ? 'i32.gt_s' : 'i32.lt_s').op('select');
    },
  };
}

/** A float function with one instruction per width: sqrt, floor, ceil, round (ties to even). */
function floatUnary(op: 'sqrt' | 'floor' | 'ceil' | 'nearest'): WasmPrimCode {
  return {
    scalar: FLOATS,
    vector: ['float32'],
    emit: (c, x, dtype, vector) => apply(c, x, `${ft(dtype)}.${op}`, `f32x4.${op}`, vector),
  };
}

/**
 * A float32 function of math.ts: a call of its f32x4 form, or of its f32 form in a loop tail.
 * float64 operands have no Wasm code (the library computes float32 results) and run as JavaScript.
 */
function float32Math(fn: WasmMathFn): WasmPrimCode {
  return {
    scalar: ['float32'],
    vector: ['float32'],
    emit: (c, [x], _dtype, vector, math) => math.emit(c, fn, x!, vector),
  };
}

/** The Wasm code of every elementwise primitive, or null where kernels needing it run as JavaScript. */
export const wasmPrims: { [P in ElementwisePrim]: WasmPrimCode | null } = {
  copy: { scalar: ALL, vector: ['float32', 'int32', 'bool'], emit: (c, [x]) => void c.get(x!) },
  neg: {
    scalar: NUMBERS,
    vector: ['float32', 'int32'],
    emit(c, [x], dtype, vector) {
      if (vector) return void c.get(x!).simd(dtype === 'float32' ? 'f32x4.neg' : 'i32x4.neg');
      if (dtype === 'float32' || dtype === 'float64') return void c.get(x!).op(`${ft(dtype)}.neg`);
      c.i32(0).get(x!).op('i32.sub');
      wrapUint8(c, dtype);
    },
  },
  abs: {
    scalar: NUMBERS,
    vector: ['float32', 'int32'],
    emit(c, [x], dtype, vector) {
      if (vector) return void c.get(x!).simd(dtype === 'float32' ? 'f32x4.abs' : 'i32x4.abs');
      if (dtype === 'float32' || dtype === 'float64') return void c.get(x!).op(`${ft(dtype)}.abs`);
      if (dtype === 'uint8') return void c.get(x!);
      // Math.abs(x) | 0: the most negative int32 stays itself.
      c.i32(0).get(x!).op('i32.sub').get(x!).get(x!).i32(0).op('i32.lt_s').op('select');
    },
  },
  sign: {
    scalar: NUMBERS,
    vector: [],
    emit(c, [x], dtype) {
      // x > 0 ? 1 : x < 0 ? -1 : x (NaN and -0 stay themselves).
      const ty = t(dtype);
      const num = (v: number) => (ty === 'f32' ? c.f32(v) : ty === 'f64' ? c.f64(v) : c.i32(v));
      num(1);
      num(-1).get(x!).get(x!);
      num(0).op(ty === 'i32' ? 'i32.lt_s' : `${ty}.lt`).op('select');
      c.get(x!);
      num(0).op(ty === 'i32' ? 'i32.gt_s' : `${ty}.gt`).op('select');
    },
  },
  recip: {
    scalar: FLOATS,
    vector: ['float32'],
    emit(c, [x], dtype, vector) {
      if (vector) return void c.f32x4([1, 1, 1, 1]).get(x!).simd('f32x4.div');
      (dtype === 'float32' ? c.f32(1) : c.f64(1)).get(x!).op(`${ft(dtype)}.div`);
    },
  },
  rsqrt: {
    scalar: FLOATS,
    vector: [],
    emit(c, [x], dtype) {
      c.f64(1).get(x!);
      if (dtype === 'float32') c.op('f64.promote_f32');
      c.op('f64.sqrt').op('f64.div');
      if (dtype === 'float32') c.op('f32.demote_f64');
    },
  },
  sqrt: floatUnary('sqrt'),
  floor: floatUnary('floor'),
  ceil: floatUnary('ceil'),
  round: floatUnary('nearest'),
  exp: float32Math('exp'),
  log: float32Math('log'),
  log1p: float32Math('log1p'),
  expm1: float32Math('expm1'),
  sin: float32Math('sin'),
  cos: float32Math('cos'),
  tan: float32Math('tan'),
  tanh: float32Math('tanh'),
  erf: float32Math('erf'),
  erfc: float32Math('erfc'),
  sigmoid: float32Math('sigmoid'),
  not: {
    scalar: ['bool'],
    vector: ['bool'],
    emit(c, [x], _dtype, vector) {
      c.get(x!);
      if (vector) {
        splatI32(c, 1);
        c.simd('v128.xor');
      } else {
        c.i32(1).op('i32.xor');
      }
    },
  },
  isnan: {
    scalar: FLOATS,
    vector: ['float32'],
    emit(c, [x], dtype, vector) {
      if (!vector) return void c.get(x!).get(x!).op(`${ft(dtype)}.ne`);
      c.get(x!).get(x!).simd('f32x4.ne');
      splatI32(c, 1);
      c.simd('v128.and');
    },
  },
  add: arithmetic('add'),
  sub: arithmetic('sub'),
  mul: arithmetic('mul'),
  div: {
    scalar: FLOATS,
    vector: ['float32'],
    emit: (c, x, dtype, vector) => apply(c, x, `${ft(dtype)}.div`, 'f32x4.div', vector),
  },
  pow: {
    scalar: ['float32'],
    vector: ['float32'],
    emit(c, [a, b], _dtype, vector, math) {
      c.get(a!).get(b!).indexed('call', vector ? math.vectorBinary('pow') : math.scalarBinary('pow'));
    },
  },
  // One element at a time: the exact remainder loops a data-dependent number of times.
  mod: { scalar: ['float32'], vector: [], emit: (c, [a, b]) => emitFloat32Mod(c, a!, b!) },
  maximum: extremum('max'),
  minimum: extremum('min'),
  lt: compare('lt'),
  le: compare('le'),
  eq: compare('eq'),
  ne: compare('ne'),
  and: { scalar: ['bool'], vector: ['bool'], emit: (c, x, _d, vector) => apply(c, x, 'i32.and', 'v128.and', vector) },
  or: { scalar: ['bool'], vector: ['bool'], emit: (c, x, _d, vector) => apply(c, x, 'i32.or', 'v128.or', vector) },
  where: {
    scalar: ALL,
    vector: ['float32', 'int32', 'bool'],
    emit(c, [cond, a, b], _dtype, vector) {
      c.get(a!).get(b!).get(cond!);
      if (!vector) return void c.op('select');
      // The condition's lanes are 0 or 1: widen them to all-ones masks.
      c.f32x4([0, 0, 0, 0]).simd('i32x4.ne').simd('v128.bitselect');
    },
  },
};
