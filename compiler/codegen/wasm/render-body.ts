/**
 * A kernel body (the per-element expression DAG of a kernel spec) as Wasm: which bodies the
 * renderer can express, each node's dtype, and the code computing every node into a local,
 * one element at a time (scalar) or four consecutive elements at a time (f32x4 / i32x4).
 */
import type { DType } from '../../../runtime/dtype.js';
import { InternalError } from '../../../runtime/errors.js';
import { unreachable } from '../../../runtime/unreachable.js';
import { isElementwisePrim, primitiveRules } from '../../ir/primitives.js';
import type { Expr } from '../../kernel.js';
import type { Code } from './encoder.js';
import type { WasmMath } from './math.js';
import type { MemoryOp, ValType } from './opcodes.js';
import { wasmPrims, type LaneDType } from './render-prims.js';
import { indexedAddress, type IndexSites } from './render-index.js';
import { constantSizes, type KernelSizes } from './render-sizes.js';

/** In a row kernel, the dtypes of its row values and scratch rows. */
export interface RowContext {
  row: (index: number) => DType;
  scratch: (index: number) => DType;
}

/** The dtype of every node of `body`, given the dtypes of the args (and of row values and scratch in a row kernel). */
export function nodeDtypes(body: readonly Expr[], argDtypes: readonly DType[], rows?: RowContext): DType[] {
  const out: DType[] = [];
  for (const e of body) {
    switch (e.op) {
      case 'load': case 'gatherLoad': out.push(argDtypes[e.arg]!); break;
      case 'literal': case 'scalar': out.push(e.dtype); break;
      case 'position': out.push('int32'); break;
      case 'prim': {
        const rule = primitiveRules[e.prim];
        out.push('result' in rule && typeof rule.result === 'string' ? rule.result : e.dtype);
        break;
      }
      case 'cast': out.push(e.to); break;
      case 'row': out.push(rows?.row(e.index) ?? 'float64'); break;
      case 'scratch': out.push(rows?.scratch(e.index) ?? 'float64'); break;
      // A matmul's product has no Wasm code here (bodySupported rejects it).
      case 'acc': out.push('float32'); break;
      default: unreachable(e, 'wasm body: node');
    }
  }
  return out;
}

function isLane(dtype: DType): dtype is LaneDType {
  return dtype === 'float32' || dtype === 'int32' || dtype === 'bool';
}

/** Whether a cast has Wasm code (scalar, or four lanes with `vector`); float-to-integer casts only one at a time. */
function castSupported(from: DType, to: DType, vector: boolean): boolean {
  if (from === to) return true;
  if (vector) {
    if (!isLane(from) || !isLane(to)) return false;
    return to === 'bool' || (to === 'float32' && from !== 'float32') || (to === 'int32' && from === 'bool');
  }
  switch (to) {
    case 'float32': case 'float64': case 'bool': return true;
    case 'int32': case 'uint8': return from !== 'float16';
    case 'float16': return false;
  }
}

/**
 * Whether every node of `body` has Wasm code: scalar, or four lanes with `vector`, where
 * `vectorArg` says which args have a lane-wise load (stride 1 or 0, 32-bit elements).
 * Gathers (by int32 indices, one element at a time) only where the kernel checks `indexed` sites.
 */
export function bodySupported(
  body: readonly Expr[], argDtypes: readonly DType[], vector: boolean, vectorArg: (arg: number) => boolean,
  rows?: RowContext, indexed = false,
): boolean {
  const dtypes = nodeDtypes(body, argDtypes, rows);
  return body.every((e, i) => {
    if (vector && !isLane(dtypes[i]!)) return false;
    switch (e.op) {
      case 'load': return !vector || vectorArg(e.arg);
      case 'literal': return true;
      // Scalar arguments arrive as float64; converting one to an integer as JavaScript does is left to JavaScript.
      case 'scalar': return e.dtype === 'float32' || e.dtype === 'float64' || e.dtype === 'bool';
      case 'position': return !vector;
      case 'prim': {
        if (!isElementwisePrim(e.prim)) return false;
        const code = wasmPrims[e.prim];
        const operand: DType = e.dtype;
        return code !== null && (vector ? (code.vector as readonly DType[]).includes(operand) : code.scalar.includes(operand));
      }
      case 'cast': return castSupported(e.from, e.to, vector);
      case 'row': return rows !== undefined;
      case 'scratch': return rows !== undefined;
      case 'gatherLoad': return indexed && !vector && dtypes[e.index] === 'int32';
      case 'acc': return false;
      default: return unreachable(e, 'wasm body: node');
    }
  });
}

/** The Wasm value type holding one element of `dtype`. */
export function valType(dtype: DType): ValType {
  return dtype === 'float32' ? 'f32' : dtype === 'float64' ? 'f64' : 'i32';
}

/** The scalar load of an element of `dtype`. */
export function loadOp(dtype: DType): MemoryOp {
  switch (dtype) {
    case 'float32': return 'f32.load';
    case 'float64': return 'f64.load';
    case 'int32': return 'i32.load';
    case 'uint8': case 'bool': return 'i32.load8_u';
    case 'float16': throw new InternalError('wasm render: float16 kernels run as JavaScript');
  }
}

/** The scalar store of an element of `dtype`. */
export function storeOp(dtype: DType): MemoryOp {
  switch (dtype) {
    case 'float32': return 'f32.store';
    case 'float64': return 'f64.store';
    case 'int32': return 'i32.store';
    case 'uint8': case 'bool': return 'i32.store8';
    case 'float16': throw new InternalError('wasm render: float16 kernels run as JavaScript');
  }
}

/** Where a body runs: each arg's current byte address, the scalar parameters, the position. */
export interface BodySite {
  /** Local holding arg `arg`'s address at the current element. */
  address: (arg: number) => number;
  /** Whether arg `arg` is broadcast along the vectorised dim (one element, splatted). */
  broadcast: (arg: number) => boolean;
  /** Parameter index of scalar argument `index` (float64). */
  scalar: (index: number) => number;
  /** Local holding the position along the innermost dim. */
  position: number;
  /** The module's math functions, declared as the body's primitives call them. */
  math: WasmMath;
  /** In a row kernel: the local holding row value `index`. */
  row?: (index: number) => number;
  /** In a row kernel: pushes the address of scratch `index` at the current inner position. */
  scratch?: (index: number) => void;
  /** The kernel's symbolic sizes, where integer literals may be parameters (absent: every literal is a constant). */
  sizes?: KernelSizes;
  /** Where a kernel with gathers checks their indices. */
  sites?: IndexSites;
}

function castScalar(c: Code, from: DType, to: DType): void {
  if (from === to) return;
  switch (to) {
    case 'float32':
      c.op(from === 'float64' ? 'f32.demote_f64' : 'f32.convert_i32_s');
      return;
    case 'float64':
      c.op(from === 'float32' ? 'f64.promote_f32' : 'f64.convert_i32_s');
      return;
    case 'bool':
      // x !== 0 ? 1 : 0, so NaN is true.
      if (from === 'float32') c.f32(0).op('f32.ne');
      else if (from === 'float64') c.f64(0).op('f64.ne');
      else c.i32(0).op('i32.ne');
      return;
    case 'int32':
      if (from === 'float32' || from === 'float64') toInt32(c, from);
      return;
    case 'uint8':
      if (from === 'float32' || from === 'float64') toInt32(c, from);
      if (from !== 'bool' && from !== 'uint8') c.i32(255).op('i32.and');
      return;
  }
}

/**
 * JavaScript's ToInt32 of the float on the stack (`Math.trunc(x) | 0`): t = trunc(x), then
 * t - floor(t / 2^32) · 2^32, in [0, 2^32) and exact in float64 (t / 2^32 and the product
 * are exact scalings; for |t| < 2^53 the difference is of integers, and above it the two
 * terms are within a factor of two, so Sterbenz's lemma makes it exact), read as 32 bits.
 * NaN and ±Infinity give NaN there, and 0, as JavaScript's.
 */
function toInt32(c: Code, from: 'float32' | 'float64'): void {
  const t = c.local('f64');
  if (from === 'float32') c.op('f64.promote_f32');
  c.op('f64.trunc').set(t);
  c.get(t).get(t).f64(2 ** -32).op('f64.mul').op('f64.floor').f64(2 ** 32).op('f64.mul').op('f64.sub').set(t);
  c.get(t).f64(0).get(t).get(t).op('f64.eq').op('select').op('i32.trunc_f64_u');
}

function castVector(c: Code, from: DType, to: DType): void {
  if (from === to || (to === 'int32' && from === 'bool')) return;
  if (to === 'float32') {
    c.simd('f32x4.convert_i32x4_s');
    return;
  }
  c.f32x4([0, 0, 0, 0]).simd(from === 'float32' ? 'f32x4.ne' : 'i32x4.ne');
  c.i32(1).simd('i32x4.splat').simd('v128.and');
}

/** Four bools (bytes of 0 or 1) at the address on the stack as i32x4 lanes; one byte in every lane where `broadcast`. */
function boolLanes(c: Code, broadcast: boolean): void {
  if (broadcast) c.mem('i32.load8_u').simd('i32x4.splat');
  else c.simdMem('v128.load32_zero').simd('i16x8.extend_low_i8x16_u').simd('i32x4.extend_low_i16x8_u');
}

/**
 * Computes every node of `body` into a fresh local (v128 locals with `vector`); returns the
 * locals by node. Callers check bodySupported first.
 */
export function emitBody(
  c: Code, body: readonly Expr[], argDtypes: readonly DType[], site: BodySite, vector: boolean, rows?: RowContext,
): number[] {
  const dtypes = nodeDtypes(body, argDtypes, rows);
  const locals: number[] = [];
  body.forEach((e, i) => {
    const dtype = dtypes[i]!;
    switch (e.op) {
      case 'load':
        c.get(site.address(e.arg));
        if (!vector) c.mem(loadOp(dtype));
        else if (dtype === 'bool') boolLanes(c, site.broadcast(e.arg));
        else c.simdMem(site.broadcast(e.arg) ? 'v128.load32_splat' : 'v128.load');
        break;
      case 'literal': {
        const param = site.sizes?.param(e, 'value');
        if (param !== undefined) {
          // A symbolic integer literal arrives as an exact float64.
          c.get(param);
          if (dtype === 'float32') c.op('f32.demote_f64');
          else if (dtype !== 'float64') c.op('i32.trunc_f64_s');
        } else if (dtype === 'float32') c.f32(e.value);
        else if (dtype === 'float64') c.f64(e.value);
        else c.i32(e.value);
        if (vector) c.simd(dtype === 'float32' ? 'f32x4.splat' : 'i32x4.splat');
        break;
      }
      case 'scalar':
        c.get(site.scalar(e.index));
        castScalar(c, 'float64', dtype);
        if (vector) c.simd(dtype === 'float32' ? 'f32x4.splat' : 'i32x4.splat');
        break;
      case 'position': c.get(site.position); break;
      case 'prim': {
        if (!isElementwisePrim(e.prim)) throw new InternalError(`wasm body: ${e.prim} is not elementwise`);
        wasmPrims[e.prim]!.emit(c, e.args.map((a) => locals[a]!), e.dtype, vector, site.math);
        break;
      }
      case 'cast':
        c.get(locals[e.arg]!);
        if (vector) castVector(c, e.from, e.to);
        else castScalar(c, e.from, e.to);
        break;
      case 'row':
        if (site.row === undefined) throw new InternalError('wasm body: a row value outside a row kernel');
        c.get(site.row(e.index));
        if (vector) c.simd(dtype === 'float32' ? 'f32x4.splat' : 'i32x4.splat');
        break;
      case 'scratch':
        if (site.scratch === undefined) throw new InternalError('wasm body: scratch outside a row kernel');
        site.scratch(e.index);
        if (vector) c.simdMem('v128.load');
        else c.mem(loadOp(dtype));
        break;
      case 'gatherLoad': {
        if (site.sites === undefined || vector) throw new InternalError('wasm body: a gather outside a checking kernel');
        const index = c.local('i32');
        c.get(locals[e.index]!).set(index);
        const sizes = site.sizes ?? constantSizes;
        site.sites.check(c, index, sizes.dim(e, 'size'), e.size, 'gather');
        indexedAddress(c, site.address(e.arg), index, sizes.dim(e, 'stride'), dtype);
        c.mem(loadOp(dtype));
        break;
      }
      case 'acc':
        throw new InternalError('wasm body: acc has no Wasm code');
      default: unreachable(e, 'wasm body: node');
    }
    const local = c.local(vector ? 'v128' : valType(dtype));
    c.set(local);
    locals.push(local);
  });
  return locals;
}
